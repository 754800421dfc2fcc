#include "backend/backend.h"

#include "host/shellexports.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace streams {

namespace {

QString percent(double fraction)
{
    return QStringLiteral("%1%").arg(fraction * 100, 0, 'g', 3);
}

/// What a rule of `GET /_engine/faults` goes on doing, in a few words; empty when nothing (a
/// `disconnect` acts once, when added; a `rest_error` rule may have refused all of its `count`).
QString faultSummary(const QJsonObject &rule)
{
    QStringList parts;
    if (const double drop = rule.value(QLatin1StringView("drop")).toDouble(); drop > 0)
        parts << QObject::tr("drop %1").arg(percent(drop));
    const qint64 delay = rule.value(QLatin1StringView("delay_ms")).toInteger();
    const qint64 jitter = rule.value(QLatin1StringView("jitter_ms")).toInteger();
    if (delay > 0 || jitter > 0)
        parts << (jitter > 0 ? QObject::tr("delay %1±%2 ms").arg(delay).arg(jitter)
                             : QObject::tr("delay %1 ms").arg(delay));
    if (const qint64 window = rule.value(QLatin1StringView("reorder_window")).toInteger();
        window > 1)
        parts << QObject::tr("reorder %1").arg(window);
    if (const QJsonObject error = rule.value(QLatin1StringView("rest_error")).toObject();
        !error.isEmpty()) {
        const QJsonValue count = error.value(QLatin1StringView("count"));
        const qint64 refused = rule.value(QLatin1StringView("acted"))
                                   .toObject()
                                   .value(QLatin1StringView("rest_errors"))
                                   .toInteger();
        const int status = error.value(QLatin1StringView("status")).toInt();
        if (count.isDouble() && refused < count.toInteger())
            parts
                << QObject::tr("fail next %1 with %2").arg(count.toInteger() - refused).arg(status);
        else if (!count.isDouble())
            parts << QObject::tr("fail with %1 (%2)")
                         .arg(status)
                         .arg(percent(error.value(QLatin1StringView("probability")).toDouble(1)));
    }
    return parts.join(QStringLiteral(" · "));
}

bool names(const QString &pattern, const QString &sid, const QString &uniqueName)
{
    return pattern == u'*' || pattern == sid || (!uniqueName.isEmpty() && pattern == uniqueName);
}

} // namespace

Backend::~Backend() = default;

void Backend::noteControlAnswer(
    const QByteArray &method, const QString &path, const ControlReply &reply)
{
    const QString route = path.section(u'?', 0, 0);
    if (route == u"/_engine/clock") {
        // Every answer about the clock says where the engine's is.
        const QJsonObject clock = QJsonDocument::fromJson(reply.body).object();
        if (clock.contains(QLatin1StringView("now_ms")))
            noteClockOffset(
                qint64(clock.value(QLatin1StringView("offset_seconds")).toDouble() * 1000));
    } else if (route == u"/_engine/faults" && method == "GET") {
        noteFaultMarks(reply.body);
    } else if (route.startsWith(u"/_engine/faults") || route == u"/_engine/reset") {
        refreshFaultMarks(); // changed by this request
    }
}

void Backend::refreshFaultMarks()
{
    // An engine at a URL notes every control answer on its way back (noteControlAnswer).
    if (hasControlPlane())
        control("GET", QStringLiteral("/_engine/faults"));
}

void Backend::noteFaultMarks(const QByteArray &answer)
{
    QList<FaultMark> marks;
    const QJsonArray rules =
        QJsonDocument::fromJson(answer).object().value(QLatin1StringView("faults")).toArray();
    for (const QJsonValue &value : rules) {
        const QJsonObject rule = value.toObject();
        FaultMark mark;
        mark.summary = faultSummary(rule);
        if (mark.summary.isEmpty())
            continue;
        mark.id = rule.value(QLatin1StringView("id")).toString();
        mark.service = rule.value(QLatin1StringView("service")).toString(QStringLiteral("*"));
        mark.stream = rule.value(QLatin1StringView("stream")).toString(QStringLiteral("*"));
        marks.append(mark);
    }
    const auto same = [](const FaultMark &a, const FaultMark &b) {
        return a.id == b.id && a.summary == b.summary;
    };
    if (!std::equal(marks.begin(), marks.end(), m_faultMarks.begin(), m_faultMarks.end(), same)) {
        m_faultMarks = std::move(marks);
        Q_EMIT faultMarksChanged();
    }
}

QList<Backend::FaultMark> Backend::faultsOn(
    const Stream &stream, const QString &serviceUniqueName) const
{
    QList<FaultMark> on;
    for (const FaultMark &mark : m_faultMarks) {
        if (names(mark.service, stream.serviceSid, serviceUniqueName)
            && names(mark.stream, stream.sid, stream.uniqueName))
            on.append(mark);
    }
    return on;
}

QStringList Backend::maskSecrets(const QStringList &lines)
{
    QStringList shown;
    shown.reserve(lines.size());
    for (const QString &line : lines)
        shown.append(ShellExports::masked(line, kSecretMask));
    return shown;
}

QFuture<std::expected<QStringList, QString>> Backend::proxyEnvironment()
{
    const Endpoint where = endpoint();
    const QString reason = hasControlPlane()
        ? tr("The engine at %1 runs outside this console, so its certificate authority is on "
             "its machine. There, in the shell that runs your code:\n\n"
             "    eval \"$(streams-engine --show-proxy-env --data-dir DIR)\"\n\n"
             "with the engine's data directory (docs/clients.md).")
              .arg(where.baseUrl)
        : tr("This connection is Twilio's cloud (%1): your code reaches it as it is, with no "
             "proxy. Give it the account's credentials, e.g. TWILIO_ACCOUNT_SID and "
             "TWILIO_AUTH_TOKEN (or an API key and secret).")
              .arg(where.baseUrl);
    return readyFuture(std::expected<QStringList, QString>(std::unexpected(reason)));
}

} // namespace streams
