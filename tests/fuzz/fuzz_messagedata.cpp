// libFuzzer target: validation::parseMessageData, the gate every published payload passes. Its
// compact form is what subscribers receive and what the 4096-byte limit measures, so besides
// never crashing it must hold that: the compact text parses back to the same object, is no
// larger than what was sent, is valid UTF-8 JSON with no raw control bytes, is a fixed point of
// the validator, and the limit is applied to it consistently (at most 4096 bytes when accepted,
// more when refused as too large).
#include "api/limits.h"
#include "api/validation.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QStringDecoder>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace streams;

namespace {

void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool isStrictUtf8(QByteArrayView bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8,
        QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
    const QString decoded = utf8.decode(bytes); // decode() is lazy: convert
    return !utf8.hasError();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(data, qsizetype(size));
    const auto payload = validation::parseMessageData(input);
    // U+FEFF first in a string is sent escaped: 6 bytes for 3 raw ones (an upper bound: not
    // every `"` counted here opens a string).
    const qsizetype leadingBoms = input.count("\"\xEF\xBB\xBF");

    if (!payload) {
        const validation::JsonProblem &problem = payload.error();
        require(!problem.error.message().isEmpty(), "every error is described");
        if (problem.error.code() == 54006) {
            require(problem.error.httpStatus() == 413, "too large is a 413");
            // Too large: only a valid object whose compact form exceeds the limit, which needs
            // more than the limit's worth of input.
            require(input.size() + 3 * leadingBoms > limits::kMaxMessageBytes,
                "only large input is too large");
            QJsonParseError error;
            const auto document = QJsonDocument::fromJson(input.toByteArray(), &error);
            require(error.error == QJsonParseError::NoError && document.isObject(),
                "only a valid object is measured");
            return 0;
        }
        require(problem.error.code() == 54008 && problem.error.httpStatus() == 400,
            "a refused payload is 54008 (400) or 54006 (413)");
        if (problem.offset >= 0) {
            require(problem.offset <= input.size(), "the syntax error is inside the input");
            require(problem.line >= 1 && problem.column >= 1, "the position is 1-based");
            require(problem.line <= input.count('\n') + 1, "the line exists");
        }
        return 0;
    }

    const QByteArray &compact = payload->compact;
    require(compact.size() <= limits::kMaxMessageBytes, "an accepted payload is within 4096");
    require(compact.size() <= input.size() + 3 * leadingBoms, "compacting never grows the payload");
    require(isStrictUtf8(compact), "the compact form is valid UTF-8");
    for (const char c : compact)
        require(static_cast<unsigned char>(c) >= 0x20, "no raw control bytes are sent");

    QJsonParseError error;
    const QJsonDocument again = QJsonDocument::fromJson(compact, &error);
    require(error.error == QJsonParseError::NoError, "the compact form parses");
    require(again.isObject() && again.object() == payload->object,
        "the compact form is the same object");

    const auto twice = validation::parseMessageData(compact);
    require(twice.has_value() && twice->compact == compact, "compacting is idempotent");
    require(validation::compactSize(payload->object) > 0, "the object has a size");
    return 0;
}
