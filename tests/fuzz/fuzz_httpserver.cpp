// libFuzzer target: the REST port's request path end to end, bytes in to answers out: an
// HttpServer's connection (HttpConnection, HttpRequestParser, HttpResponse) on a device fed from
// memory, with a handler that answers every request with its number, some of them late and out
// of order. The first input byte picks which requests are answered late; the rest is what a
// client sent. It is delivered three times: whole, a byte at a time (up to 128 bytes), and in
// pieces cut at pseudo-random offsets (so a head's first lines can come before the rest of it).
// Besides never crashing, every way:
// - every request the handler got has exactly one answer, in request order, whatever order the
//   handler answered in;
// - after those, at most one more answer: the refusal of a malformed, oversized or unexpected
//   request, with Twilio's error JSON and `Connection: close`; nothing follows it, nothing
//   follows a request that asked to close, and nothing after either is read;
// - the requests and their answers are the same however the input was cut (but for `100
//   Continue` interim answers, which only a body still to come gets), and a refusal comes only
//   where the whole input was refused too (in pieces, a malformed head may be refused for
//   another reason, or not yet: the parser waits for the end of a head that came a few bytes at
//   a time).
#include "require.h"
#include "server/httpserver.h"

#include <QCoreApplication>
#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdint>
#include <cstdio>
#include <ranges>

using namespace streams;

namespace {

// A connection whose peer is this program: feed() is what arrives, written() what was sent.
class MemoryConnection final : public QIODevice
{
public:
    MemoryConnection() { open(QIODevice::ReadWrite); }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_input.size() + QIODevice::bytesAvailable(); }
    void feed(QByteArrayView bytes)
    {
        m_input.append(bytes);
        emit readyRead();
    }
    QByteArray written;

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = qMin(maxSize, qint64(m_input.size()));
        std::copy_n(m_input.constData(), n, data);
        m_input.remove(0, n);
        return n;
    }
    qint64 writeData(const char *data, qint64 size) override
    {
        written.append(data, size);
        return size;
    }

private:
    QByteArray m_input;
};

class NumberingHandler final : public HttpHandler
{
public:
    explicit NumberingHandler(quint8 lateMask) : m_lateMask(lateMask) { }
    QList<HttpRequest> requests;
    QList<std::pair<HttpExchange, int>> late;

    void handleRequest(const HttpExchange &exchange, HttpRequest request) override
    {
        requests.append(request);
        const int number = int(requests.size());
        if (m_lateMask & (1u << (number % 8)))
            late.append({exchange, number});
        else
            exchange.respond(answer(number));
    }
    void answerLate()
    {
        // Last first: answers still go out in request order.
        for (const auto &[exchange, number] : std::views::reverse(late))
            exchange.respond(answer(number));
        late.clear();
    }
    static HttpResponse answer(int number)
    {
        return {200, "\"#" + QByteArray::number(number) + '"'};
    }

private:
    quint8 m_lateMask;
};

struct Outcome
{
    QByteArray written; // without 100 Continue
    QList<HttpRequest> requests;
    bool closed = false;
};

enum class Delivery {
    Whole,
    ByteByByte,
    Pieces
};

Outcome serve(quint8 lateMask, QByteArrayView input, Delivery delivery)
{
    NumberingHandler handler(lateMask);
    HttpServer server(handler);
    auto *connection = new MemoryConnection;
    server.serve(connection);
    switch (delivery) {
    case Delivery::Whole: connection->feed(input); break;
    case Delivery::ByteByByte:
        for (qsizetype i = 0; i < input.size(); ++i)
            connection->feed(input.sliced(i, 1));
        break;
    case Delivery::Pieces: {
        // Up to 64 bytes a piece for small inputs, 256 for large: the same cuts for the same
        // input, so a finding replays.
        const quint32 most = input.size() <= 512 ? 64 : 256;
        quint32 state = quint32(input.size()) ^ (quint32(lateMask) * 2654435761u);
        qsizetype at = 0;
        while (at < input.size()) {
            state = state * 1664525u + 1013904223u;
            const qsizetype piece = qMin<qsizetype>(1 + (state >> 24) % most, input.size() - at);
            connection->feed(input.sliced(at, piece));
            at += piece;
        }
        break;
    }
    }
    handler.answerLate();
    Outcome outcome;
    outcome.closed = !connection->isOpen();
    outcome.written = connection->written;
    outcome.written.replace("HTTP/1.1 100 Continue\r\n\r\n", "");
    outcome.requests = handler.requests;
    QCoreApplication::sendPostedEvents(); // every kind: left, they pile up and slow each call
    return outcome;
}

struct Answer
{
    int status = 0;
    QByteArray head;
    QByteArray body;
};

// Takes one answer off the front of `bytes` (`headersOnly`: the answer to a HEAD).
bool takeAnswer(QByteArray &bytes, bool headersOnly, Answer &answer)
{
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    if (end < 0 || !bytes.startsWith("HTTP/1.1 "))
        return false;
    answer.head = bytes.first(end + 4);
    answer.status = bytes.mid(9, 3).toInt();
    qsizetype length = 0;
    if (const qsizetype at = answer.head.indexOf("\r\nContent-Length: "); at >= 0)
        length =
            answer.head.mid(at + 18, answer.head.indexOf("\r\n", at + 2) - at - 18).toLongLong();
    if (headersOnly)
        length = 0;
    if (bytes.size() < end + 4 + length)
        return false;
    answer.body = bytes.mid(end + 4, length);
    bytes.remove(0, end + 4 + length);
    return true;
}

// What check() read off the bytes out: the answers to the requests, and the refusal after them.
struct Checked
{
    QByteArray answers; // to the requests the handler got, as written
    int refusal = 0; // its status, 0 if none
};

Checked check(const Outcome &outcome)
{
    QByteArray rest = outcome.written;
    qsizetype number = 0;
    for (const HttpRequest &request : outcome.requests) {
        ++number;
        Answer answer;
        require(takeAnswer(rest, request.isHead(), answer), "every request gets an answer");
        require(answer.status == 200, "a request's answer is the handler's");
        if (!request.isHead())
            require(answer.body == "\"#" + QByteArray::number(number) + '"',
                "answers go out in request order");
        const bool closes = answer.head.contains("\r\nConnection: close\r\n");
        require(closes == !request.keepAlive, "Connection: close exactly when asked");
        if (closes) {
            require(number == outcome.requests.size(), "nothing after a close is read");
            require(rest.isEmpty(), "nothing is written after a close");
            require(outcome.closed, "the connection ends with a close");
        }
    }
    Checked checked{outcome.written.first(outcome.written.size() - rest.size()), 0};
    if (rest.isEmpty())
        return checked;
    Answer refusal;
    require(takeAnswer(rest, false, refusal), "what follows the answers is one whole answer");
    require(rest.isEmpty(), "nothing follows a refusal");
    // 405: a well-formed CONNECT where no tunnel is offered (here a device, not a socket).
    require(QList<int>({400, 405, 413, 417, 431}).contains(refusal.status),
        "a refusal is 400, 405, 413, 417 or 431");
    require(refusal.head.contains("\r\nConnection: close\r\n"), "a refusal ends the connection");
    require(outcome.closed, "a refused connection ends");
    const QJsonObject error = QJsonDocument::fromJson(refusal.body).object();
    require(error.value(QStringLiteral("code")).toInt() == 20000 + refusal.status
            && error.value(QStringLiteral("status")).toInt() == refusal.status
            && !error.value(QStringLiteral("message")).toString().isEmpty(),
        "a refusal carries Twilio's error JSON");
    checked.refusal = refusal.status;
    return checked;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int argc = 1;
    static char name[] = "fuzz_httpserver";
    static char *argv[] = {name, nullptr};
    static QCoreApplication application(argc, argv);
    if (size == 0)
        return 0;
    const quint8 lateMask = data[0];
    const QByteArrayView input(data + 1, qsizetype(size - 1));

    const Checked whole = check(serve(lateMask, input, Delivery::Whole));
    QList<Delivery> others{Delivery::Pieces};
    if (input.size() <= 128)
        others.append(Delivery::ByteByByte);
    for (const Delivery delivery : others) {
        const Checked cut = check(serve(lateMask, input, delivery));
        require(whole.answers == cut.answers,
            "the same requests and answers however the input was cut");
        // A malformed head may be refused only once it is whole when it comes in pieces (the
        // parser waits for the end of a head it has seen less than a line of), so the cut
        // delivery may still be waiting where the whole one refused; never the other way.
        require(
            whole.refusal != 0 || cut.refusal == 0, "a refusal only for a request refused whole");
    }
    return 0;
}
