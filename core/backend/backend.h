#pragma once

#include "api/apierror.h"
#include "api/page.h"
#include "api/service.h"
#include "api/stream.h"
#include "api/streammessage.h"

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <expected>
#include <memory>
#include <optional>

namespace streams {

/// A future that already holds `value` (QtFuture::makeReadyFuture is deprecated from Qt 6.6;
/// its replacement is not in 6.4).
template<typename T>
QFuture<T> readyFuture(T value)
{
    QPromise<T> promise;
    promise.start();
    promise.addResult(std::move(value));
    promise.finish();
    return promise.future();
}

class LiveSubscription;

/// What the console shows in place of a secret until asked for it.
inline constexpr QStringView kSecretMask = u"••••••••••••";

/// The one seam the console and the CLI see: a connection to a Sync Streams service, local or
/// remote. Every call is asynchronous and returns a QFuture; attach a continuation with
/// `future.then(contextObject, …)` to get the result on the context's thread. Nothing here blocks
/// the caller, and no caller ever sees SQL, sockets or protocol frames.
class Backend : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Backend)

public:
    enum class State {
        Connecting,
        Connected,
        Reconnecting,
        Disconnected,
        Failed
    };
    Q_ENUM(State)

    /// Where the connection points and who it authenticates as (no secrets).
    struct Endpoint
    {
        QString displayName;
        QString baseUrl;
        QString accountSid;
        QString apiKeySid;
        bool embedded = false;
    };

    using QObject::QObject;
    ~Backend() override;

    virtual State state() const = 0;
    virtual Endpoint endpoint() const = 0;
    /// Messages per second per stream the service allows; empty when unlimited or unknown.
    virtual std::optional<double> publishRatePerSecond() const = 0;

    virtual QFuture<ApiResult<Page<Service>>> listServices(const PageRequest &request) = 0;
    virtual QFuture<ApiResult<Service>> createService(const ServiceFields &fields) = 0;
    virtual QFuture<ApiResult<Service>> fetchService(const QString &serviceId) = 0;
    virtual QFuture<ApiResult<Service>> updateService(
        const QString &serviceId, const ServiceFields &fields) = 0;
    virtual QFuture<ApiResult<void>> deleteService(const QString &serviceId) = 0;

    virtual QFuture<ApiResult<Page<Stream>>> listStreams(
        const QString &serviceId, const PageRequest &request) = 0;
    virtual QFuture<ApiResult<Stream>> createStream(
        const QString &serviceId, const StreamCreate &create) = 0;
    virtual QFuture<ApiResult<Stream>> fetchStream(
        const QString &serviceId, const QString &streamId) = 0;
    /// A new TTL counted from now; 0 = never expires.
    virtual QFuture<ApiResult<Stream>> updateStream(
        const QString &serviceId, const QString &streamId, qint64 ttlSeconds) = 0;
    virtual QFuture<ApiResult<void>> deleteStream(
        const QString &serviceId, const QString &streamId) = 0;

    /// Publishes `data` (a JSON object's text; validated again by the service).
    virtual QFuture<ApiResult<StreamMessage>> publish(
        const QString &serviceId, const QString &streamId, const QByteArray &data) = 0;

    /// The answer of the engine's control plane to one request: a 2xx status and its JSON (empty
    /// for 204).
    struct ControlReply
    {
        int status = 0;
        QByteArray body;
    };
    /// Whether the connection reaches an engine's control plane (`/_engine/…`, docs/engine.md):
    /// the embedded engine and an engine at a URL do; Twilio's cloud does not.
    virtual bool hasControlPlane() const = 0;
    /// One control-plane request (`path` from `/_engine/`, with any query), answered the same
    /// way in process (the embedded engine) and over HTTP (an engine at a URL); any other status
    /// than 2xx is the engine's error. Without a control plane: 20404 saying why. Answers about
    /// the clock and the fault rules update clockOffsetMs() and faultMarks() on the way (the
    /// embedded engine reports both by itself).
    virtual QFuture<ApiResult<ControlReply>> control(
        const QByteArray &method, const QString &path, const QByteArray &body = {}) = 0;

    /// A fault rule in force on an engine, as the console marks the streams it touches.
    struct FaultMark
    {
        QString id;
        QString service = QStringLiteral("*"); // SID, unique name or "*"
        QString stream = QStringLiteral("*"); // SID, unique name or "*"
        QString summary; // what it does, e.g. "drop 50% · delay 200±50 ms"
    };
    /// The engine's fault rules in force when this connection last heard of them (every change
    /// on the embedded engine; every faults request this console makes of an engine at a URL).
    /// A `rest_error` rule that refused all of its `count` is no longer in force.
    QList<FaultMark> faultMarks() const { return m_faultMarks; }
    /// The rules touching `stream` (matched by SID or unique name, `*` for any) of the service
    /// `serviceUniqueName` names, if any.
    QList<FaultMark> faultsOn(const Stream &stream, const QString &serviceUniqueName = {}) const;
    /// Asks the engine for its fault rules; faultMarksChanged() follows if they changed.
    virtual void refreshFaultMarks();

    /// How far the service's clock is ahead of this machine's: an engine's clock moved on by its
    /// control plane (0 for Twilio's cloud, and until known). Expiry countdowns add it.
    virtual qint64 clockOffsetMs() const { return m_clockOffsetMs; }
    /// Asks the service where its clock is now (an engine at a URL; the embedded engine reports
    /// every change by itself); clockOffsetChanged() follows if it moved.
    virtual void refreshClockOffset() { }

    /// The shell text that sends the user's own Twilio code, unchanged, to this connection:
    /// zero-change mode's proxy and CA variables and the credentials, as `streams-engine
    /// --show-proxy-env` prints them (docs/clients.md). Made off the caller's thread: it may
    /// make the engine's certificate authority. Only the embedded engine has it here; for any
    /// other connection the future holds why not, and what to do instead.
    virtual QFuture<std::expected<QStringList, QString>> proxyEnvironment();
    /// proxyEnvironment()'s lines as a screen shows them: the secrets' values are kSecretMask.
    static QStringList maskSecrets(const QStringList &lines);

    /// Starts receiving the stream's messages. The subscription reports on the caller's thread
    /// and stops when destroyed.
    virtual std::unique_ptr<LiveSubscription> subscribe(
        const QString &serviceSid, const QString &streamSid) = 0;

Q_SIGNALS:
    void stateChanged(streams::Backend::State state);
    /// A stream went away (deleted anywhere, expired, or with its service).
    void streamRemoved(const QString &serviceSid, const QString &streamSid);
    /// clockOffsetMs() changed.
    void clockOffsetChanged(qint64 offsetMs);
    /// faultMarks() changed.
    void faultMarksChanged();

protected:
    /// Records the rules of a `GET /_engine/faults` answer.
    void noteFaultMarks(const QByteArray &answer);
    /// What a control-plane answer says about the clock and the fault rules, noted (an engine at
    /// a URL calls it for each answer, on this object's thread).
    void noteControlAnswer(
        const QByteArray &method, const QString &path, const ControlReply &reply);

    /// Records a new clock offset and says so when it changed.
    void noteClockOffset(qint64 offsetMs)
    {
        if (std::exchange(m_clockOffsetMs, offsetMs) != offsetMs)
            Q_EMIT clockOffsetChanged(offsetMs);
    }

private:
    qint64 m_clockOffsetMs = 0;
    QList<FaultMark> m_faultMarks;
};

} // namespace streams
