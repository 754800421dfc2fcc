# The composer: placeholder expansion, byte meter, JSON highlighter, repeat publishing and the
# widget itself (repeat publishing and the widget run a real embedded engine through
# LocalBackend; streams_engine only for EngineOptions, which LocalBackend::start takes).
streams_add_test(payloadtemplate SOURCES tst_payloadtemplate.cpp LIBRARIES streams_ui)
streams_add_test(bytemeter SOURCES tst_bytemeter.cpp LIBRARIES streams_ui)
streams_add_test(jsonhighlighter SOURCES tst_jsonhighlighter.cpp LIBRARIES streams_ui)
streams_add_test(repeatpublisher SOURCES tst_repeatpublisher.cpp
    LIBRARIES streams_ui streams_backend streams_engine)
streams_add_test(composerwidget SOURCES tst_composerwidget.cpp
    LIBRARIES streams_ui streams_backend streams_engine)
