#include "server/createbatcher.h"

#include "engine/engine.h"

#include <QLoggingCategory>
#include <algorithm>

Q_DECLARE_LOGGING_CATEGORY(lcHttpServer)

namespace streams {

CreateBatcher::CreateBatcher(Engine &engine, QObject *parent) : QObject(parent), m_engine(engine)
{
    connect(&m_engine, &Engine::createsSettled, this, &CreateBatcher::acknowledge);
}

CreateBatcher::~CreateBatcher()
{
    settle();
}

void CreateBatcher::answerWhenSettled(
    const HttpExchange &exchange, RestReply reply, Answered answered)
{
    m_waiting.append({exchange, std::move(reply), std::move(answered)});
    // Handed to the writer thread at the end of this pass, with whatever else arrives in it.
    if (!std::exchange(m_submitQueued, true))
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_submitQueued = false;
                m_engine.submitCreates();
            },
            Qt::QueuedConnection);
}

bool CreateBatcher::waitsOn(const HttpExchange &exchange) const
{
    return std::any_of(m_waiting.cbegin(), m_waiting.cend(),
        [&exchange](const Waiting &waiting) { return waiting.exchange.sameConnection(exchange); });
}

void CreateBatcher::settle()
{
    if (!m_waiting.isEmpty())
        m_engine.settleCreates(); // acknowledge() runs for every batch
}

void CreateBatcher::acknowledge(quint64 batch)
{
    // Batches settle in order, and the waiting creates were queued in order.
    qsizetype settled = 0;
    while (settled < m_waiting.size() && m_waiting.at(settled).reply.batch <= batch)
        ++settled;
    const QList<Waiting> answered = m_waiting.first(settled);
    m_waiting.remove(0, settled);
    for (const Waiting &waiting : answered) {
        const std::optional<ApiError> refused = m_engine.createRefusal(waiting.reply.streamSid);
        if (refused && refused->httpStatus() >= 500)
            qCWarning(lcHttpServer) << "create not committed:" << refused->message();
        // Stored all the same (if it was) when the connection has gone: the client will find
        // it by listing.
        if (waiting.answered)
            waiting.answered(refused ? RestReply::error(*refused) : waiting.reply);
        waiting.exchange.respond(
            refused ? HttpResponse::fromError(*refused) : waiting.reply.toHttp());
    }
}

} // namespace streams
