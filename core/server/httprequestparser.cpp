#include "server/httprequestparser.h"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace streams {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {
QByteArrayView view(string_view text)
{
    return QByteArrayView(text.data(), qsizetype(text.size()));
}

bool startsWithNoCase(QByteArrayView text, QByteArrayView prefix)
{
    return text.size() >= prefix.size()
        && text.first(prefix.size()).compare(prefix, Qt::CaseInsensitive) == 0;
}
} // namespace

// Beast's parser with callbacks that keep only what the engine answers from: no container of
// every header, no copy of what is not needed.
class HttpRequestParser::Impl final : public http::basic_parser<true>
{
public:
    explicit Impl(const Limits &limits) : m_limits(limits), m_bodyLimit(limits.maxBodyBytes)
    {
        header_limit(std::uint32_t(limits.maxHeadBytes));
        body_limit(std::uint64_t(limits.maxBodyBytes));
    }

    const Limits &limits() const { return m_limits; }

    HttpRequest request;
    std::optional<Failure> failure;
    bool expectContinue = false;

    void fail(int status, QString reason, error_code &ec)
    {
        failure = Failure{status, std::move(reason)};
        ec = http::error::bad_field;
    }

protected:
    void on_request_impl(http::verb method, string_view methodText, string_view target, int version,
        error_code &ec) override
    {
        Q_UNUSED(method);
        request.method = view(methodText).toByteArray();
        request.version = version;
        QByteArrayView rest = view(target);
        if (request.method == "CONNECT") {
            // Authority form, the only form CONNECT takes (RFC 9112, 3.2.3): host:port.
            const auto [host, port] = HttpRequest::splitAuthority(rest);
            if (host.isEmpty() || port.isEmpty() || rest.contains('/') || rest.contains('@')) {
                fail(400,
                    QStringLiteral("CONNECT needs a host:port target, not \"%1\"")
                        .arg(QString::fromLatin1(rest.first(qMin<qsizetype>(64, rest.size())))),
                    ec);
                return;
            }
            request.tunnel = true;
            request.host = rest.toByteArray();
            m_hostFromTarget = true;
            body_limit(0);
            return;
        }
        // Absolute form (what a client talking to a proxy sends): the authority is the host,
        // whatever a Host header says (RFC 9112, 3.2.2).
        for (const QByteArrayView scheme :
            {QByteArrayView("http://"), QByteArrayView("https://")}) {
            if (startsWithNoCase(rest, scheme)) {
                rest = rest.sliced(scheme.size());
                qsizetype end = 0;
                while (end < rest.size() && rest[end] != '/' && rest[end] != '?')
                    ++end;
                request.host = rest.first(end).toByteArray();
                m_hostFromTarget = true;
                rest = rest.sliced(end);
                if (rest.isEmpty())
                    rest = "/";
                break;
            }
        }
        if (!rest.startsWith('/')) {
            fail(400,
                QStringLiteral("The request target must be a path starting with /, not \"%1\"")
                    .arg(QString::fromLatin1(
                        view(target).first(qMin<qsizetype>(64, qsizetype(target.size()))))),
                ec);
            return;
        }
        const qsizetype question = rest.indexOf('?');
        request.path = (question < 0 ? rest : rest.first(question)).toByteArray();
        if (question >= 0)
            request.query = rest.sliced(question + 1).toByteArray();
        m_bodyLimit =
            request.path == "/_engine/state" ? m_limits.maxSnapshotBytes : m_limits.maxBodyBytes;
        body_limit(std::uint64_t(m_bodyLimit));
    }

public:
    qsizetype bodyLimit() const { return m_bodyLimit; }

protected:
    void on_response_impl(int, string_view, int, error_code &ec) override
    {
        ec = http::error::bad_method; // never called for a request parser
    }

    void on_field_impl(
        http::field name, string_view nameText, string_view value, error_code &ec) override
    {
        Q_UNUSED(nameText);
        switch (name) {
        case http::field::host:
            // Twice is a 400 (RFC 9112, 3.2): two hosts would give two sets of URLs.
            if (std::exchange(m_sawHost, true))
                return fail(400, QStringLiteral("The Host header is given more than once"), ec);
            if (!m_hostFromTarget)
                request.host = view(value).toByteArray();
            break;
        case http::field::authorization:
            if (std::exchange(m_sawAuthorization, true))
                return fail(
                    400, QStringLiteral("The Authorization header is given more than once"), ec);
            request.authorization = view(value).toByteArray();
            break;
        case http::field::expect:
            // The only expectation there is (RFC 9110, 10.1.1); any other is a 417.
            if (view(value).trimmed().compare("100-continue", Qt::CaseInsensitive) != 0)
                return fail(417,
                    QStringLiteral("Expect: %1 is not supported, only 100-continue")
                        .arg(QString::fromLatin1(
                            view(value).first(qMin<qsizetype>(64, qsizetype(value.size()))))),
                    ec);
            expectContinue = true;
            break;
        case http::field::upgrade: request.upgradeProtocol = view(value).toByteArray(); break;
        default: break;
        }
    }

    void on_header_impl(error_code &ec) override
    {
        // An HTTP/1.1 request without a Host is a 400 (RFC 9112, 3.2); the URLs the engine
        // returns are built from it.
        if (request.version >= 11 && !m_sawHost && !m_hostFromTarget)
            return fail(400, QStringLiteral("An HTTP/1.1 request needs a Host header"), ec);
        request.keepAlive = keep_alive();
        request.upgrade = upgrade();
    }

    void on_body_init_impl(
        const boost::optional<std::uint64_t> &contentLength, error_code &) override
    {
        if (contentLength)
            request.body.reserve(qsizetype(*contentLength)); // at most the body limit
    }

    std::size_t on_body_impl(string_view body, error_code &) override
    {
        request.body.append(body.data(), qsizetype(body.size()));
        return body.size();
    }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code &) override { }

    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code &) override
    {
        request.body.append(body.data(), qsizetype(body.size()));
        return body.size();
    }

    void on_finish_impl(error_code &) override { }

private:
    Limits m_limits;
    qsizetype m_bodyLimit = 0;
    bool m_sawHost = false;
    bool m_sawAuthorization = false;
    bool m_hostFromTarget = false;
};

HttpRequestParser::HttpRequestParser(Limits limits) : d(std::make_unique<Impl>(limits))
{
    // Past the head, parse on through whatever body bytes are at hand in the same call.
    d->eager(true);
}

HttpRequestParser::~HttpRequestParser() = default;

qsizetype HttpRequestParser::feed(QByteArrayView bytes)
{
    if (d->failure || d->is_done() || bytes.isEmpty())
        return 0;
    error_code ec;
    const std::size_t consumed =
        d->put(boost::asio::const_buffer(bytes.data(), std::size_t(bytes.size())), ec);
    if (!ec || ec == http::error::need_more)
        return qsizetype(consumed);
    if (!d->failure) {
        if (ec == http::error::header_limit)
            d->failure = Failure{431,
                QStringLiteral("The request line and headers are over %1 bytes")
                    .arg(d->limits().maxHeadBytes)};
        else if (ec == http::error::body_limit)
            d->failure = Failure{
                413, QStringLiteral("The request body is over %1 bytes").arg(d->bodyLimit())};
        else
            d->failure = Failure{400,
                QStringLiteral("Malformed HTTP request: %1")
                    .arg(QString::fromStdString(ec.message()))};
    }
    return qsizetype(consumed);
}

bool HttpRequestParser::headerDone() const
{
    return d->is_header_done();
}

bool HttpRequestParser::complete() const
{
    return d->is_done();
}

bool HttpRequestParser::expectsContinue() const
{
    return d->expectContinue && d->is_header_done() && !d->is_done();
}

const std::optional<HttpRequestParser::Failure> &HttpRequestParser::failure() const
{
    return d->failure;
}

const HttpRequest &HttpRequestParser::request() const
{
    return d->request;
}

HttpRequest HttpRequestParser::takeRequest()
{
    return std::move(d->request);
}

} // namespace streams
