#include "ui/common/consolesettings.h"

#include <QStandardPaths>

namespace streams {

namespace {
struct Entry
{
    ConsoleSettings::Key key;
    const char *name;
    QVariant defaultValue;
};

// The one table: key, name in the file, default.
const Entry kEntries[] = {
    {ConsoleSettings::Key::MainWindowGeometry, "window/geometry", QByteArray()},
    {ConsoleSettings::Key::MainWindowState, "window/state", QByteArray()},
    {ConsoleSettings::Key::StreamPageState, "streamPage/state", QByteArray()},
    {ConsoleSettings::Key::LiveViewCapacity, "liveView/capacity",
        ConsoleSettings::kDefaultLiveViewCapacity},
    {ConsoleSettings::Key::LiveViewAutoScroll, "liveView/autoScroll", true},
    {ConsoleSettings::Key::RecentPayloads, "composer/recentPayloads", QStringList()},
    {ConsoleSettings::Key::PayloadTemplates, "composer/templates", QVariantMap()},
    {ConsoleSettings::Key::RepeatCount, "composer/repeatCount", 100},
    {ConsoleSettings::Key::RepeatRatePerSecond, "composer/repeatRate", 10.0},
    {ConsoleSettings::Key::TreeFilter, "tree/filter", QString()},
    {ConsoleSettings::Key::ChartFields, "liveView/chartFields", QVariantMap()},
};

const Entry &entry(ConsoleSettings::Key key)
{
    for (const Entry &e : kEntries) {
        if (e.key == key)
            return e;
    }
    Q_UNREACHABLE();
    return kEntries[0];
}
} // namespace

ConsoleSettings::ConsoleSettings(const QString &filePath, QObject *parent) : QObject(parent)
{
    const QString path = filePath.isEmpty()
        ? QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
            + QStringLiteral("/sync-streams-console/console.ini")
        : filePath;
    m_settings = std::make_unique<QSettings>(path, QSettings::IniFormat);
}

ConsoleSettings::~ConsoleSettings()
{
    m_settings->sync();
}

QString ConsoleSettings::keyName(Key key)
{
    return QString::fromLatin1(entry(key).name);
}

QVariant ConsoleSettings::defaultValue(Key key)
{
    return entry(key).defaultValue;
}

QVariant ConsoleSettings::value(Key key) const
{
    const Entry &e = entry(key);
    QVariant stored = m_settings->value(QString::fromLatin1(e.name), e.defaultValue);
    // INI files lose types; bring the value back to the default's type.
    if (e.defaultValue.isValid() && stored.metaType() != e.defaultValue.metaType()
        && stored.canConvert(e.defaultValue.metaType()))
        stored.convert(e.defaultValue.metaType());
    return stored;
}

void ConsoleSettings::setValue(Key key, const QVariant &value)
{
    if (this->value(key) == value)
        return;
    m_settings->setValue(QString::fromLatin1(entry(key).name), value);
    Q_EMIT changed(key);
}

QString ConsoleSettings::fileName() const
{
    return m_settings->fileName();
}

void ConsoleSettings::sync()
{
    m_settings->sync();
}

int ConsoleSettings::liveViewCapacity() const
{
    return qBound(100, value(Key::LiveViewCapacity).toInt(), 1'000'000);
}

void ConsoleSettings::setLiveViewCapacity(int capacity)
{
    setValue(Key::LiveViewCapacity, qBound(100, capacity, 1'000'000));
}

QStringList ConsoleSettings::recentPayloads() const
{
    return value(Key::RecentPayloads).toStringList();
}

void ConsoleSettings::addRecentPayload(const QString &payload)
{
    QStringList recent = recentPayloads();
    recent.removeAll(payload);
    recent.prepend(payload);
    while (recent.size() > kMaxRecentPayloads)
        recent.removeLast();
    setValue(Key::RecentPayloads, recent);
}

QVariantMap ConsoleSettings::payloadTemplates() const
{
    return value(Key::PayloadTemplates).toMap();
}

void ConsoleSettings::setPayloadTemplate(const QString &name, const QString &payload)
{
    QVariantMap templates = payloadTemplates();
    templates.insert(name, payload);
    setValue(Key::PayloadTemplates, templates);
}

void ConsoleSettings::removePayloadTemplate(const QString &name)
{
    QVariantMap templates = payloadTemplates();
    templates.remove(name);
    setValue(Key::PayloadTemplates, templates);
}

QStringList ConsoleSettings::chartFields(const QString &streamSid) const
{
    return value(Key::ChartFields).toMap().value(streamSid).toStringList();
}

void ConsoleSettings::setChartFields(const QString &streamSid, const QStringList &pointers)
{
    QVariantMap fields = value(Key::ChartFields).toMap();
    if (pointers.isEmpty())
        fields.remove(streamSid);
    else
        fields.insert(streamSid, pointers);
    setValue(Key::ChartFields, fields);
}

} // namespace streams
