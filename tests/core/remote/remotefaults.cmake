# RestClient and RemoteBackend against a deliberately faulty loopback server
# (tests/reliability/faultserver.h): resets, slow and drip-fed answers, garbage, 5xx.
streams_add_test(remotefaults SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_remotefaults.cpp
    LIBRARIES streams_backend streams_remote streams_api Qt6::Network)
target_include_directories(tst_remotefaults PRIVATE ${CMAKE_SOURCE_DIR}/tests/reliability)
