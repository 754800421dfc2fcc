#include "api/sid.h"

#include "api/hexdigit.h"

#include <QRandomGenerator>

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

QString generate(SidKind kind)
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    const QByteArray hex =
        QByteArray::fromRawData(reinterpret_cast<const char *>(words), sizeof words).toHex();
    QString out;
    out.reserve(2 + kHexDigits);
    out += prefix(kind);
    out += QLatin1StringView(hex);
    return out;
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
