#include "ui/common/durationformat.h"

#include "api/limits.h"
#include "api/validation.h"

#include <QCoreApplication>
#include <QStringList>
#include <algorithm>
#include <array>

namespace streams::durationformat {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("streams::durationformat", text);
}

struct Unit
{
    std::array<QLatin1StringView, 5> names;
    qint64 seconds = 0;
};

// Largest first: the index is the rank that enforces "largest to smallest, each once".
constexpr std::array<Unit, 5> kUnits{{
    {{QLatin1StringView("w"), QLatin1StringView("wk"), QLatin1StringView("wks"),
         QLatin1StringView("week"), QLatin1StringView("weeks")},
        7 * 86400},
    {{QLatin1StringView("d"), QLatin1StringView("day"), QLatin1StringView("days"), {}, {}}, 86400},
    {{QLatin1StringView("h"), QLatin1StringView("hr"), QLatin1StringView("hrs"),
         QLatin1StringView("hour"), QLatin1StringView("hours")},
        3600},
    {{QLatin1StringView("m"), QLatin1StringView("min"), QLatin1StringView("mins"),
         QLatin1StringView("minute"), QLatin1StringView("minutes")},
        60},
    {{QLatin1StringView("s"), QLatin1StringView("sec"), QLatin1StringView("secs"),
         QLatin1StringView("second"), QLatin1StringView("seconds")},
        1},
}};

// More digits than this cannot be in range in any unit; stopping here also keeps the arithmetic
// far from overflow (10^12 s * one week still fits comfortably in 64 bits).
constexpr qsizetype kMaxDigits = 12;

// QChar::isDigit() also accepts other scripts' digits, which toLongLong() would not read.
bool isAsciiDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

int unitIndex(QStringView name)
{
    for (std::size_t i = 0; i < kUnits.size(); ++i)
        for (QLatin1StringView candidate : kUnits[i].names)
            if (!candidate.isEmpty() && name == candidate)
                return int(i);
    return -1;
}

QString overLimit(const QString &shown)
{
    return tr("%1 is more than the maximum TTL of %2 (%3 s)")
        .arg(shown, format(limits::kMaxTtlSeconds))
        .arg(limits::kMaxTtlSeconds);
}

QString usage()
{
    return tr("Enter seconds (3600) or a duration such as 90s, 5m, 1h30m or 2d");
}

} // namespace

std::expected<qint64, QString> parse(QStringView input)
{
    const QString text = input.trimmed().toString().toLower();
    if (text.isEmpty())
        return std::unexpected(usage());
    if (text == QLatin1StringView("never"))
        return 0;

    // Plain digits are exactly the REST parameter, so the contract's own parser decides them.
    const bool allDigits = std::all_of(text.cbegin(), text.cend(), isAsciiDigit);
    if (allDigits) {
        if (auto seconds = validation::parseTtl(text))
            return *seconds;
        return std::unexpected(overLimit(tr("%1 s").arg(text)));
    }

    qint64 total = 0;
    int previousRank = -1;
    qsizetype pos = 0;
    const qsizetype size = text.size();
    auto skipSpaces = [&] {
        while (pos < size && text.at(pos).isSpace())
            ++pos;
    };
    while (true) {
        skipSpaces();
        if (pos >= size)
            break;
        const QChar first = text.at(pos);
        if (first == u'-')
            return std::unexpected(tr("A TTL cannot be negative"));
        const qsizetype digitsStart = pos;
        while (pos < size && isAsciiDigit(text.at(pos)))
            ++pos;
        if (pos == digitsStart)
            return std::unexpected(
                tr("Expected a number at \u201c%1\u201d. %2").arg(text.mid(pos), usage()));
        const QStringView digits = QStringView(text).mid(digitsStart, pos - digitsStart);
        if (pos < size && (text.at(pos) == u'.' || text.at(pos) == u','))
            return std::unexpected(tr("Use whole numbers, e.g. 90m instead of 1.5h"));
        skipSpaces();
        const qsizetype unitStart = pos;
        while (pos < size && text.at(pos).isLetter())
            ++pos;
        const QStringView unitName = QStringView(text).mid(unitStart, pos - unitStart);
        if (unitName.isEmpty())
            return std::unexpected(
                tr("\u201c%1\u201d needs a unit: s, m, h, d or w").arg(digits.toString()));
        const int rank = unitIndex(unitName);
        if (rank < 0)
            return std::unexpected(
                tr("Unknown unit \u201c%1\u201d: use s, m, h, d or w").arg(unitName.toString()));
        if (rank <= previousRank)
            return std::unexpected(
                tr("Write each unit once, from largest to smallest (e.g. 1h 30m)"));
        previousRank = rank;
        if (digits.size() > kMaxDigits)
            return std::unexpected(overLimit(text));
        total += digits.toLongLong() * kUnits[std::size_t(rank)].seconds;
    }

    // The same range check as the REST parameter, on the seconds the duration stands for.
    if (!validation::parseTtl(QString::number(total)))
        return std::unexpected(overLimit(text));
    return total;
}

QString format(qint64 seconds)
{
    if (seconds <= 0)
        return QStringLiteral("0s");
    const qint64 days = seconds / 86400;
    const qint64 hours = seconds % 86400 / 3600;
    const qint64 minutes = seconds % 3600 / 60;
    const qint64 rest = seconds % 60;
    // Weeks are accepted on input but not shown: "365d" reads better than "52w 1d".
    QStringList parts;
    if (days)
        parts << QStringLiteral("%1d").arg(days);
    if (hours)
        parts << QStringLiteral("%1h").arg(hours);
    if (minutes)
        parts << QStringLiteral("%1m").arg(minutes);
    if (rest)
        parts << QStringLiteral("%1s").arg(rest);
    return parts.join(u' ');
}

QString countdown(qint64 secondsLeft)
{
    if (secondsLeft <= 0)
        return tr("expired");
    return tr("in %1").arg(format(secondsLeft));
}

} // namespace streams::durationformat
