#include "ui/engine/trafficmodel.h"

#include <QDateTime>

namespace streams {

namespace {
QString text(const QJsonObject &entry, const char *key)
{
    return entry.value(QLatin1StringView(key)).toString();
}
} // namespace

TrafficModel::TrafficModel(qsizetype capacity, QObject *parent)
    : QAbstractTableModel(parent), m_capacity(qMax<qsizetype>(1, capacity))
{ }

void TrafficModel::append(const QList<QJsonObject> &entries)
{
    if (entries.isEmpty())
        return;
    // Only the newest `capacity` of the batch can stay.
    const qsizetype take = qMin<qsizetype>(entries.size(), m_capacity);
    const qsizetype overflow = qsizetype(m_rows.size()) + take - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, int(overflow) - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + overflow);
        endRemoveRows();
    }
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(take) - 1);
    for (qsizetype i = entries.size() - take; i < entries.size(); ++i)
        m_rows.push_back(entries.at(i));
    endInsertRows();
}

void TrafficModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

QJsonObject TrafficModel::entry(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)] : QJsonObject();
}

int TrafficModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int TrafficModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TrafficModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject &entry = m_rows[size_t(index.row())];
    switch (role) {
    case EntryRole: return entry;
    case StatusClassRole: return entry.value(QLatin1StringView("status")).toInt() / 100;
    case Qt::TextAlignmentRole:
        return index.column() == Status || index.column() == Code || index.column() == Duration
            ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
            : QVariant();
    case Qt::DisplayRole: break;
    default: return {};
    }
    switch (Column(index.column())) {
    case Time: {
        const QDateTime time = QDateTime::fromString(text(entry, "time"), Qt::ISODateWithMs);
        return time.isValid() ? time.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"))
                              : text(entry, "time");
    }
    case Kind: return text(entry, "kind");
    case Who: return text(entry, "who");
    case Method: return text(entry, "method");
    case Path: return text(entry, "path");
    case Status: return entry.value(QLatin1StringView("status")).toInt();
    case Code: {
        const QJsonValue code = entry.value(QLatin1StringView("code"));
        return code.isNull() || code.isUndefined() ? QVariant() : QVariant(code.toInt());
    }
    case Duration:
        return QStringLiteral("%1 ms").arg(
            entry.value(QLatin1StringView("duration_ms")).toDouble(), 0, 'f', 2);
    case ColumnCount: break;
    }
    return {};
}

QVariant TrafficModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Time: return tr("Time");
    case Kind: return tr("Kind");
    case Who: return tr("Who");
    case Method: return tr("Method");
    case Path: return tr("Path");
    case Status: return tr("Status");
    case Code: return tr("Code");
    case Duration: return tr("Duration");
    case ColumnCount: break;
    }
    return {};
}

QString TrafficModel::curlCommand(const QJsonObject &entry, const QString &baseUrl)
{
    if (text(entry, "kind") != u"rest")
        return {};
    const QString method = text(entry, "method");
    const QString who = text(entry, "who");
    // The secret stays in the shell's environment: it is never in the log, nor in this text.
    const QString secret = who.startsWith(u"SK") ? QStringLiteral("$TWILIO_API_SECRET")
                                                 : QStringLiteral("$TWILIO_AUTH_TOKEN");
    QString command = QStringLiteral("curl -u \"%1:%2\"")
                          .arg(who.isEmpty() ? QStringLiteral("$TWILIO_ACCOUNT_SID") : who, secret);
    if (method != u"GET")
        command += QStringLiteral(" -X %1").arg(method);
    const QString body = text(entry, "body");
    if (!body.isEmpty())
        command += QStringLiteral(" --data '%1'")
                       .arg(QString(body).replace(QLatin1Char('\''), QStringLiteral("'\\''")));
    command += QStringLiteral(" '%1%2'").arg(baseUrl, text(entry, "path"));
    return command;
}

} // namespace streams
