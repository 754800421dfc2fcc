#include "engine/engine.h"

#include "api/sid.h"
#include "engine/clock.h"
#include "engine/expiryscheduler.h"
#include "engine/publishlimiter.h"
#include "engine/streamstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSet>
#include <QUrl>
#include <cstring>

Q_LOGGING_CATEGORY(lcEngine, "streams.engine", QtInfoMsg)

namespace streams {

namespace {
const QString kDefaultServiceName = QStringLiteral("default");

template<typename T>
std::unexpected<ApiError> failure(const std::expected<T, ApiError> &result)
{
    return std::unexpected(result.error());
}

QList<std::pair<QString, QString>> pairs(const QList<StreamStore::RemovedStream> &removed)
{
    QList<std::pair<QString, QString>> out;
    out.reserve(removed.size());
    for (const auto &r : removed)
        out.append({r.serviceSid, r.streamSid});
    return out;
}
} // namespace

namespace {
const QString kListeningFile = QStringLiteral("engine.listening");

// A private directory in RAM for --in-memory: /dev/shm, else the user's runtime directory
// (both tmpfs on Linux).
std::unique_ptr<QTemporaryDir> memoryDirectory()
{
    QStringList places{QStringLiteral("/dev/shm")};
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty())
        places.append(runtime);
    for (const QString &place : std::as_const(places)) {
        if (!QFileInfo(place).isDir() || !QFileInfo(place).isWritable())
            continue;
        // What an engine killed with SIGKILL left: its lock is stale once its PID is gone. A
        // directory without a lock yet belongs to an engine still starting, and is left alone.
        const QDir placeDir(place);
        for (const QString &name : placeDir.entryList(
                 {QStringLiteral("streams-engine-*")}, QDir::Dirs | QDir::NoDotAndDotDot)) {
            const QString left = placeDir.filePath(name);
            if (QFileInfo::exists(left + QStringLiteral("/engine.lock"))
                && !Engine::runningIn(left))
                QDir(left).removeRecursively();
        }
        auto dir =
            std::make_unique<QTemporaryDir>(place + QStringLiteral("/streams-engine-XXXXXX"));
        if (dir->isValid())
            return dir;
    }
    return nullptr;
}
} // namespace

Engine::~Engine()
{
    // Every create answered while everything it touches is still here.
    if (m_store) {
        m_store->settleBatch();
        m_store->setBatchSettledHandler({});
        if (!m_exportOnExit.isEmpty()) {
            if (auto written = writeSnapshot(m_exportOnExit); !written)
                qCWarning(lcEngine).noquote() << QStringLiteral("cannot export the state to %1: %2")
                                                     .arg(m_exportOnExit, written.error());
            else
                qCInfo(lcEngine).noquote()
                    << QStringLiteral("state exported to %1").arg(m_exportOnExit);
        }
    }
    m_faults.reset();
    m_expiry.reset();
    m_store.reset();
    if (m_listeningRecorded)
        QFile::remove(QDir(m_dataDir).filePath(kListeningFile));
    m_lock.reset();
}

std::optional<qint64> Engine::runningIn(const QString &dataDir)
{
    const QString lockPath = QDir(dataDir).filePath(QStringLiteral("engine.lock"));
    if (!QFileInfo::exists(lockPath))
        return std::nullopt;
    QLockFile lock(lockPath);
    lock.setStaleLockTime(0); // as open() sets it: a lock whose PID is gone is stale
    if (lock.tryLock(0)) {
        lock.unlock();
        return std::nullopt;
    }
    // Held, or unreadable: either way not ours to take. 0 when the holder is not known.
    qint64 pid = 0;
    QString host, app;
    if (!lock.getLockInfo(&pid, &host, &app))
        pid = 0;
    return pid;
}

std::optional<QUrl> Engine::listeningIn(const QString &dataDir)
{
    if (!runningIn(dataDir))
        return std::nullopt;
    QFile file(QDir(dataDir).filePath(kListeningFile));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QUrl url(QString::fromUtf8(file.read(1024).trimmed()), QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != u"http" || url.host().isEmpty() || url.port() <= 0)
        return std::nullopt;
    return url;
}

void Engine::recordListening(const QUrl &url)
{
    QSaveFile file(QDir(m_dataDir).filePath(kListeningFile));
    if (file.open(QIODevice::WriteOnly) && file.write(url.toEncoded() + '\n') > 0
        && file.commit()) {
        m_listeningRecorded = true;
        return;
    }
    qCWarning(lcEngine).noquote() << QStringLiteral("cannot record the engine's address in %1: %2")
                                         .arg(file.fileName(), file.errorString());
}

std::expected<std::unique_ptr<Engine>, QString> Engine::open(const EngineOptions &options)
{
    std::unique_ptr<Engine> engine(new Engine);
    QString dataDir = options.dataDir;
    if (options.inMemory) {
        engine->m_memoryDir = memoryDirectory();
        if (!engine->m_memoryDir)
            return std::unexpected(QStringLiteral(
                "--in-memory: no directory in RAM to use (/dev/shm, $XDG_RUNTIME_DIR)"));
        dataDir = engine->m_memoryDir->path();
    }
    if (dataDir.isEmpty())
        return std::unexpected(QStringLiteral("no data directory given"));
    QDir dir(dataDir);
    if (!dir.exists() && !QDir().mkpath(dataDir))
        return std::unexpected(QStringLiteral("cannot create the data directory %1").arg(dataDir));
    // The directory holds credentials: only its owner may enter it.
    QFile::setPermissions(
        dataDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);

    engine->m_dataDir = dir.absolutePath();
    engine->m_clock =
        std::make_unique<OffsetClock>(options.clock ? *options.clock : Clock::system());
    engine->m_queueCapacity = options.subscriberQueueCapacity;
    engine->m_faults = std::make_unique<FaultRules>();
    engine->m_traffic = std::make_unique<TrafficLog>(options.trafficBodies);

    engine->m_lock = std::make_unique<QLockFile>(dir.filePath(QStringLiteral("engine.lock")));
    engine->m_lock->setStaleLockTime(0); // a crashed engine's lock is stale once its PID is gone
    if (!engine->m_lock->tryLock(0)) {
        if (engine->m_lock->error() != QLockFile::LockFailedError) {
            // Not another engine: the directory itself refuses the lock file.
            const int problem = StreamStore::writeProbe(engine->m_dataDir);
            return std::unexpected(
                QStringLiteral("the data directory %1 is not writable (%2)")
                    .arg(engine->m_dataDir,
                        problem != 0 ? QString::fromLocal8Bit(std::strerror(problem))
                                     : QStringLiteral("cannot create its lock file")));
        }
        qint64 pid = 0;
        QString host, app;
        engine->m_lock->getLockInfo(&pid, &host, &app);
        return std::unexpected(
            QStringLiteral("another engine (pid %1) is using the data directory %2")
                .arg(pid)
                .arg(engine->m_dataDir));
    }
    // A crashed engine's address, which this one may not share.
    QFile::remove(dir.filePath(kListeningFile));

    auto credentials = EngineCredentials::loadOrCreate(
        engine->m_dataDir, options.environment, &engine->m_credentialsGenerated);
    if (!credentials)
        return std::unexpected(credentials.error());
    engine->m_credentials = *credentials;

    const QString storeFile = dir.filePath(QStringLiteral("streams.sqlite"));
    const bool newStore = !QFileInfo::exists(storeFile);
    if (!options.stateFile.isEmpty() && !newStore)
        return std::unexpected(
            QStringLiteral("--state %1: the data directory %2 already holds an engine's data; "
                           "give an empty one (or --in-memory)")
                .arg(options.stateFile, engine->m_dataDir));
    auto store = StreamStore::open(storeFile);
    if (!store)
        return std::unexpected(store.error());
    engine->m_store = std::move(*store);
    engine->m_limiter = std::make_unique<PublishLimiter>(
        *engine->m_clock, options.publishRatePerSecond, limits::kPublishBurstSeconds);

    Engine *raw = engine.get();
    engine->m_store->setBatchSettledHandler([raw](const StreamStore::SettledBatch &settled) {
        raw->onBatchSettled(settled.batch, settled.stored, settled.refused);
    });
    engine->m_expiry = std::make_unique<ExpiryScheduler>(*engine->m_store, *engine->m_clock,
        [raw](const QList<StreamStore::RemovedStream> &removed) {
            raw->onStreamsRemoved(pairs(removed));
        });
    if (auto service = engine->ensureDefaultService(); !service)
        return std::unexpected(service.error().message());
    if (!options.stateFile.isEmpty()) {
        if (auto loaded = engine->loadStateFile(options.stateFile); !loaded) {
            // Nothing half-made is left behind to refuse the next start.
            engine->m_expiry.reset();
            engine->m_store.reset();
            for (const char *suffix : {"", "-wal", "-shm"})
                QFile::remove(storeFile + QLatin1StringView(suffix));
            return std::unexpected(loaded.error());
        }
    }
    engine->m_expiry->start();
    engine->m_exportOnExit = options.exportStateOnExit;
    return engine;
}

std::optional<double> Engine::publishRatePerSecond() const
{
    return m_limiter->ratePerSecond();
}

void Engine::cacheService(const Service &service)
{
    m_servicesBySid.insert(service.sid, service);
    if (!service.uniqueName.isEmpty())
        m_serviceSidByName.insert(service.uniqueName, service.sid);
}

void Engine::cacheStream(const Stream &stream)
{
    if (m_streamsBySid.size() >= kMaxCachedStreams) {
        m_streamsBySid.clear();
        m_streamSidByName.clear();
    }
    m_streamsBySid.insert(stream.sid, stream);
    if (!stream.uniqueName.isEmpty())
        m_streamSidByName.insert({stream.serviceSid, stream.uniqueName}, stream.sid);
}

void Engine::forgetStream(const QString &streamSid)
{
    const auto it = m_streamsBySid.constFind(streamSid);
    if (it == m_streamsBySid.cend())
        return;
    if (!it->uniqueName.isEmpty())
        m_streamSidByName.remove({it->serviceSid, it->uniqueName});
    m_streamsBySid.erase(it);
}

void Engine::onStreamsRemoved(const QList<std::pair<QString, QString>> &removed)
{
    ++m_listGeneration;
    m_expiredInSweep += removed.size();
    for (const auto &[serviceSid, streamSid] : removed) {
        forgetStream(streamSid);
        m_limiter->forget(streamSid);
        m_hub.removeStream(streamSid);
        Q_EMIT streamRemoved(serviceSid, streamSid);
    }
}

void Engine::sweepIfDue()
{
    // The timer normally does this; doing it here too frees an expired stream's unique name the
    // moment it expires, even if the timer has not run yet.
    const auto armed = m_expiry->armedFor();
    if (armed && *armed <= m_clock->nowSeconds())
        m_expiry->sweep();
}

std::expected<Service, ApiError> Engine::ensureDefaultService()
{
    auto found = m_store->findService(kDefaultServiceName);
    if (!found)
        return failure(found);
    if (*found)
        return **found;
    const qint64 now = m_clock->nowSeconds();
    Service service;
    service.sid = sid::generateOrdered(SidKind::Service);
    service.uniqueName = kDefaultServiceName;
    service.accountSid = m_credentials.accountSid;
    service.friendlyName = QStringLiteral("Default Service");
    service.dateCreated = service.dateUpdated = now;
    if (auto inserted = m_store->insertService(service); !inserted)
        return failure(inserted);
    ++m_listGeneration;
    cacheService(service);
    return service;
}

std::expected<Service, ApiError> Engine::resolveService(QStringView id)
{
    const QString key = id.toString();
    const QString sid = sid::isValid(id, SidKind::Service) ? key : m_serviceSidByName.value(key);
    if (const auto it = m_servicesBySid.constFind(sid); it != m_servicesBySid.cend())
        return *it;
    auto found = m_store->findService(id);
    if (!found)
        return failure(found);
    if (*found) {
        cacheService(**found);
        return **found;
    }
    // Like Twilio, addressing "default" provisions the default service if it was deleted.
    if (id == kDefaultServiceName)
        return ensureDefaultService();
    return std::unexpected(ApiError::notFound(QStringLiteral("/v1/Services/%1").arg(id)));
}

std::expected<Stream, ApiError> Engine::resolveStream(const Service &service, QStringView streamId)
{
    const qint64 now = m_clock->nowSeconds();
    const auto notFound = [&] {
        return std::unexpected(ApiError::notFound(
            QStringLiteral("/v1/Services/%1/Streams/%2").arg(service.sid).arg(streamId)));
    };
    const QString key = streamId.toString();
    const QString sid =
        sid::isValid(streamId, SidKind::Stream) ? key : m_streamSidByName.value({service.sid, key});
    if (const auto it = m_streamsBySid.constFind(sid);
        it != m_streamsBySid.cend() && it->serviceSid == service.sid) {
        // Expired is gone, even in the moment before the scheduler deletes it.
        if (it->dateExpires && *it->dateExpires <= now)
            return notFound();
        return *it;
    }
    auto found = m_store->findStream(service.sid, streamId, now);
    if (!found)
        return failure(found);
    if (!*found)
        return notFound();
    cacheStream(**found);
    return **found;
}

std::expected<void, ApiError> Engine::validate(const ServiceFields &fields) const
{
    if (fields.reachabilityDebouncingWindowMs
        && (*fields.reachabilityDebouncingWindowMs < limits::kMinDebouncingWindowMs
            || *fields.reachabilityDebouncingWindowMs > limits::kMaxDebouncingWindowMs))
        return std::unexpected(
            ApiError::invalidParameter(QStringLiteral("ReachabilityDebouncingWindow"),
                QStringLiteral("must be between %1 and %2 milliseconds")
                    .arg(limits::kMinDebouncingWindowMs)
                    .arg(limits::kMaxDebouncingWindowMs)));
    if (fields.webhookUrl && !fields.webhookUrl->isEmpty()) {
        const QUrl url(*fields.webhookUrl, QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https")
            || url.host().isEmpty())
            return std::unexpected(ApiError::invalidParameter(
                QStringLiteral("WebhookUrl"), QStringLiteral("must be an absolute http(s) URL")));
    }
    return {};
}

std::expected<Service, ApiError> Engine::createService(const ServiceFields &fields)
{
    if (auto valid = validate(fields); !valid)
        return std::unexpected(valid.error());
    const qint64 now = m_clock->nowSeconds();
    Service service;
    service.sid = sid::generateOrdered(SidKind::Service);
    service.accountSid = m_credentials.accountSid;
    service.dateCreated = service.dateUpdated = now;
    fields.applyTo(service);
    if (auto inserted = m_store->insertService(service); !inserted)
        return failure(inserted);
    ++m_listGeneration;
    cacheService(service);
    return service;
}

std::expected<Service, ApiError> Engine::fetchService(QStringView id)
{
    return resolveService(id);
}

std::expected<Page<Service>, ApiError> Engine::listServices(const PageRequest &request)
{
    return m_store->listServices(request);
}

std::expected<Service, ApiError> Engine::updateService(QStringView id, const ServiceFields &fields)
{
    if (auto valid = validate(fields); !valid)
        return std::unexpected(valid.error());
    auto service = resolveService(id);
    if (!service)
        return service;
    fields.applyTo(*service);
    service->dateUpdated = m_clock->nowSeconds();
    if (auto updated = m_store->updateService(*service); !updated)
        return failure(updated);
    ++m_listGeneration;
    cacheService(*service);
    return service;
}

std::expected<void, ApiError> Engine::deleteService(QStringView id)
{
    auto found = m_store->findService(id);
    if (!found)
        return failure(found);
    if (!*found)
        return std::unexpected(ApiError::notFound(QStringLiteral("/v1/Services/%1").arg(id)));
    auto removed = m_store->deleteService((*found)->sid);
    if (!removed)
        return failure(removed);
    m_servicesBySid.remove((*found)->sid);
    if (!(*found)->uniqueName.isEmpty())
        m_serviceSidByName.remove((*found)->uniqueName);
    onStreamsRemoved(pairs(*removed));
    return {};
}

std::expected<Stream, ApiError> Engine::createStream(
    QStringView serviceId, const StreamCreate &create)
{
    return insertNewStream(serviceId, create, nullptr);
}

std::expected<std::pair<Stream, quint64>, ApiError> Engine::createStreamInBatch(
    QStringView serviceId, const StreamCreate &create)
{
    quint64 batch = 0;
    auto stream = insertNewStream(serviceId, create, &batch);
    if (!stream)
        return std::unexpected(stream.error());
    return std::pair{std::move(*stream), batch};
}

void Engine::submitCreates()
{
    m_store->submitBatch();
}

void Engine::settleCreates()
{
    m_store->settleBatch();
}

void Engine::reportSettledCreates()
{
    m_store->deliverSettledBatches();
}

std::optional<ApiError> Engine::createRefusal(const QString &streamSid) const
{
    const auto it = m_refusedCreates.constFind(streamSid);
    return it == m_refusedCreates.cend() ? std::nullopt : std::optional<ApiError>(*it);
}

void Engine::onBatchSettled(
    quint64 batch, const QList<Stream> &stored, const QHash<QString, ApiError> &refused)
{
    // Not cached: the first fetch reads each through. Under a flood of creates, caching them
    // cost a twentieth of this thread and kept emptying the cache of the streams in use.
    for (const Stream &stream : stored) {
        if (stream.dateExpires)
            m_expiry->noteExpiry(*stream.dateExpires);
    }
    ++m_listGeneration;
    m_refusedCreates = refused;
    Q_EMIT createsSettled(batch);
    m_refusedCreates.clear();
}

std::expected<Stream, ApiError> Engine::insertNewStream(
    QStringView serviceId, const StreamCreate &create, quint64 *batch)
{
    if (create.uniqueName) {
        if (auto problem = validation::checkUniqueName(*create.uniqueName))
            return std::unexpected(*problem);
    }
    if (create.ttlSeconds
        && (*create.ttlSeconds < 0 || *create.ttlSeconds > limits::kMaxTtlSeconds))
        return std::unexpected(ApiError::invalidTtl(QString::number(*create.ttlSeconds)));
    auto service = resolveService(serviceId);
    if (!service)
        return failure(service);
    sweepIfDue();

    const qint64 now = m_clock->nowSeconds();
    Stream stream;
    stream.sid = sid::generateOrdered(SidKind::Stream);
    if (create.uniqueName)
        stream.uniqueName = *create.uniqueName;
    stream.accountSid = service->accountSid;
    stream.serviceSid = service->sid;
    stream.createdBy = create.createdBy;
    stream.dateCreated = stream.dateUpdated = now;
    if (create.ttlSeconds && *create.ttlSeconds > 0)
        stream.dateExpires = now + *create.ttlSeconds;
    if (batch) {
        // Counted in lists once its batch is stored (onBatchSettled()); never cached here.
        *batch = m_store->insertStreamInBatch(stream);
        return stream;
    }
    if (auto inserted = m_store->insertStream(stream); !inserted)
        return failure(inserted);
    ++m_listGeneration;
    cacheStream(stream);
    if (stream.dateExpires)
        m_expiry->noteExpiry(*stream.dateExpires);
    return stream;
}

std::expected<Stream, ApiError> Engine::fetchStream(QStringView serviceId, QStringView streamId)
{
    auto service = resolveService(serviceId);
    if (!service)
        return failure(service);
    return resolveStream(*service, streamId);
}

std::expected<Page<Stream>, ApiError> Engine::listStreams(
    QStringView serviceId, const PageRequest &request)
{
    auto service = resolveService(serviceId);
    if (!service)
        return failure(service);
    return m_store->listStreams(service->sid, request, m_clock->nowSeconds());
}

std::expected<Stream, ApiError> Engine::updateStream(
    QStringView serviceId, QStringView streamId, std::optional<qint64> ttlSeconds)
{
    if (!ttlSeconds)
        return std::unexpected(ApiError::noParameters());
    if (*ttlSeconds < 0 || *ttlSeconds > limits::kMaxTtlSeconds)
        return std::unexpected(ApiError::invalidTtl(QString::number(*ttlSeconds)));
    auto stream = fetchStream(serviceId, streamId);
    if (!stream)
        return stream;
    // The TTL does not slide by itself: an update sets a fresh expiry from now.
    const qint64 now = m_clock->nowSeconds();
    stream->dateUpdated = now;
    stream->dateExpires = *ttlSeconds > 0 ? std::optional<qint64>(now + *ttlSeconds) : std::nullopt;
    if (auto updated = m_store->updateStreamExpiry(stream->sid, stream->dateExpires, now); !updated)
        return failure(updated);
    ++m_listGeneration;
    cacheStream(*stream);
    if (stream->dateExpires)
        m_expiry->noteExpiry(*stream->dateExpires);
    return stream;
}

std::expected<void, ApiError> Engine::deleteStream(QStringView serviceId, QStringView streamId)
{
    auto stream = fetchStream(serviceId, streamId);
    if (!stream)
        return failure(stream);
    auto deleted = m_store->deleteStream(stream->sid);
    if (!deleted)
        return failure(deleted);
    onStreamsRemoved({{stream->serviceSid, stream->sid}});
    return {};
}

std::expected<StreamMessage, ApiError> Engine::publish(
    QStringView serviceId, QStringView streamId, QByteArrayView data)
{
    auto payload = validation::parseMessageData(data);
    if (!payload)
        return std::unexpected(payload.error().error);
    return publish(serviceId, streamId, *payload);
}

std::expected<StreamMessage, ApiError> Engine::publish(
    QStringView serviceId, QStringView streamId, const validation::MessagePayload &payload)
{
    auto stream = fetchStream(serviceId, streamId);
    if (!stream)
        return failure(stream);
    if (payload.compact.size() > limits::kMaxMessageBytes)
        return std::unexpected(ApiError::dataTooLarge(payload.compact.size()));
    if (!m_limiter->tryAcquire(stream->sid))
        return std::unexpected(ApiError::rateLimitExceeded());
    StreamMessage message{
        sid::generate(SidKind::Message), stream->serviceSid, stream->sid, payload.compact};
    if (m_faults->affectsDelivery()) {
        const FaultTarget target{stream->serviceSid,
            m_servicesBySid.value(stream->serviceSid).uniqueName, stream->sid, stream->uniqueName};
        if (m_faults->deliver(target, message, m_hub.subscribers(stream->sid)))
            return message;
    }
    m_hub.publish(message);
    return message;
}

std::expected<std::shared_ptr<Subscription>, ApiError> Engine::subscribe(QStringView serviceId,
    QStringView streamId, std::function<void()> wake, qsizetype queueCapacity)
{
    auto stream = fetchStream(serviceId, streamId);
    if (!stream)
        return failure(stream);
    return m_hub.subscribe(stream->serviceSid, stream->sid,
        queueCapacity > 0 ? queueCapacity : m_queueCapacity, std::move(wake));
}

qsizetype Engine::advanceClock(qint64 ms)
{
    m_clock->advanceMs(ms);
    m_expiredInSweep = 0;
    m_expiry->sweep();
    if (ms > 0)
        Q_EMIT clockAdvanced(m_clock->offsetMs());
    return std::exchange(m_expiredInSweep, 0);
}

std::expected<EngineSnapshot, ApiError> Engine::exportState()
{
    auto all = m_store->everything(m_clock->nowSeconds());
    if (!all)
        return failure(all);
    return EngineSnapshot{std::move(all->first), std::move(all->second)};
}

QByteArray Engine::snapshotJson(const EngineSnapshot &snapshot) const
{
    return snapshot.toJsonBytes(QStringLiteral(STREAMS_VERSION), m_clock->nowSeconds());
}

std::expected<void, QString> Engine::writeSnapshot(const QString &path)
{
    auto snapshot = exportState();
    if (!snapshot)
        return std::unexpected(snapshot.error().message());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return std::unexpected(file.errorString());
    file.write(snapshotJson(*snapshot));
    if (!file.commit())
        return std::unexpected(file.errorString());
    return {};
}

std::expected<void, QString> Engine::loadStateFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::unexpected(
            QStringLiteral("--state %1: cannot read it: %2").arg(path, file.errorString()));
    auto snapshot = EngineSnapshot::fromJsonBytes(
        file.readAll(), m_credentials.accountSid, m_clock->nowSeconds());
    if (!snapshot)
        return std::unexpected(
            QStringLiteral("--state %1: %2").arg(path, snapshot.error().message()));
    if (auto imported = importState(*snapshot); !imported)
        return std::unexpected(
            QStringLiteral("--state %1: %2").arg(path, imported.error().message()));
    return {};
}

void Engine::forgetEverything()
{
    m_servicesBySid.clear();
    m_serviceSidByName.clear();
    m_streamsBySid.clear();
    m_streamSidByName.clear();
}

std::expected<void, ApiError> Engine::importState(const EngineSnapshot &snapshot)
{
    auto removed = m_store->replaceAll(snapshot.services, snapshot.streams);
    if (!removed)
        return failure(removed);
    forgetEverything();
    QSet<QString> kept;
    for (const Stream &stream : snapshot.streams)
        kept.insert(stream.sid);
    QList<std::pair<QString, QString>> gone;
    for (const auto &stream : std::as_const(*removed)) {
        if (!kept.contains(stream.streamSid))
            gone.append({stream.serviceSid, stream.streamSid});
    }
    onStreamsRemoved(gone);
    ++m_listGeneration;
    // Expiries already due go now; the timer is armed for the next one.
    m_expiry->sweep();
    return {};
}

std::expected<void, ApiError> Engine::reset()
{
    m_faults->clear();
    if (auto imported = importState({}); !imported)
        return imported;
    if (auto service = ensureDefaultService(); !service)
        return failure(service);
    return {};
}

FaultRule Engine::addFault(FaultRule rule)
{
    FaultRule added = m_faults->add(std::move(rule), m_clock->nowMs());
    if (added.disconnect && m_disconnector) {
        // Each subscription is matched as a publish to its stream would be: by SID or unique
        // name, of the stream and of its service.
        const quint64 closed = m_disconnector(
            [this, &added](const QString &serviceSid, const QString &streamSid) {
                return added.matches(faultTarget(serviceSid, streamSid));
            },
            added.service == u"*" && added.stream == u"*");
        m_faults->countDisconnected(added.id, closed);
        added.acted.disconnected = closed;
    }
    return added;
}

std::optional<FaultRules::Refusal> Engine::restRefusal(
    QByteArrayView method, FaultScope scope, QStringView serviceId, QStringView streamId)
{
    if (!m_faults->hasRestErrors())
        return std::nullopt;
    return m_faults->refuse(method, scope, faultTarget(serviceId, streamId));
}

FaultTarget Engine::faultTarget(QStringView serviceId, QStringView streamId)
{
    FaultTarget target;
    if (serviceId.isEmpty())
        return target;
    auto service = resolveService(serviceId);
    if (!service) {
        target.serviceSid = serviceId.toString();
        return target;
    }
    target.serviceSid = service->sid;
    target.serviceName = service->uniqueName;
    if (streamId.isEmpty())
        return target;
    auto stream = resolveStream(*service, streamId);
    if (!stream) {
        target.streamSid = streamId.toString();
        return target;
    }
    target.streamSid = stream->sid;
    target.streamName = stream->uniqueName;
    return target;
}

qsizetype Engine::serviceCount()
{
    auto count = m_store->serviceCount();
    return count ? qsizetype(*count) : 0;
}

qsizetype Engine::activeStreamCount()
{
    auto count = m_store->streamCount();
    return count ? qsizetype(*count) : 0;
}

} // namespace streams
