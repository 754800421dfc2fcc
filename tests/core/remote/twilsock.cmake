# TwilsockClient and SyncLiveChannel against real streams-engine processes (and, for what an
# engine never does, websocket servers inside the test).
streams_add_test(twilsockclient SOURCES tst_twilsockclient.cpp
    LIBRARIES streams_remote streams_twilsock streams_test_support streams_api Qt6::WebSockets)
streams_add_test(synclivechannel SOURCES tst_synclivechannel.cpp
    LIBRARIES streams_remote streams_twilsock streams_test_support streams_api)
