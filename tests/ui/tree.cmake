streams_add_test(connectiontreemodel SOURCES tst_connectiontreemodel.cpp
    LIBRARIES streams_ui streams_backend streams_test_support)
