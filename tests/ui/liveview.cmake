# The live subscriber view: bounded batched model, filter proxy, JSON diff and the widget itself
# (the widget test runs a real embedded engine through LocalBackend).
streams_add_test(livemessagemodel SOURCES tst_livemessagemodel.cpp LIBRARIES streams_ui streams_backend)
streams_add_test(livemessagefilterproxy SOURCES tst_livemessagefilterproxy.cpp LIBRARIES streams_ui streams_backend)
streams_add_test(jsondiff SOURCES tst_jsondiff.cpp LIBRARIES streams_ui streams_backend)
streams_add_test(ndjsonexport SOURCES tst_ndjsonexport.cpp LIBRARIES streams_ui streams_backend)
streams_add_test(liveviewwidget SOURCES tst_liveviewwidget.cpp LIBRARIES streams_ui streams_backend)
