#include "api/apierror.h"

#include <QJsonDocument>
#include <QTest>

using namespace streams;

class TestApiError final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void factories_data();
    void factories();
    void toJsonHasExactlyTheLegacyFields();
    void fromJson_data();
    void fromJson();
    void roundTrip();
    void tooLargeErrorsCarryTheirFigure();
};

void TestApiError::factories_data()
{
    QTest::addColumn<ApiError>("error");
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("status");

    QTest::addRow("badRequest") << ApiError::badRequest(QStringLiteral("x")) << 20400 << 400;
    QTest::addRow("authenticationFailed") << ApiError::authenticationFailed() << 20003 << 401;
    QTest::addRow("notFound") << ApiError::notFound(QStringLiteral("/v1/X")) << 20404 << 404;
    QTest::addRow("methodNotAllowed")
        << ApiError::methodNotAllowed(QStringLiteral("PUT"), QStringLiteral("/v1/Services"))
        << 20405 << 405;
    QTest::addRow("payloadTooLarge") << ApiError::payloadTooLarge(2'000'000) << 20413 << 413;
    QTest::addRow("internal") << ApiError::internal(QStringLiteral("x")) << 20500 << 500;
    QTest::addRow("serviceUnavailable")
        << ApiError::serviceUnavailable(QStringLiteral("x")) << 20503 << 503;
    QTest::addRow("invalidPageToken") << ApiError::invalidPageToken() << 21481 << 400;
    QTest::addRow("invalidParameter") << ApiError::invalidParameter(QStringLiteral("PageSize"),
        QStringLiteral("x")) << 20400 << 400;
    QTest::addRow("dataTooLarge") << ApiError::dataTooLarge(4097) << 54006 << 413;
    QTest::addRow("invalidJson") << ApiError::invalidJson(QStringLiteral("x")) << 54008 << 400;
    QTest::addRow("rateLimitExceeded") << ApiError::rateLimitExceeded() << 54009 << 429;
    QTest::addRow("noParameters") << ApiError::noParameters() << 54010 << 400;
    QTest::addRow("invalidTtl") << ApiError::invalidTtl(QStringLiteral("-1")) << 54011 << 400;
    QTest::addRow("duplicateUniqueName")
        << ApiError::duplicateUniqueName(QStringLiteral("n")) << 54301 << 409;
    QTest::addRow("invalidUniqueName")
        << ApiError::invalidUniqueName(QStringLiteral("x")) << 54302 << 400;
}

void TestApiError::factories()
{
    QFETCH(ApiError, error);
    QFETCH(int, code);
    QFETCH(int, status);

    QCOMPARE(error.code(), code);
    QCOMPARE(error.httpStatus(), status);
    QVERIFY(!error.message().isEmpty());
    QCOMPARE(error.moreInfo(), QStringLiteral("https://www.twilio.com/docs/errors/%1").arg(code));

    const QJsonObject json = error.toJson();
    QStringList keys = json.keys();
    keys.sort();
    QCOMPARE(keys,
        QStringList({QStringLiteral("code"), QStringLiteral("message"), QStringLiteral("more_info"),
            QStringLiteral("status")}));
    QCOMPARE(json.value(QStringLiteral("code")), QJsonValue(code));
    QCOMPARE(json.value(QStringLiteral("status")), QJsonValue(status));
    QCOMPARE(json.value(QStringLiteral("message")), QJsonValue(error.message()));
    QCOMPARE(json.value(QStringLiteral("more_info")), QJsonValue(error.moreInfo()));
}

void TestApiError::toJsonHasExactlyTheLegacyFields()
{
    const ApiError error = ApiError::duplicateUniqueName(QStringLiteral("orders"));
    const QByteArray body = QJsonDocument(error.toJson()).toJson(QJsonDocument::Compact);
    // Exact bytes: a `type` or `title` field would switch twilio-node to RFC 9457 errors.
    QCOMPARE(body,
        QByteArray("{\"code\":54301,\"message\":\"Unique name already exists: orders\","
                   "\"more_info\":\"https://www.twilio.com/docs/errors/54301\","
                   "\"status\":409}"));
    QVERIFY(!body.contains("\"type\""));
    QVERIFY(!body.contains("\"title\""));
    // Codes and statuses are JSON integers, not strings or doubles.
    const QJsonObject json = error.toJson();
    QVERIFY(json.value(QStringLiteral("code")).isDouble());
    QVERIFY(json.value(QStringLiteral("status")).isDouble());
}

void TestApiError::fromJson_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("httpStatus");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");

    QTest::addRow("full") << QByteArray("{\"code\":54301,\"message\":\"taken\",\"status\":409}")
                          << 409 << 54301 << QStringLiteral("taken");
    QTest::addRow("no code") << QByteArray("{\"message\":\"oops\"}") << 502 << 502
                             << QStringLiteral("oops");
    QTest::addRow("no message") << QByteArray("{\"code\":20404}") << 404 << 20404
                                << QStringLiteral("HTTP 404");
    QTest::addRow("empty body") << QByteArray("{}") << 503 << 503 << QStringLiteral("HTTP 503");
}

void TestApiError::fromJson()
{
    QFETCH(QByteArray, body);
    QFETCH(int, httpStatus);
    QFETCH(int, code);
    QFETCH(QString, message);

    const ApiError error = ApiError::fromJson(QJsonDocument::fromJson(body).object(), httpStatus);
    QCOMPARE(error.code(), code);
    QCOMPARE(error.httpStatus(), httpStatus);
    QCOMPARE(error.message(), message);
}

void TestApiError::roundTrip()
{
    const ApiError error = ApiError::rateLimitExceeded();
    QCOMPARE(ApiError::fromJson(error.toJson(), error.httpStatus()), error);
}

void TestApiError::tooLargeErrorsCarryTheirFigure()
{
    QCOMPARE(ApiError::dataTooLarge(4097).reportedBytes(), std::optional<qsizetype>(4097));
    QCOMPARE(
        ApiError::payloadTooLarge(2'000'000).reportedBytes(), std::optional<qsizetype>(2'000'000));
    QVERIFY(ApiError::dataTooLarge(4097).message().contains(u"4097"));
    // Other errors report no size, and neither does one read back from an answer; the figure
    // is in the message, so it does not take part in equality.
    QCOMPARE(ApiError::invalidJson(QStringLiteral("x")).reportedBytes(), std::nullopt);
    const ApiError read = ApiError::fromJson(ApiError::dataTooLarge(4097).toJson(), 413);
    QCOMPARE(read.reportedBytes(), std::nullopt);
    QCOMPARE(read, ApiError::dataTooLarge(4097));
}

QTEST_GUILESS_MAIN(TestApiError)
#include "tst_apierror.moc"
