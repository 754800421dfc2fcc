#pragma once

#include "api/apierror.h"
#include "api/page.h"
#include "api/service.h"
#include "api/stream.h"
#include "api/streammessage.h"
#include "api/validation.h"
#include "engine/clock.h"
#include "engine/credentials.h"
#include "engine/enginesnapshot.h"
#include "engine/fanouthub.h"
#include "engine/faultrules.h"
#include "engine/trafficlog.h"

#include <QHash>
#include <QLockFile>
#include <QObject>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QUrl>
#include <expected>
#include <memory>
#include <optional>

namespace streams {

class ExpiryScheduler;
class PublishLimiter;
class StreamStore;

struct EngineOptions
{
    QString dataDir;
    /// Messages per second per stream; empty = unlimited (load tests).
    std::optional<double> publishRatePerSecond = limits::kDefaultPublishRatePerSecond;
    /// Messages a subscriber may have pending before its oldest are dropped.
    qsizetype subscriberQueueCapacity = 10'000;
    /// Where TWILIO_* credentials come from.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    /// Defaults to the system clock.
    const Clock *clock = nullptr;
    /// Nothing on disk: the data lives in a private directory in RAM (/dev/shm, else
    /// $XDG_RUNTIME_DIR), removed when the engine closes. `dataDir` is ignored.
    bool inMemory = false;
    /// A snapshot (EngineSnapshot JSON) to load at start, into a data directory that holds no
    /// engine data yet.
    QString stateFile;
    /// Where the engine writes its snapshot when it closes (a temporary file renamed).
    QString exportStateOnExit;
    /// The traffic log keeps request bodies and live frames' payloads (the developer's data).
    bool trafficBodies = false;
};

/// The local Sync Streams engine: services, streams with TTL expiry, publishing with a per-stream
/// rate limit, and fan-out to subscribers. Owns its SQLite store, locked against a second engine
/// on the same data directory. Its methods are synchronous and must be called on the thread the
/// engine lives on; the hub may be used from any thread.
class Engine final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    ~Engine() override;

    static std::expected<std::unique_ptr<Engine>, QString> open(const EngineOptions &options);
    /// The PID of the engine that holds `dataDir`'s lock, if one does (0 if its lock cannot be
    /// read); nothing when there is no lock or only a crashed engine's stale one, which it
    /// removes.
    static std::optional<qint64> runningIn(const QString &dataDir);
    /// Where the engine using `dataDir` serves, as it recorded with recordListening(): nothing
    /// when no engine runs there or it listens nowhere (an engine in a test, say).
    static std::optional<QUrl> listeningIn(const QString &dataDir);
    /// Records in the data directory where the engine's server listens ("http://127.0.0.1:18080"),
    /// for `streams-engine --show-proxy-env` run from another shell; removed when the engine
    /// closes.
    void recordListening(const QUrl &url);

    const EngineCredentials &credentials() const { return m_credentials; }
    bool credentialsWereGenerated() const { return m_credentialsGenerated; }
    const QString &dataDir() const { return m_dataDir; }
    /// The engine's time: the system's (or the injected) clock plus the offset the control plane
    /// moved it by. Dates, expiries and the publish rate follow it.
    const Clock &clock() const { return *m_clock; }
    /// The clock without the offset: what access tokens, minted by real code, are checked on.
    const Clock &tokenClock() const { return m_clock->base(); }
    std::optional<double> publishRatePerSecond() const;
    FanoutHub &hub() { return m_hub; }

    std::expected<Service, ApiError> createService(const ServiceFields &fields);
    /// `id` is a service SID or unique name ("default" names the default service).
    std::expected<Service, ApiError> fetchService(QStringView id);
    std::expected<Page<Service>, ApiError> listServices(const PageRequest &request);
    std::expected<Service, ApiError> updateService(QStringView id, const ServiceFields &fields);
    std::expected<void, ApiError> deleteService(QStringView id);

    std::expected<Stream, ApiError> createStream(QStringView serviceId, const StreamCreate &create);
    /// createStream() with group commit (StreamStore::insertStreamInBatch): the stream to be,
    /// and its batch. It is stored only if, when createsSettled() reports the batch,
    /// createRefusal() has nothing to say about it; not before may it be acknowledged.
    std::expected<std::pair<Stream, quint64>, ApiError> createStreamInBatch(
        QStringView serviceId, const StreamCreate &create);
    /// Hands the open batch to the store's writer thread without waiting.
    void submitCreates();
    /// Waits until every batch is settled; createsSettled() has been emitted for each when
    /// this returns.
    void settleCreates();
    /// Emits createsSettled() for the batches settled so far, without waiting. The queued
    /// report would do it once the event loop got to it; a server calls this between the
    /// requests it reads in one pass, so that answering a create does not wait for the rest of
    /// the pass.
    void reportSettledCreates();
    /// During createsSettled(): why the create of stream `streamSid` was not stored, if it was
    /// not.
    std::optional<ApiError> createRefusal(const QString &streamSid) const;
    std::expected<Stream, ApiError> fetchStream(QStringView serviceId, QStringView streamId);
    std::expected<Page<Stream>, ApiError> listStreams(
        QStringView serviceId, const PageRequest &request);
    /// Sets a new expiry from now (0 = never expires).
    std::expected<Stream, ApiError> updateStream(
        QStringView serviceId, QStringView streamId, std::optional<qint64> ttlSeconds);
    std::expected<void, ApiError> deleteStream(QStringView serviceId, QStringView streamId);

    /// Validates `data` (54008/54006), applies the rate limit (54009) and fans the message out.
    std::expected<StreamMessage, ApiError> publish(
        QStringView serviceId, QStringView streamId, QByteArrayView data);
    std::expected<StreamMessage, ApiError> publish(
        QStringView serviceId, QStringView streamId, const validation::MessagePayload &payload);

    std::expected<std::shared_ptr<Subscription>, ApiError> subscribe(QStringView serviceId,
        QStringView streamId, std::function<void()> wake, qsizetype queueCapacity = 0);

    /// Changes with every service or stream created, updated or removed (expiry included): two
    /// list requests made with the same generation, in the same second, read the same rows.
    quint64 listGeneration() const { return m_listGeneration; }

    /// Moves the engine's clock forward by `ms` (never back) and expires, at once, every stream
    /// whose TTL has run out by the new time; returns how many expired.
    qsizetype advanceClock(qint64 ms);
    qint64 clockOffsetMs() const { return m_clock->offsetMs(); }

    /// Every service and stream, as a snapshot.
    std::expected<EngineSnapshot, ApiError> exportState();
    /// Replaces everything with `snapshot`, atomically and durably (committed when this
    /// returns); subscribers of streams not in it are told they were removed, streams already
    /// expired by the engine's clock expire at once.
    std::expected<void, ApiError> importState(const EngineSnapshot &snapshot);
    /// The state of a first start (only the default service, a new one) and no fault rules.
    std::expected<void, ApiError> reset();
    /// The snapshot's JSON, as the control plane and --export-state-on-exit write it.
    QByteArray snapshotJson(const EngineSnapshot &snapshot) const;
    /// Writes the current snapshot to `path` (a temporary file renamed over it).
    std::expected<void, QString> writeSnapshot(const QString &path);

    FaultRules &faults() { return *m_faults; }
    /// Adds a fault rule; a `disconnect` rule closes the matching live connections now.
    FaultRule addFault(FaultRule rule);
    /// Whatever closes live connections for a `disconnect` rule (the twilsock endpoint): it
    /// closes those with a subscription the predicate (service SID, stream SID) accepts, or
    /// every connection when `everyone`, and returns how many it closed.
    using LiveDisconnector = std::function<quint64(
        const std::function<bool(const QString &, const QString &)> &accepts, bool everyone)>;
    void setLiveDisconnector(LiveDisconnector disconnector)
    {
        m_disconnector = std::move(disconnector);
    }
    /// The service and stream a request names (SIDs or unique names), each with SID and
    /// unique name when it exists, for matching fault rules.
    FaultTarget faultTarget(QStringView serviceId, QStringView streamId);
    /// What a `rest_error` fault rule answers a request (`method` on `scope`) naming this
    /// service and stream with, if one does; nothing, and no lookup, while no such rule is in
    /// force. REST and the console's own publishes (LocalBackend) ask the same question.
    std::optional<FaultRules::Refusal> restRefusal(
        QByteArrayView method, FaultScope scope, QStringView serviceId, QStringView streamId);
    TrafficLog &traffic() { return *m_traffic; }
    qsizetype serviceCount();
    qsizetype activeStreamCount();

    StreamStore &store() { return *m_store; }
    ExpiryScheduler &expiryScheduler() { return *m_expiry; }

Q_SIGNALS:
    /// Batch `batch` of createStreamInBatch() (and every one before it) is settled.
    void createsSettled(quint64 batch);
    /// A stream was deleted, expired, or went with its service.
    void streamRemoved(const QString &serviceSid, const QString &streamSid);
    /// The engine's clock was moved forward; it is now `offsetMs` ahead of its base clock.
    void clockAdvanced(qint64 offsetMs);

private:
    Engine() = default;
    std::expected<Service, ApiError> resolveService(QStringView id);
    std::expected<Stream, ApiError> resolveStream(const Service &service, QStringView streamId);
    std::expected<Service, ApiError> ensureDefaultService();
    void onStreamsRemoved(const QList<std::pair<QString, QString>> &removed);
    void onBatchSettled(
        quint64 batch, const QList<Stream> &stored, const QHash<QString, ApiError> &refused);
    /// createStream(), with the row left in the store's open batch when `batch` is given.
    std::expected<Stream, ApiError> insertNewStream(
        QStringView serviceId, const StreamCreate &create, quint64 *batch);
    void sweepIfDue();
    std::expected<void, ApiError> validate(const ServiceFields &fields) const;
    void cacheService(const Service &service);
    void cacheStream(const Stream &stream);
    void forgetStream(const QString &streamSid);
    void forgetEverything();
    std::expected<void, QString> loadStateFile(const QString &path);

    QString m_dataDir;
    std::unique_ptr<QTemporaryDir> m_memoryDir; // --in-memory: removed last
    QString m_exportOnExit;
    std::unique_ptr<QLockFile> m_lock;
    bool m_listeningRecorded = false;
    EngineCredentials m_credentials;
    bool m_credentialsGenerated = false;
    std::unique_ptr<OffsetClock> m_clock;
    qsizetype m_queueCapacity = 0;
    std::unique_ptr<FaultRules> m_faults;
    std::unique_ptr<TrafficLog> m_traffic;
    LiveDisconnector m_disconnector;
    qsizetype m_expiredInSweep = 0;
    std::unique_ptr<StreamStore> m_store;
    std::unique_ptr<PublishLimiter> m_limiter;
    std::unique_ptr<ExpiryScheduler> m_expiry;
    FanoutHub m_hub;
    quint64 m_listGeneration = 0;
    QHash<QString, ApiError> m_refusedCreates; // of the batch being reported

    // Lookups for the hot paths (fetch, publish), so they do not query SQLite each time. Every
    // change to the store is made, or settled, on the engine thread, which updates these in the
    // same place; batched creates are left out (read through on first use). Streams are
    // bounded: past the limit the cache starts over.
    static constexpr qsizetype kMaxCachedStreams = 100'000;
    QHash<QString, Service> m_servicesBySid;
    QHash<QString, QString> m_serviceSidByName;
    QHash<QString, Stream> m_streamsBySid;
    QHash<std::pair<QString, QString>, QString> m_streamSidByName; // (service, unique name)
};

} // namespace streams
