# Stream properties: the duration parser/formatter, the TTL editor and the properties form.
streams_add_test(durationformat SOURCES tst_durationformat.cpp LIBRARIES streams_ui)
streams_add_test(ttleditor SOURCES tst_ttleditor.cpp LIBRARIES streams_ui)
# streams_engine only for EngineOptions, which LocalBackend::start takes.
streams_add_test(streampropertieswidget SOURCES tst_streampropertieswidget.cpp
    LIBRARIES streams_ui streams_backend streams_engine)
