# streams-cli's engine commands against the control plane (/_engine/…) of real streams-engine
# processes.
streams_add_test(cliengine SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_cliengine.cpp
    LIBRARIES streams_cli_test_support streams_test_support streams_profiles streams_api)
