// libFuzzer target: what the control plane reads from a request body, JSON that came over the
// network: a state snapshot (PUT /_engine/state, also --state FILE) and a fault rule (POST
// /_engine/faults). Besides never crashing, whatever one of them accepts is written back by it
// and read again to the same thing (the snapshot an export gives is the one an import takes),
// and whatever it refuses is a 400 that says which field.
#include "engine/enginesnapshot.h"
#include "engine/faultrules.h"
#include "require.h"

#include <QJsonDocument>
#include <cstdint>
#include <cstdio>

using namespace streams;

namespace {
const QString kAccount = QStringLiteral("AC00000000000000000000000000000001");
constexpr qint64 kNow = 1'795'000'000;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto snapshot = EngineSnapshot::fromJsonBytes(input, kAccount, kNow);
    if (snapshot) {
        const QByteArray written = snapshot->toJsonBytes(QStringLiteral("fuzz"), kNow);
        const auto again = EngineSnapshot::fromJsonBytes(written, kAccount, kNow);
        require(again.has_value(), "a snapshot written back is read again");
        require(again->services == snapshot->services, "services survive the round trip");
        require(again->streams == snapshot->streams, "streams survive the round trip");
    } else {
        require(snapshot.error().httpStatus() == 400, "a refused snapshot is a 400");
        require(!snapshot.error().message().isEmpty(), "a refused snapshot says why");
    }

    const auto object = parseJsonObject(input);
    if (!object)
        return 0;
    const auto rule = FaultRule::fromJson(*object);
    if (!rule) {
        require(rule.error().httpStatus() == 400, "a refused rule is a 400");
        return 0;
    }
    QJsonObject written = rule->toJson();
    // Written back with what the engine adds; read again, it is the same rule.
    for (const char *added : {"id", "created_at", "acted"})
        written.remove(QLatin1StringView(added));
    const auto again = FaultRule::fromJson(written);
    require(again.has_value(), "a rule written back is read again");
    require(again->toJson() == rule->toJson(), "a rule survives the round trip");
    return 0;
}
