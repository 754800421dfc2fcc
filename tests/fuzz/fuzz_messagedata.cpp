// libFuzzer target: validation::parseMessageData, the gate every published payload passes. Its
// compact form is what subscribers receive and what the 4096-byte limit measures, so besides
// never crashing it must hold that: the compact text parses back to the same object, is no
// larger than what was sent, is valid UTF-8 JSON with no raw control bytes and no surrogate
// escape (a pair becomes its character, a lone one is refused), is a fixed point of
// the validator, and the limit is applied to it consistently (at most 4096 bytes when accepted,
// more when refused as too large).
#include "api/limits.h"
#include "api/validation.h"
#include "require.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QStringDecoder>
#include <cstdint>
#include <string>
#include <vector>

using namespace streams;

namespace {

// Whether compact JSON text holds a \u escape of a UTF-16 surrogate (pairs are sent as UTF-8, a
// lone one is refused: none may be left).
bool hasSurrogateEscape(QByteArrayView json)
{
    for (qsizetype i = 0; i + 1 < json.size(); ++i) {
        if (json[i] != '\\')
            continue;
        if (json[i + 1] == 'u' && i + 3 < json.size() && (json[i + 2] == 'd' || json[i + 2] == 'D')
            && QByteArrayView("89abcdefABCDEF").contains(json[i + 3]))
            return true;
        ++i; // the escaped character is not the start of another escape
    }
    return false;
}

// JSON text as a sequence of tokens, decoded: punctuation, numbers and literals as written,
// strings as their code points. Two texts that give the same sequence are the same JSON, down
// to key order, repeated keys and number spelling, whatever their whitespace and escapes. This
// is the oracle for "the compact form is what was published", rather than QJsonObject: Qt keeps
// an object's keys sorted by UTF-16 code units when they were escaped and by code point when they
// were raw UTF-8 (the two disagree on U+E000..U+FFFF against characters past U+FFFF), and its
// lookups, operator== and even its merging of repeated keys go wrong on such objects (found by
// fuzz_messagedata). Only for text Qt accepted and canonicalCompact passed: strict JSON.
std::vector<std::u32string> tokens(QByteArrayView json)
{
    std::vector<std::u32string> out;
    qsizetype i = 0;
    const qsizetype n = json.size();
    const auto byte = [&](qsizetype at) { return static_cast<unsigned char>(json[at]); };
    const auto hex4 = [&](qsizetype at) {
        return char32_t(QByteArrayView(json.sliced(at, 4)).toUInt(nullptr, 16));
    };
    while (i < n) {
        const char c = json[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        std::u32string token;
        if (c != '"') {
            // Punctuation is one token; a number or literal runs to the next delimiter.
            token += char32_t(byte(i++));
            if (!QByteArrayView("{}[]:,").contains(c)) {
                while (i < n && !QByteArrayView("{}[]:, \t\n\r").contains(json[i]))
                    token += char32_t(byte(i++));
            }
            out.push_back(token);
            continue;
        }
        token += U'"';
        ++i;
        while (json[i] != '"') {
            if (json[i] == '\\') {
                const char e = json[i + 1];
                i += 2;
                switch (e) {
                case 'b': token += U'\b'; break;
                case 'f': token += U'\f'; break;
                case 'n': token += U'\n'; break;
                case 'r': token += U'\r'; break;
                case 't': token += U'\t'; break;
                case 'u': {
                    char32_t unit = hex4(i);
                    i += 4;
                    if (unit >= 0xD800 && unit < 0xDC00) { // a pair: the validator passed no other
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (hex4(i + 2) - 0xDC00);
                        i += 6;
                    }
                    token += unit;
                    break;
                }
                default: token += char32_t(e); break; // " \ /
                }
                continue;
            }
            // One UTF-8 sequence (the text is valid UTF-8: Qt refuses anything else).
            const unsigned char lead = byte(i);
            const int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            char32_t point = length == 1 ? lead : lead & (0x7F >> length);
            for (int k = 1; k < length; ++k)
                point = (point << 6) | (byte(i + k) & 0x3F);
            token += point;
            i += length;
        }
        ++i;
        out.push_back(token);
    }
    return out;
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
    require(!hasSurrogateEscape(compact), "no surrogate escape is sent, paired or lone");
    for (const char c : compact)
        require(static_cast<unsigned char>(c) >= 0x20, "no raw control bytes are sent");

    QJsonParseError error;
    const QJsonDocument again = QJsonDocument::fromJson(compact, &error);
    require(error.error == QJsonParseError::NoError && again.isObject(),
        "the compact form parses as an object");
    require(compact.startsWith('{') && compact.endsWith('}'), "the compact form is one object");
    // (A byte order mark before the object is no part of the JSON.)
    const QByteArrayView sent = input.startsWith("\xEF\xBB\xBF") ? input.sliced(3) : input;
    require(tokens(compact) == tokens(sent), "the compact form is the same JSON as was sent");

    const auto twice = validation::parseMessageData(compact);
    require(twice.has_value() && twice->compact == compact, "compacting is idempotent");
    require(validation::compactSize(payload->object) > 0, "the object has a size");
    return 0;
}
