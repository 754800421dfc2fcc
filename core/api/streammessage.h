#pragma once

#include <QByteArray>
#include <QString>

namespace streams {

/// One published message. Messages are ephemeral: fanned out to subscribers, never stored.
/// `data` is the compact UTF-8 JSON of the payload object; QByteArray's implicit sharing lets
/// one publish reach thousands of subscriber queues without copying it.
struct StreamMessage
{
    QString sid;
    QString serviceSid;
    QString streamSid;
    QByteArray data;
};

} // namespace streams
