#include "api/sid.h"

#include "api/hexdigit.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <array>

namespace streams::sid {

namespace {
constexpr qsizetype kHexDigits = 32;

bool isHexDigit(QChar c)
{
    return c.unicode() < 0x80 && hexDigitValue(char(c.unicode())) >= 0;
}

bool hasHexTail(QStringView text)
{
    if (text.size() != 2 + kHexDigits)
        return false;
    for (qsizetype i = 2; i < text.size(); ++i) {
        if (!isHexDigit(text[i]))
            return false;
    }
    return true;
}
} // namespace

QLatin1StringView prefix(SidKind kind)
{
    switch (kind) {
    case SidKind::Account: return QLatin1StringView("AC");
    case SidKind::Service: return QLatin1StringView("IS");
    case SidKind::Stream: return QLatin1StringView("TO");
    case SidKind::Message: return QLatin1StringView("TZ");
    case SidKind::ApiKey: return QLatin1StringView("SK");
    case SidKind::RequestId: return QLatin1StringView("RQ");
    }
    Q_UNREACHABLE();
    return {};
}

namespace {
QString withHexTail(SidKind kind, const std::array<quint32, 4> &words)
{
    const QByteArray hex =
        QByteArray::fromRawData(reinterpret_cast<const char *>(words.data()), sizeof words).toHex();
    QString out;
    out.reserve(2 + kHexDigits);
    out += prefix(kind);
    out += QLatin1StringView(hex);
    return out;
}
} // namespace

QString generate(SidKind kind)
{
    std::array<quint32, 4> words{};
    QRandomGenerator::system()->fillRange(words.data(), words.size());
    return withHexTail(kind, words);
}

QString generateOrdered(SidKind kind)
{
    std::array<quint32, 4> words{};
    QRandomGenerator::system()->fillRange(words.data(), words.size());
    // 48 bits of milliseconds, big-endian so that the hex sorts as the number does (until
    // the year 10889); the remaining 80 bits stay random.
    const auto ms = quint64(QDateTime::currentMSecsSinceEpoch()) & 0xffff'ffff'ffffULL;
    auto *bytes = reinterpret_cast<uchar *>(words.data());
    for (int i = 0; i < 6; ++i)
        bytes[i] = uchar(ms >> (40 - 8 * i));
    return withHexTail(kind, words);
}

bool isValid(QStringView text, SidKind kind)
{
    return text.startsWith(prefix(kind)) && hasHexTail(text);
}

bool looksLikeSid(QStringView text)
{
    if (text.size() != 2 + kHexDigits)
        return false;
    const auto isCapital = [](QChar c) { return c.unicode() >= u'A' && c.unicode() <= u'Z'; };
    return isCapital(text[0]) && isCapital(text[1]) && hasHexTail(text);
}

} // namespace streams::sid
