# Replay NDJSON… on a stream page, against a real embedded engine (LocalBackend).
streams_add_test(replaypanel SOURCES tst_replaypanel.cpp
    LIBRARIES streams_ui streams_backend streams_test_support)
