// libFuzzer target: the contract's input rules (core/api/validation and the SID shapes) on
// arbitrary text. Each verdict is checked against the rule as the contract states it, so a
// validator that accepts too much (a sign, a non-ASCII digit, a Unicode look-alike) or refuses
// too much is a finding, not only a crash.
//
// The first byte selects how the rest becomes text: UTF-8 (what HTTP delivers) or raw UTF-16
// (what the console's widgets hand over, lone surrogates included).
#include "api/limits.h"
#include "api/sid.h"
#include "api/validation.h"
#include "require.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

using namespace streams;

namespace {

bool isAsciiDigits(QStringView text)
{
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}

// The value of a run of ASCII digits, saturating far above every limit.
qint64 digitsValue(QStringView text)
{
    qint64 value = 0;
    for (const QChar c : text)
        value = qMin<qint64>(value * 10 + (c.unicode() - u'0'), qint64(1) << 40);
    return value;
}

// Characters as the user typed them: a surrogate pair is one, a lone surrogate is one.
qsizetype characters(QStringView text)
{
    qsizetype count = 0;
    for (qsizetype i = 0; i < text.size(); ++i, ++count) {
        if (text[i].isHighSurrogate() && i + 1 < text.size() && text[i + 1].isLowSurrogate())
            ++i;
    }
    return count;
}

bool isHex(QChar c)
{
    return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
}

void checkUniqueName(QStringView text)
{
    const bool sidShaped = sid::looksLikeSid(text);
    const bool expected =
        !text.isEmpty() && characters(text) <= limits::kMaxUniqueNameLength && !sidShaped;
    const auto error = validation::checkUniqueName(text);
    require(error.has_value() != expected, "unique name: 1..320 characters, not SID-shaped");
    if (error)
        require(error->code() == 54302 && error->httpStatus() == 400, "unique name: 54302");
}

void checkSid(QStringView text)
{
    bool shape = text.size() == 34 && text[0] >= u'A' && text[0] <= u'Z' && text[1] >= u'A'
        && text[1] <= u'Z';
    for (qsizetype i = 2; shape && i < text.size(); ++i)
        shape = isHex(text[i]);
    require(sid::looksLikeSid(text) == shape, "SID shape: two capitals and 32 hex digits");
    for (const SidKind kind : {SidKind::Account, SidKind::Service, SidKind::Stream,
             SidKind::Message, SidKind::ApiKey, SidKind::RequestId}) {
        if (sid::isValid(text, kind))
            require(shape && text.startsWith(sid::prefix(kind)), "a valid SID has its prefix");
    }
}

void checkTtl(QStringView text)
{
    const auto ttl = validation::parseTtl(text);
    const bool expected =
        text.isEmpty() || (isAsciiDigits(text) && digitsValue(text) <= limits::kMaxTtlSeconds);
    require(ttl.has_value() == expected, "Ttl: empty or digits for 0..31536000");
    if (ttl)
        require(*ttl == (text.isEmpty() ? 0 : digitsValue(text)), "Ttl: the value sent");
    else
        require(ttl.error().code() == 54011 && ttl.error().httpStatus() == 400, "Ttl: 54011");
}

void checkPaging(QStringView text)
{
    const bool digits = !text.isEmpty() && isAsciiDigits(text);
    const qint64 value = digits ? digitsValue(text) : -1;

    const auto size = validation::parsePageSize(text);
    require(size.has_value() == (digits && value >= limits::kMinPageSize),
        "PageSize: digits for any positive value");
    require(!size || *size == qMin<qint64>(value, limits::kMaxPageSize),
        "PageSize: the value sent, at most a full page");
    require(size || size.error().httpStatus() == 400, "PageSize: a 400");

    const auto page = validation::parsePageNumber(text);
    require(page.has_value() == (digits && value <= std::numeric_limits<int>::max()),
        "Page: digits for 0..2^31-1");
    require(!page || *page == value, "Page: the value sent");
    require(page || page.error().httpStatus() == 400, "Page: a 400");
}

void checkBoolean(QStringView text)
{
    // Twilio's clients send "true"/"false" in any ASCII case, nothing else.
    const QString lower = text.toString().toLower();
    const bool ascii = std::all_of(text.begin(), text.end(), [](QChar c) { return c < u'\x80'; });
    const auto value = validation::parseBoolean(text);
    if (value)
        require(ascii, "boolean: only ASCII spellings are accepted");
    if (ascii) {
        const std::optional<bool> expected = lower == u"true" ? std::optional<bool>(true)
            : lower == u"false"                               ? std::optional<bool>(false)
                                                              : std::nullopt;
        require(value == expected, "boolean: true or false in any case");
    }
}

void checkLineAndColumn(QByteArrayView bytes, qsizetype offset)
{
    const auto [line, column] = validation::lineAndColumn(bytes, offset);
    const qsizetype end = qBound<qsizetype>(0, offset, bytes.size());
    const QByteArrayView before = bytes.first(end);
    require(line == before.count('\n') + 1, "line: one plus the newlines before the offset");
    const qsizetype lineStart = before.lastIndexOf('\n') + 1;
    require(column >= 1 && column <= end - lineStart + 1, "column: within the line, in characters");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView rest(data + 1, qsizetype(size - 1));
    QString text;
    if (data[0] & 1) {
        text = QString(rest.size() / 2, Qt::Uninitialized);
        std::memcpy(text.data(), rest.data(), size_t(text.size()) * sizeof(QChar)); // unaligned
    } else {
        text = QString::fromUtf8(rest);
    }

    checkUniqueName(text);
    checkSid(text);
    checkTtl(text);
    checkPaging(text);
    checkBoolean(text);
    checkLineAndColumn(rest, qsizetype(data[0] >> 1) * 32 - 64);
    return 0;
}
