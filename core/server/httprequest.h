#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <utility>

namespace streams {

/// One HTTP/1.x request as HttpRequestParser read it off a connection: the parts the engine
/// answers from, raw (percent-encoding is decoded by whoever reads a path or a form).
struct HttpRequest
{
    QByteArray method; // as sent, e.g. "GET"; HEAD is answered as GET without a body
    QByteArray path; // encoded, from the request target (origin form, or absolute form's path)
    QByteArray query; // encoded, without the `?`; empty when absent
    QByteArray host; // the Host header, or the authority of an absolute-form target
    QByteArray authorization; // empty when absent
    QByteArray body; // Content-Length or chunked, decoded
    int version = 11; // 10 for HTTP/1.0, 11 for HTTP/1.1
    bool keepAlive = true; // false: the connection ends after the answer (Connection: close, 1.0)
    bool upgrade = false; // Connection: upgrade with an Upgrade header (a websocket handshake)
    QByteArray upgradeProtocol; // the Upgrade header, e.g. "websocket"
    bool tunnel = false; // CONNECT: `host` is the authority asked for ("sync.twilio.com:443")
    bool secure = false; // came through TLS (inside a CONNECT tunnel): its URLs are https

    bool isHead() const { return method == "HEAD"; }

    /// "host:port" as {host, port} at the last colon (port empty without one); an IPv6 literal
    /// ("[::1]:443") keeps its brackets in the host.
    static std::pair<QByteArrayView, QByteArrayView> splitAuthority(QByteArrayView authority)
    {
        const qsizetype colon = authority.lastIndexOf(':');
        if (colon < 0)
            return {authority, {}};
        return {authority.first(colon), authority.sliced(colon + 1)};
    }
};

} // namespace streams
