#pragma once

#include "awaitfuture.h"
#include "backend/backend.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <functional>

namespace streams::testing {

/// The same control-plane conversation through any Backend with a control plane: what the
/// console's engine instruments rely on, whether the engine is in process or at a URL.
inline void checkControlPlane(Backend &backend)
{
    using namespace Qt::StringLiterals;
    QVERIFY(backend.hasControlPlane());
    const auto object = [](const Backend::ControlReply &reply) {
        return QJsonDocument::fromJson(reply.body).object();
    };

    const auto health = await(backend.control("GET", u"/_engine/health"_s));
    QVERIFY2(health, qPrintable(health ? QString() : health.error().message()));
    QCOMPARE(health->status, 200);
    QCOMPARE(object(*health).value(u"status"_s).toString(), u"ready"_s);

    const auto clock = await(backend.control("GET", u"/_engine/clock"_s));
    QVERIFY(clock);
    const double offset = object(*clock).value(u"offset_seconds"_s).toDouble();
    const auto advanced =
        await(backend.control("POST", u"/_engine/clock"_s, R"({"advance_seconds":60})"));
    QVERIFY(advanced);
    QCOMPARE(object(*advanced).value(u"offset_seconds"_s).toDouble(), offset + 60);
    // The backend knows where the engine's clock is now (countdowns follow it).
    QTRY_COMPARE(backend.clockOffsetMs(), qint64((offset + 60) * 1000));

    const auto added = await(
        backend.control("POST", u"/_engine/faults"_s, R"({"stream":"nowhere","drop":1,"seed":5})"));
    QVERIFY(added);
    QCOMPARE(added->status, 201);
    const QString id = object(*added).value(u"id"_s).toString();
    QVERIFY(id.startsWith(u"fault-"_s));
    const auto listed = await(backend.control("GET", u"/_engine/faults"_s));
    QVERIFY(listed);
    QCOMPARE(object(*listed).value(u"faults"_s).toArray().size(), 1);
    const auto removed = await(backend.control("DELETE", u"/_engine/faults/"_s + id));
    QVERIFY(removed);
    QCOMPARE(removed->status, 204);
    QVERIFY(removed->body.isEmpty());

    const auto exported = await(backend.control("GET", u"/_engine/state"_s));
    QVERIFY(exported);
    QCOMPARE(object(*exported).value(u"format"_s).toInt(), 1);
    const auto imported = await(backend.control("PUT", u"/_engine/state"_s, exported->body));
    QVERIFY(imported);
    QCOMPARE(object(*imported).value(u"services"_s).toInt(),
        object(*exported).value(u"services"_s).toArray().size());

    const auto traffic = await(backend.control("GET", u"/_engine/traffic?limit=5"_s));
    QVERIFY(traffic);
    QVERIFY(object(*traffic).contains(u"last_id"_s));

    // The engine's errors, as ApiError: a bad body, an unknown rule, an unknown route.
    const auto bad =
        await(backend.control("POST", u"/_engine/clock"_s, R"({"advance_seconds":-1})"));
    QVERIFY(!bad);
    QCOMPARE(bad.error().httpStatus(), 400);
    QCOMPARE(bad.error().code(), 20400);
    QVERIFY(bad.error().message().contains(u"advance_seconds"_s));
    const auto unknown = await(backend.control("DELETE", u"/_engine/faults/fault-999"_s));
    QVERIFY(!unknown);
    QCOMPARE(unknown.error().code(), 20404);
    const auto nowhere = await(backend.control("GET", u"/_engine/nothing"_s));
    QVERIFY(!nowhere);
    QCOMPARE(nowhere.error().httpStatus(), 404);
}

/// The fault rules a Backend keeps for the tree's badges: what this console adds and removes is
/// known at once; a `rest_error` rule that refused all of its `count` is no longer in force once
/// the backend has heard of it again. `publishOverHttp(streamSid)` publishes as the user's code
/// does (REST, no retries) and returns the status. Leaves no rule behind.
inline void checkFaultMarks(
    Backend &backend, const std::function<int(const QString &streamSid)> &publishOverHttp)
{
    using namespace Qt::StringLiterals;
    const auto stream =
        await(backend.createStream(u"default"_s, {.uniqueName = u"marked"_s, .ttlSeconds = {}}));
    QVERIFY2(stream, qPrintable(stream ? QString() : stream.error().message()));
    const auto other =
        await(backend.createStream(u"default"_s, {.uniqueName = u"unmarked"_s, .ttlSeconds = {}}));
    QVERIFY(other);
    QCOMPARE(backend.faultsOn(*stream, u"default"_s).size(), 0);

    QSignalSpy changed(&backend, &Backend::faultMarksChanged);
    QVERIFY(await(backend.control("POST", u"/_engine/faults"_s,
        R"({"service":"default","stream":"marked","drop":0.5,"delay_ms":200,"jitter_ms":50})")));
    QTRY_COMPARE(backend.faultMarks().size(), 1);
    QVERIFY(!changed.isEmpty());
    const QList<Backend::FaultMark> marks = backend.faultsOn(*stream, u"default"_s);
    QCOMPARE(marks.size(), 1);
    QCOMPARE(marks.front().summary, u"drop 50% · delay 200±50 ms"_s);
    QCOMPARE(backend.faultsOn(*other, u"default"_s).size(), 0);
    // By SID as well as by unique name; without the service's name a rule naming it misses.
    QCOMPARE(backend.faultsOn(*stream, {}).size(), 0);

    const auto spent = await(backend.control("POST", u"/_engine/faults"_s,
        u"{\"stream\":\"%1\",\"rest_error\":{\"status\":429,\"count\":1}}"_s.arg(stream->sid)
            .toUtf8()));
    QVERIFY(spent);
    QTRY_COMPARE(backend.faultsOn(*stream, u"default"_s).size(), 2);
    QCOMPARE(backend.faultsOn(*stream, {}).size(), 1);
    QCOMPARE(backend.faultsOn(*stream, {}).front().summary, u"fail next 1 with 429"_s);
    QCOMPARE(publishOverHttp(stream->sid), 429);
    QCOMPARE(publishOverHttp(stream->sid), 201);
    backend.refreshFaultMarks();
    QTRY_COMPARE(backend.faultsOn(*stream, u"default"_s).size(), 1);

    QVERIFY(await(backend.control("DELETE", u"/_engine/faults"_s)));
    QTRY_COMPARE(backend.faultMarks().size(), 0);
    QVERIFY(await(backend.deleteStream(u"default"_s, stream->sid)));
    QVERIFY(await(backend.deleteStream(u"default"_s, other->sid)));
}

} // namespace streams::testing
