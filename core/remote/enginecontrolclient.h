#pragma once

#include "api/apierror.h"
#include "remote/remoteendpoints.h"

#include <QByteArray>
#include <QFuture>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QUrl>
#include <expected>
#include <functional>
#include <memory>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace streams {

/// A JSON answer of the control plane: the bytes as the engine sent them (key order and number
/// spelling kept, for printing and saving) and the same parsed, for reading fields.
struct EngineReply
{
    int status = 0;
    QByteArray body;
    QJsonObject object;
};

/// A fault rule to add (POST /_engine/faults). Absent fields are left out of the request, so the
/// engine fills in its defaults (service and stream "*", probability 1, any method, …); ranges
/// are the engine's to check, and it names the field it refuses.
struct EngineFaultRule
{
    struct RestError
    {
        int status = 0; // 400..599
        std::optional<int> code; // default 20000 + status
        std::optional<QString> message;
        std::optional<double> probability;
        std::optional<qint64> count; // absent: unlimited
        std::optional<QString> method; // GET | POST | DELETE
        std::optional<QString> on; // messages | streams | services | *
    };

    std::optional<QString> service; // SID, unique name or "*"
    std::optional<QString> stream; // SID, unique name or "*"
    std::optional<double> drop;
    std::optional<int> delayMs;
    std::optional<int> jitterMs;
    std::optional<int> reorderWindow;
    std::optional<RestError> restError;
    bool disconnect = false;
    std::optional<qint64> seed;

    /// The rule as the control plane takes it.
    QJsonObject toJson() const;
};

/// The control plane of a streams-engine (`/_engine/…`): health, the state snapshot (export,
/// import, reset), the engine's clock, fault rules and the traffic log. Widget-free, so the CLI
/// and the console share it. Every call is asynchronous; the future finishes on the client's
/// thread.
///
/// HTTP Basic with the connection's credentials, as RestClient sends them (health needs none but
/// gets them anyway). Twilio error bodies become ApiError::fromJson; no answer at all (refused,
/// unreachable, reset, timeout) becomes ApiError::connectionFailed. Nothing is retried: a clock
/// advance or a snapshot import repeated by mistake would be applied twice, and the engine is
/// expected to be near (a retrying caller such as a traffic follower polls again anyway).
class EngineControlClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineControlClient)

public:
    template<typename T>
    using Result = std::expected<T, ApiError>;

    struct Options
    {
        int timeoutMs = 15000; // per request, from sending to the last byte
    };

    /// `engineBase`: scheme://host:port of the engine (any path is ignored).
    EngineControlClient(
        const QUrl &engineBase, RemoteCredentials credentials, QObject *parent = nullptr);
    EngineControlClient(const QUrl &engineBase, RemoteCredentials credentials, Options options,
        QObject *parent = nullptr);
    /// Settles every pending future with a connection failure.
    ~EngineControlClient() override;

    const QUrl &engineBase() const { return m_base; }

    /// GET /_engine/health: {"status","version","services","streams","live_connections"}.
    QFuture<Result<EngineReply>> health();

    /// GET /_engine/state: the snapshot (format 1).
    QFuture<Result<EngineReply>> exportState();
    /// PUT /_engine/state with `snapshot` as the body, sent as given: {"services","streams"}.
    QFuture<Result<EngineReply>> importState(const QByteArray &snapshot);
    /// POST /_engine/reset: back to a first start's state; {"services":1,"streams":0}.
    QFuture<Result<EngineReply>> reset();

    /// GET /_engine/clock: {"now","now_ms","offset_seconds"}.
    QFuture<Result<EngineReply>> clock();
    /// POST /_engine/clock {"advance_seconds":N}: the clock as above plus "expired_streams".
    QFuture<Result<EngineReply>> advanceClock(double seconds);

    /// GET /_engine/faults: {"faults":[rule, …]} in creation order.
    QFuture<Result<EngineReply>> listFaults();
    /// POST /_engine/faults: the created rule, with its "id".
    QFuture<Result<EngineReply>> addFault(const EngineFaultRule &rule);
    /// DELETE /_engine/faults/{id}; an unknown id is 20404.
    QFuture<Result<void>> removeFault(const QString &id);
    /// DELETE /_engine/faults: every rule.
    QFuture<Result<void>> clearFaults();

    /// GET /_engine/traffic: {"entries":[…],"last_id","dropped"}, oldest first. `after` absent:
    /// the most recent `limit` entries; `limit` absent: the engine's default (100).
    QFuture<Result<EngineReply>> traffic(
        std::optional<qint64> after = std::nullopt, std::optional<int> limit = std::nullopt);

    /// Any control-plane request: the answer of a 2xx (its body may be empty, as a 204's is),
    /// Twilio's error for any other status, or the connection failure.
    QFuture<Result<EngineReply>> request(
        const QByteArray &method, const QString &pathAndQuery, const QByteArray &body = {});

private:
    struct Call;
    using Completion = std::function<void(const Result<EngineReply> &)>;

    /// Sends one request; `done` runs once with the answer (any status, body parsed when it is
    /// a JSON object) or the connection failure.
    void send(const QByteArray &method, const QString &pathAndQuery, const QByteArray &body,
        Completion done);
    void finished(const std::shared_ptr<Call> &call, QNetworkReply *reply);
    QFuture<Result<EngineReply>> json(
        const QByteArray &method, const QString &pathAndQuery, const QByteArray &body = {});
    QFuture<Result<void>> noContent(const QByteArray &method, const QString &path);
    QString hostPort() const;

    QUrl m_base;
    RemoteCredentials m_credentials;
    Options m_options;
    QNetworkAccessManager *m_network = nullptr;
    QHash<Call *, std::shared_ptr<Call>> m_calls; // in flight
};

} // namespace streams
