# Connection profiles, their import, and their secrets in a real keychain.
streams_add_test(connectionprofile SOURCES tst_connectionprofile.cpp
    LIBRARIES streams_profiles streams_api)
streams_add_test(profilestore SOURCES tst_profilestore.cpp LIBRARIES streams_profiles)
streams_add_test(profileimport SOURCES tst_profileimport.cpp LIBRARIES streams_profiles)

# SecretStore needs a D-Bus session with a Secret Service, so it is built like the tests above
# but registered by hand: once under tests/support/with-keyring.sh (a throwaway gnome-keyring on
# a private bus), and twice with no keychain (no bus at all; a bus without a Secret Service).
# A missing dbus-run-session or gnome-keyring-daemon fails the first entry; it never skips.
qt_add_executable(tst_secretstore tst_secretstore.cpp)
target_link_libraries(tst_secretstore PRIVATE Qt6::Test streams_profiles)
target_include_directories(tst_secretstore PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
set(keyring_wrapper ${CMAKE_SOURCE_DIR}/tests/support/with-keyring.sh)
add_test(NAME core/profiles/secretstore
    COMMAND ${keyring_wrapper} $<TARGET_FILE:tst_secretstore>)
add_test(NAME core/profiles/secretstore-nobus COMMAND tst_secretstore)
add_test(NAME core/profiles/secretstore-nosecretservice
    COMMAND ${keyring_wrapper} --without-keyring $<TARGET_FILE:tst_secretstore>)
set_tests_properties(core/profiles/secretstore core/profiles/secretstore-nosecretservice
    PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;STREAMS_SECRETSTORE_TEST=keychain"
    LABELS "keychain" TIMEOUT 300)
set_tests_properties(core/profiles/secretstore-nosecretservice
    PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;STREAMS_SECRETSTORE_TEST=no-keychain")
# A socket path that cannot exist: the bus is unreachable, as on a headless server.
set_tests_properties(core/profiles/secretstore-nobus PROPERTIES
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;STREAMS_SECRETSTORE_TEST=no-keychain;DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/streams-test-bus;STREAMS_TEST_KEYRING="
    LABELS "keychain" TIMEOUT 300)
