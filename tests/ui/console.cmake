streams_add_test(consoleflow SOURCES tst_consoleflow.cpp
    LIBRARIES streams_ui streams_backend streams_test_support)
