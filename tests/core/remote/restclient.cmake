streams_add_test(restclient SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_restclient.cpp
    LIBRARIES streams_remote streams_api streams_test_support Qt6::Network)
