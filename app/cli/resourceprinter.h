#pragma once

#include "api/service.h"
#include "api/stream.h"
#include "api/streammessage.h"
#include "clicommandline.h"
#include "profiles/connectionprofile.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace streams {

/// Everything streams-cli writes. Results go to stdout, as aligned tables / "key  value" lines or
/// as Twilio's JSON shapes (restjson, so they match the REST API byte for byte); notices and
/// errors go to stderr. stdout is flushed after each write so a pipe sees results as they come.
class ResourcePrinter final
{
public:
    /// `baseUrl`: the REST base the resources' `url` fields are built from (no /v1).
    ResourcePrinter(CliInvocation::Output output, QString baseUrl);

    CliInvocation::Output output() const { return m_output; }

    void printServices(const QList<Service> &services) const;
    void printService(const Service &service) const;
    void printStreams(const QList<Stream> &streams) const;
    void printStream(const Stream &stream) const;
    void printProfiles(const QList<ConnectionProfile> &profiles) const;
    /// A deletion: "deleted …" in a table; nothing in JSON (the API answers 204 without a body).
    void printDeleted(const QString &what) const;
    /// A message published from the command line argument: its SID, or Twilio's message shape.
    void printPublished(const StreamMessage &message) const;
    /// A message published from NDJSON line `line`: its SID, or {"line":N,"sid":"TZ…"}.
    void printPublishedLine(qint64 line, const QString &sid) const;

    /// Bytes straight to stdout, flushed.
    static void writeOut(const QByteArray &bytes);
    /// One line to stderr, prefixed with "streams-cli: ".
    static void notice(const QString &line);

    /// Rows under a header, columns two spaces apart and as wide as their widest cell.
    static QString table(const QStringList &header, const QList<QStringList> &rows);
    /// "key  value" lines, values aligned.
    static QString keyValues(const QList<std::pair<QString, QString>> &pairs);

private:
    QString m_baseUrl;
    CliInvocation::Output m_output;
};

} // namespace streams
