#pragma once

#include <QByteArray>
#include <QIODevice>
#include <algorithm>
#include <cstring>

namespace streams {

/// A request body that can be read once and never rewound. Qt's HTTP layer re-sends a request
/// by itself when the connection drops after it went out, POST included, if it can rewind the
/// body; this one cannot, so a create, a publish or a control-plane change the server may
/// already have applied reaches it at most once and Qt reports
/// QNetworkReply::ContentReSendError instead. (Not a QBuffer: Qt copies a QBuffer's bytes into a
/// rewindable device of its own.)
class OneShotBody final : public QIODevice
{
public:
    OneShotBody(QByteArray bytes, QObject *parent) : QIODevice(parent), m_bytes(std::move(bytes))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    bool reset() override { return false; }
    qint64 bytesAvailable() const override
    {
        return m_bytes.size() - m_read + QIODevice::bytesAvailable();
    }
    bool atEnd() const override { return m_read == m_bytes.size() && QIODevice::atEnd(); }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = std::min<qint64>(maxSize, m_bytes.size() - m_read);
        std::memcpy(data, m_bytes.constData() + m_read, size_t(n));
        m_read += n;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_bytes;
    qsizetype m_read = 0;
};

} // namespace streams
