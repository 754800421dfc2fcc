streams_add_test(enginemenu SOURCES tst_enginemenu.cpp
    LIBRARIES streams_ui streams_backend streams_test_support)
