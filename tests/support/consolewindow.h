#pragma once

// The console's main window as a UI test opens it (header-only: only tests that link streams_ui
// include it).

#include "backend/openconnections.h"
#include "profiles/profilestore.h"
#include "profiles/secretstore.h"
#include "quickrest.h"
#include "remote/twilsockclient.h"
#include "ui/common/consolesettings.h"
#include "ui/mainwindow.h"
#include "ui/tree/connectiontreemodel.h" // complete: the model tester takes it as a model

#include <QAbstractItemModelTester>
#include <QTest>
#include <QUuid>
#include <memory>

namespace streams::testing {

/// One test function's console: its own profiles file and settings file in a directory, a
/// keychain service of its own (so that no two tests, nor a user's console, share secrets), and a
/// MainWindow over them with a Fatal model tester on its tree, the embedded engine's connection
/// added, shown. open() in init(), close() in cleanup().
class ConsoleWindow final
{
public:
    /// Opens the stores named after the running test function and a window over them; false
    /// when the window was never exposed.
    bool open(const QString &directory, Backend *embedded, const TwilsockClient::Options &live)
    {
        const QString name = QString::fromLatin1(QTest::currentTestFunction());
        m_profilesPath = directory + u'/' + name + QStringLiteral("-profiles.ini");
        m_settingsPath = directory + u'/' + name + QStringLiteral("-console.ini");
        m_embedded = embedded;
        m_live = live;
        m_profiles = std::make_unique<ProfileStore>(m_profilesPath);
        m_secrets =
            std::make_unique<SecretStore>(QStringLiteral("sync-streams-console-test-%1")
                                              .arg(QUuid::createUuid().toString(QUuid::Id128)));
        m_settings = std::make_unique<ConsoleSettings>(m_settingsPath);
        return openWindow();
    }

    /// Closes the window and opens a new one over the same stores: the console quitting and
    /// starting again.
    bool reopen()
    {
        closeWindow();
        return openWindow();
    }

    /// The window and its tester gone, the stores kept: what the console leaves on disk at exit.
    void closeWindow()
    {
        if (m_window)
            m_window->close();
        m_tester.reset();
        m_window.reset();
        if (m_settings)
            m_settings->sync();
    }

    void close()
    {
        closeWindow();
        m_settings.reset();
        m_secrets.reset();
        m_profiles.reset();
    }

    MainWindow *window() const { return m_window.get(); }
    ProfileStore &profiles() const { return *m_profiles; }
    SecretStore &secrets() const { return *m_secrets; }
    QString profilesPath() const { return m_profilesPath; }
    QString settingsPath() const { return m_settingsPath; }

private:
    bool openWindow()
    {
        m_window = std::make_unique<MainWindow>(*m_settings);
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_window->treeModel(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        m_window->setProfileStores(*m_profiles, *m_secrets);
        m_window->openConnections()->setRemoteOptions(quickRest(), m_live);
        m_window->addConnection(m_embedded);
        m_window->show();
        return QTest::qWaitForWindowExposed(m_window.get());
    }

    Backend *m_embedded = nullptr;
    TwilsockClient::Options m_live;
    QString m_profilesPath;
    QString m_settingsPath;
    std::unique_ptr<ProfileStore> m_profiles;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<ConsoleSettings> m_settings;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

} // namespace streams::testing
