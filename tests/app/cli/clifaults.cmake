# streams-cli against a deliberately faulty loopback server (tests/reliability/faultserver.h).
streams_add_test(clifaults SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_clifaults.cpp
    LIBRARIES streams_cli_test_support streams_test_support Qt6::Network)
target_include_directories(tst_clifaults PRIVATE ${CMAKE_SOURCE_DIR}/tests/reliability)
