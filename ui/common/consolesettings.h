#pragma once

#include <QObject>
#include <QSettings>
#include <QVariant>
#include <memory>

namespace streams {

/// Every persistent console setting behind one typed facade: a key enum and one table of name and
/// default, in an INI file written atomically by QSettings. Holds no secrets, ever: credentials
/// live in the OS keychain or in the engine's data directory, never here.
class ConsoleSettings final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsoleSettings)

public:
    enum class Key {
        MainWindowGeometry,
        MainWindowState,
        StreamPageState, // dock layout of a stream page, applied to new pages
        LiveViewCapacity, // messages kept per live view (ring buffer)
        LiveViewAutoScroll,
        RecentPayloads, // newest first
        PayloadTemplates, // name -> JSON text
        RepeatCount,
        RepeatRatePerSecond,
        TreeFilter,
        ChartFields, // stream SID -> JSON Pointers its live view charts
    };
    Q_ENUM(Key)

    static constexpr int kDefaultLiveViewCapacity = 10'000;
    static constexpr int kMaxRecentPayloads = 50;

    /// `filePath` empty: the per-user location (~/.config/sync-streams-console/console.ini).
    explicit ConsoleSettings(const QString &filePath = {}, QObject *parent = nullptr);
    ~ConsoleSettings() override;

    QVariant value(Key key) const;
    void setValue(Key key, const QVariant &value);
    QString fileName() const;
    void sync();

    int liveViewCapacity() const;
    void setLiveViewCapacity(int capacity);
    QStringList recentPayloads() const;
    /// Moves `payload` to the front; keeps the newest kMaxRecentPayloads.
    void addRecentPayload(const QString &payload);
    QVariantMap payloadTemplates() const;
    void setPayloadTemplate(const QString &name, const QString &payload);
    void removePayloadTemplate(const QString &name);
    /// The JSON Pointers the live view of `streamSid` charted last, in the order they were added.
    QStringList chartFields(const QString &streamSid) const;
    /// Remembers them; an empty list forgets the stream.
    void setChartFields(const QString &streamSid, const QStringList &pointers);

    static QString keyName(Key key);
    static QVariant defaultValue(Key key);

Q_SIGNALS:
    void changed(streams::ConsoleSettings::Key key);

private:
    std::unique_ptr<QSettings> m_settings;
};

} // namespace streams
