// libFuzzer target: json::Scanner, the one JSON tokenizer behind the compact form subscribers
// receive, member lookup, the composer's pretty-printing and its highlighter, and the layers over
// it. Besides never crashing or reading outside the input, for any bytes:
// - the tokens follow each other without gap or overlap, each at least one byte, from the first
//   byte to the last, and tokenAt() at a token's offset gives that token again;
// - a string token starts with a quote and, when terminated, ends with one; decoding any string
//   token (escapes, surrogates, broken UTF-8) is safe;
// - relayout() is idempotent, flat and at indent 4; flattening a pretty layout gives the flat.
// For text Qt's parser accepts (the layers' contract):
// - the canonical compact form, when there is one, is a fixed point: compact(compact(x)) ==
//   compact(x) and relayout(compact(x), 0) == compact(x) (that it is the same JSON as x is
//   fuzz_messagedata's oracle);
// - pretty-printing changes no token: compact(relayout(x, 4)) == compact(x), refusals included.
#include "api/jsonscanner.h"
#include "require.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <cstdint>

using namespace streams;

namespace {

void checkTokens(QByteArrayView json)
{
    json::Scanner scanner(json);
    json::Token token;
    qsizetype expected = 0;
    while (scanner.next(token)) {
        require(token.offset == expected && token.length >= 1 && token.end() <= json.size(),
            "tokens follow each other, each at least one byte, inside the input");
        const json::Token again = scanner.tokenAt(token.offset);
        require(again.kind == token.kind && again.length == token.length
                && again.hasEscapes == token.hasEscapes && again.terminated == token.terminated,
            "tokenAt gives the same token again");
        if (token.isString()) {
            require(json[token.offset] == '"', "a string starts with a quote");
            require(!token.terminated || (token.length >= 2 && json[token.end() - 1] == '"'),
                "a terminated string ends with a quote");
            (void)json::decodedString(json, token);
        }
        expected = token.end();
    }
    require(expected == json.size(), "the tokens cover the input");
}

bool sameProblem(const json::CompactProblem &a, const json::CompactProblem &b)
{
    return a.kind == b.kind;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView json(data, qsizetype(size));
    checkTokens(json);

    const QByteArray flat = json::relayout(json, 0);
    const QByteArray pretty = json::relayout(json, 4);
    require(json::relayout(flat, 0) == flat, "the flat layout is a fixed point");
    require(json::relayout(pretty, 4) == pretty, "the pretty layout is a fixed point");
    require(json::relayout(pretty, 0) == flat, "flattening the pretty layout gives the flat one");
    const auto compact = json::canonicalCompact(json);
    const auto kept = json::canonicalCompact(json, true);
    require(!compact.has_value() || kept.has_value(), "keeping lone surrogates refuses less");

    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError)
        return 0;
    for (const auto *result : {&compact, &kept}) {
        const bool keep = result == &kept;
        const auto fromPretty = json::canonicalCompact(pretty, keep);
        const auto fromFlat = json::canonicalCompact(flat, keep);
        require(fromPretty.has_value() == result->has_value()
                && fromFlat.has_value() == result->has_value(),
            "a layout is refused exactly when the text is");
        if (!result->has_value()) {
            require(sameProblem(fromPretty.error(), result->error()),
                "a layout is refused for the same reason");
            continue;
        }
        const QByteArray &once = **result;
        require(*fromPretty == once && *fromFlat == once, "a layout has the same compact form");
        require(json::canonicalCompact(once, keep).value_or(QByteArray("refused")) == once,
            "the compact form is a fixed point");
        require(json::relayout(once, 0) == once, "the compact form has no whitespace to drop");
    }
    return 0;
}
