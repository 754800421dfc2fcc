streams_add_test(enginemenu SOURCES tst_enginemenu.cpp
    LIBRARIES streams_ui streams_backend streams_test_support)
streams_add_test(trafficdock SOURCES tst_trafficdock.cpp
    LIBRARIES streams_ui streams_backend streams_test_support Qt6::Network)
streams_add_test(streamfaults SOURCES tst_streamfaults.cpp
    LIBRARIES streams_ui streams_backend streams_test_support Qt6::Network)
