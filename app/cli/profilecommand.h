#pragma once

#include "clicommandline.h"
#include "clifailure.h"
#include "profiles/profileimport.h"
#include "resourceprinter.h"

#include <QObject>
#include <QProcessEnvironment>

namespace streams {

class ProfileStore;
class SecretStore;

/// `profiles list | import env | import twilio-cli [--keep-source]`. Imports put each secret
/// into the keychain and nowhere else: a profile whose secret the keychain does not take is not
/// saved (exit 3), and twilio-cli's file loses the apiSecret entries that were moved unless
/// --keep-source. Says on stdout what was imported.
class ProfileCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProfileCommand)

public:
    ProfileCommand(const ResourcePrinter &printer, CliInvocation invocation,
        const QProcessEnvironment &environment, QObject *parent = nullptr);
    ~ProfileCommand() override;

    void start();

Q_SIGNALS:
    void finished(streams::ExitCode exitCode);

private:
    struct Outcome
    {
        ImportedProfile imported;
        QString id;
        bool updated = false; // replaced a profile of the same name
        bool secretStored = false;
        QString twilioCliProfile; // the entry in twilio-cli's file, for moving its secret out
    };

    void importFrom(QList<ImportedProfile> found);
    void importNext();
    void saveProfile(Outcome outcome);
    void finishImport();
    void report();
    void fail(const CliFailure &failure);

    const ResourcePrinter &m_printer;
    const CliInvocation m_invocation;
    const QProcessEnvironment m_environment;
    ProfileStore *m_store = nullptr;
    SecretStore *m_secrets = nullptr;
    QString m_twilioCliPath;
    QList<ImportedProfile> m_queue;
    QList<Outcome> m_imported;
    QStringList m_secretsToMove; // twilio-cli profile ids whose apiSecret is in the keychain now
    ExitCode m_exitCode = ExitCode::Ok;
};

} // namespace streams
