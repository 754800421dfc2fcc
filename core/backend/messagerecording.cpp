#include "backend/messagerecording.h"

#include "api/rawjson.h"
#include "api/validation.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QtConcurrent/QtConcurrentRun>

namespace streams {

namespace {

// Column of a byte offset in a one-line text, counted in characters as editors do.
int columnAt(QByteArrayView line, qsizetype offset)
{
    return validation::lineAndColumn(line, offset).second;
}

std::expected<MessageRecording::Record, MessageRecording::Problem> parseLine(
    qint64 number, QByteArrayView line)
{
    using Problem = MessageRecording::Problem;
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const qsizetype offset = qBound(qsizetype(0), qsizetype(parseError.offset), line.size());
        return std::unexpected(Problem{number, columnAt(line, offset), parseError.errorString()});
    }
    if (!document.isObject())
        return std::unexpected(Problem{number, 0, QStringLiteral("not a JSON object")});
    const QJsonObject object = document.object();
    if (!object.contains(QLatin1StringView("data")))
        return std::unexpected(Problem{number, 0, QStringLiteral("no \"data\" member")});

    if (!object.value(QLatin1StringView("data")).isObject())
        return std::unexpected(
            Problem{number, 0, QStringLiteral("\"data\" must be a JSON object")});

    // The data as written, so its key order and number spelling survive; a key spelled with
    // escapes falls back to the parsed value. parseMessageData() then applies the service's own
    // rules (strict JSON, 4 KiB), so a line the service would refuse is found before publishing.
    QByteArray fallback;
    const std::optional<QByteArrayView> raw = rawjson::member(line, "data");
    if (!raw)
        fallback = QJsonDocument(object.value(QLatin1StringView("data")).toObject())
                       .toJson(QJsonDocument::Compact);
    const auto payload = validation::parseMessageData(raw ? *raw : QByteArrayView(fallback));
    if (!payload) {
        const validation::JsonProblem &problem = payload.error();
        const int column = raw && problem.offset >= 0
            ? columnAt(line, (raw->data() - line.data()) + problem.offset)
            : 0;
        return std::unexpected(Problem{number, column,
            QStringLiteral("data: %1")
                .arg(problem.offset >= 0 ? problem.reason : problem.error.message())});
    }

    MessageRecording::Record record{number, -1, payload->compact};
    for (const QLatin1StringView key :
        {QLatin1StringView("received"), QLatin1StringView("received_at")}) {
        const QJsonValue value = object.value(key);
        if (value.isUndefined() || value.isNull())
            continue;
        const QDateTime when = QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
        if (!value.isString() || !when.isValid())
            return std::unexpected(Problem{number, 0,
                QStringLiteral("\"%1\" must be a UTC time such as 2024-05-01T12:00:00.123Z")
                    .arg(key)});
        record.receivedMs = when.toMSecsSinceEpoch();
        break;
    }
    return record;
}

} // namespace

QString MessageRecording::Problem::text() const
{
    if (line <= 0)
        return message;
    if (column <= 0)
        return QStringLiteral("line %1: %2").arg(line).arg(message);
    return QStringLiteral("line %1, column %2: %3").arg(line).arg(column).arg(message);
}

MessageRecording::Result MessageRecording::parse(QByteArrayView text)
{
    if (text.startsWith("\xEF\xBB\xBF"))
        text = text.sliced(3); // a UTF-8 byte order mark some editors write
    QList<Record> records;
    qint64 number = 0;
    qsizetype start = 0;
    while (start < text.size()) {
        qsizetype end = text.indexOf('\n', start);
        if (end < 0)
            end = text.size();
        ++number;
        QByteArrayView line = text.sliced(start, end - start);
        start = end + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.trimmed().isEmpty())
            continue; // blank lines separate nothing in NDJSON; not an error
        auto record = parseLine(number, line);
        if (!record)
            return std::unexpected(record.error());
        records.append(std::move(*record));
    }
    if (records.isEmpty())
        return std::unexpected(Problem{0, 0, QStringLiteral("no messages in the file")});
    return records;
}

QFuture<MessageRecording::Result> MessageRecording::read(const QString &path)
{
    return QtConcurrent::run([path]() -> Result {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return std::unexpected(Problem{0, 0, file.errorString()});
        const QByteArray all = file.readAll();
        if (file.error() != QFileDevice::NoError)
            return std::unexpected(Problem{0, 0, file.errorString()});
        return parse(all);
    });
}

} // namespace streams
