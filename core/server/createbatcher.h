#pragma once

#include "server/httpserver.h"
#include "server/restapi.h"

#include <QList>
#include <QObject>
#include <functional>

namespace streams {

class Engine;

/// Group commit for stream creates that arrive together: they join the engine's store batch
/// of the event loop pass they arrived in (Engine::createStreamInBatch), the batch is handed
/// to the store's writer thread at the end of the pass, and each 201 waits for the commit that
/// made its stream durable, and goes only if the engine stored it. Answers on a connection stay
/// in request order (HttpConnection), so what follows a create on it waits too.
class CreateBatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CreateBatcher)

public:
    explicit CreateBatcher(Engine &engine, QObject *parent = nullptr);
    /// Whatever was created is committed and answered (if its connection is still open).
    ~CreateBatcher() override;

    /// Answers `reply`, a create in batch `reply.batch`, once that batch is settled, and then
    /// tells `answered` what the answer was (the reply, or the refusal).
    using Answered = std::function<void(const RestReply &)>;
    void answerWhenSettled(const HttpExchange &exchange, RestReply reply, Answered answered = {});
    /// Whether a create on the connection of `exchange` waits for its batch.
    bool waitsOn(const HttpExchange &exchange) const;
    /// Settles every batch, so that what waits for one is answered.
    void settle();

private:
    void acknowledge(quint64 batch);

    Engine &m_engine;
    struct Waiting
    {
        HttpExchange exchange;
        RestReply reply;
        Answered answered;
    };
    QList<Waiting> m_waiting; // in arrival order, which is batch order
    bool m_submitQueued = false;
};

} // namespace streams
