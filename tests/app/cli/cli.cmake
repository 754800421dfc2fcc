# streams-cli end to end: the built binary as a real process against real streams-engine
# processes. The CLI's own path reaches the tests through STREAMS_CLI_BINARY.
add_library(streams_cli_test_support STATIC
    ${CMAKE_CURRENT_LIST_DIR}/clirunner.h ${CMAKE_CURRENT_LIST_DIR}/clirunner.cpp)
target_include_directories(streams_cli_test_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(streams_cli_test_support PUBLIC streams_test_support Qt6::Core)
target_compile_definitions(streams_cli_test_support PRIVATE
    STREAMS_CLI_BINARY="$<TARGET_FILE:streams-cli>")
add_dependencies(streams_cli_test_support streams-cli)

streams_add_test(cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_cli.cpp
    LIBRARIES streams_cli_test_support streams_test_support streams_profiles streams_api
        Qt6::Network)

# The keychain half runs under tests/support/with-keyring.sh (a throwaway gnome-keyring on a
# private D-Bus), so it is registered by hand like core/profiles/secretstore. A missing
# dbus-run-session or gnome-keyring-daemon fails it; it never skips.
qt_add_executable(tst_clikeychain ${CMAKE_CURRENT_LIST_DIR}/tst_clikeychain.cpp)
target_link_libraries(tst_clikeychain PRIVATE Qt6::Test streams_cli_test_support
    streams_test_support streams_profiles streams_api)
target_include_directories(tst_clikeychain PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
add_test(NAME app/cli/clikeychain
    COMMAND ${CMAKE_SOURCE_DIR}/tests/support/with-keyring.sh $<TARGET_FILE:tst_clikeychain>)
set_tests_properties(app/cli/clikeychain PROPERTIES
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen" LABELS "keychain" TIMEOUT 300)
