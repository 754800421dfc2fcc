#include "server/plainrequest.h"

#include <charconv>
#include <utility>

namespace streams {

namespace {
bool isPlainTargetChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'
        || c == '-' || c == '.' || c == '_' || c == '&' || c == '=' || c == '?';
}

// RFC 9110, 5.6.2: tchar.
bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c != '\0' && QByteArrayView("!#$%&'*+-.^_`|~").contains(c));
}

QByteArrayView trimmedWhitespace(QByteArrayView value)
{
    while (!value.isEmpty() && (value.front() == ' ' || value.front() == '\t'))
        value = value.sliced(1);
    while (!value.isEmpty() && (value.back() == ' ' || value.back() == '\t'))
        value.chop(1);
    return value;
}

QByteArrayView plainMethod(QByteArrayView buffered)
{
    for (const QByteArrayView method :
        {QByteArrayView("GET"), QByteArrayView("POST"), QByteArrayView("DELETE")}) {
        if (buffered.size() > method.size() + 1 && buffered.startsWith(method)
            && buffered[method.size()] == ' ' && buffered[method.size() + 1] == '/')
            return method;
    }
    return {};
}
} // namespace

std::optional<PlainRequest> PlainRequest::parse(QByteArrayView buffered)
{
    constexpr QByteArrayView kVersion = " HTTP/1.1";
    PlainRequest request;
    Parts &parts = request.parts;
    parts.method = plainMethod(buffered);
    if (parts.method.isEmpty())
        return std::nullopt;
    const qsizetype end = buffered.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    const QByteArrayView head = buffered.first(end + 2); // every line with its CRLF

    qsizetype lineEnd = head.indexOf("\r\n");
    const QByteArrayView requestLine = head.first(lineEnd);
    const qsizetype targetAt = parts.method.size() + 1;
    if (!requestLine.endsWith(kVersion) || requestLine.size() <= targetAt + kVersion.size())
        return std::nullopt;
    const QByteArrayView target =
        requestLine.sliced(targetAt, requestLine.size() - targetAt - kVersion.size());
    qsizetype question = -1;
    for (qsizetype i = 0; i < target.size(); ++i) {
        if (!isPlainTargetChar(target[i]))
            return std::nullopt;
        if (target[i] == '?') {
            if (question >= 0)
                return std::nullopt;
            question = i;
        }
    }
    parts.path = question < 0 ? target : target.first(question);
    parts.query = question < 0 ? QByteArrayView() : target.sliced(question + 1);

    bool sawHost = false;
    bool sawAuthorization = false;
    std::optional<qsizetype> contentLength;
    for (qsizetype at = lineEnd + 2; at < head.size(); at = lineEnd + 2) {
        lineEnd = head.indexOf("\r\n", at);
        const QByteArrayView line = head.sliced(at, lineEnd - at);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return std::nullopt; // also a folded line, which starts with whitespace
        const QByteArrayView name = line.first(colon);
        for (const char c : name) {
            if (!isTokenChar(c))
                return std::nullopt;
        }
        const QByteArrayView value = trimmedWhitespace(line.sliced(colon + 1));
        for (const char c : value) {
            if ((c >= '\0' && c < ' ' && c != '\t') || c == '\x7f')
                return std::nullopt; // a control character, such as a lone CR or LF
        }
        const auto is = [name](QByteArrayView known) {
            return name.compare(known, Qt::CaseInsensitive) == 0;
        };
        if (is("host")) {
            if (std::exchange(sawHost, true))
                return std::nullopt;
            parts.host = value;
        } else if (is("authorization")) {
            if (std::exchange(sawAuthorization, true))
                return std::nullopt;
            parts.authorization = value;
        } else if (is("content-length")) {
            qsizetype length = -1;
            const auto [ptr, ec] =
                std::from_chars(value.data(), value.data() + value.size(), length);
            if (contentLength || value.isEmpty() || ec != std::errc()
                || ptr != value.data() + value.size() || length < 0)
                return std::nullopt; // twice, not digits only, or too large to be one
            contentLength = length;
        } else if (is("connection")) {
            if (value.compare("keep-alive", Qt::CaseInsensitive) != 0)
                return std::nullopt;
        } else if (is("transfer-encoding") || is("upgrade") || is("expect")) {
            return std::nullopt;
        }
    }
    const qsizetype bodyAt = end + 4;
    const qsizetype bodyLength = contentLength.value_or(0);
    if (bodyLength > buffered.size() - bodyAt)
        return std::nullopt; // not all here yet
    parts.body = buffered.sliced(bodyAt, bodyLength);
    request.length = bodyAt + bodyLength;
    return request;
}

} // namespace streams
