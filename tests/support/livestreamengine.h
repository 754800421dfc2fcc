#pragma once

#include "awaitfuture.h"
#include "embeddedengine.h"

#include <memory>

namespace streams::testing {

/// A real embedded engine (LocalBackend on a free loopback port) holding one service and one
/// stream: the live feed that widget tests of the live view subscribe to.
struct LiveStreamEngine
{
    std::unique_ptr<LocalBackend> backend;
    QString serviceSid;
    QString streamSid;

    /// Starts the engine with its data in `dataDir` and creates the service and the stream named
    /// `streamName`. Empty on success, else what failed.
    QString start(const QString &dataDir, const QString &streamName)
    {
        auto started = startEmbeddedEngine(dataDir); // unlimited: tests publish in bursts
        if (!started)
            return started.error();
        backend = std::move(*started);
        ServiceFields fields;
        fields.friendlyName = QStringLiteral("live");
        const auto service = await(backend->createService(fields));
        if (!service)
            return service.error().message();
        serviceSid = service->sid;
        const auto stream = await(backend->createStream(serviceSid, {streamName, {}}));
        if (!stream)
            return stream.error().message();
        streamSid = stream->sid;
        return {};
    }

    /// Publishes {"n":first…first+count-1,"parity":"odd"|"even","user":{"id":n%5}} and waits for
    /// every 201. Empty on success, else the first error.
    QString publishNumbered(int first, int count)
    {
        QList<QFuture<ApiResult<StreamMessage>>> futures;
        for (int n = first; n < first + count; ++n) {
            const QByteArray data =
                QStringLiteral("{\"n\":%1,\"parity\":\"%2\",\"user\":{\"id\":%3}}")
                    .arg(n)
                    .arg(n % 2 ? QStringLiteral("odd") : QStringLiteral("even"))
                    .arg(n % 5)
                    .toUtf8();
            futures.append(backend->publish(serviceSid, streamSid, data));
        }
        QString error;
        for (auto &future : futures) {
            const auto result = await(future);
            if (!result && error.isEmpty())
                error = result.error().message();
        }
        return error;
    }
};

} // namespace streams::testing
