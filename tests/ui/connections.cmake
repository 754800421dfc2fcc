# Remote connections in the console: the profile editor, the connection manager, saved
# connections in the tree next to the embedded engine, and secrets that never leave the keychain.
# Each keychain-touching test runs twice: with no keychain at all (no D-Bus session bus: secrets
# held for the session, prompts say why), and under tests/support/with-keyring.sh with a
# throwaway gnome-keyring (a missing dbus-run-session or gnome-keyring-daemon fails, never skips).
set(console_keyring_wrapper ${CMAKE_SOURCE_DIR}/tests/support/with-keyring.sh)

streams_add_test(pagebanner SOURCES tst_pagebanner.cpp LIBRARIES streams_ui)
foreach(name profileeditor connectionmanager remoteconsole connectionsecrets)
    streams_add_test(${name} SOURCES tst_${name}.cpp
        LIBRARIES streams_ui streams_backend streams_profiles streams_test_support)
    add_test(NAME ui/${name}-keyring COMMAND ${console_keyring_wrapper} $<TARGET_FILE:tst_${name}>)
    set_tests_properties(ui/${name}-keyring PROPERTIES
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen" LABELS "keychain" TIMEOUT 300)
endforeach()
# The console against a misbehaving server (tests/reliability/faultserver.h).
target_include_directories(tst_remoteconsole PRIVATE ${CMAKE_SOURCE_DIR}/tests/reliability)
