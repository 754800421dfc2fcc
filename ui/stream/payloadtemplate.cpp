#include "ui/stream/payloadtemplate.h"

#include "api/apierror.h"

#include <QRandomGenerator>
#include <algorithm>

namespace streams {

namespace {

bool isIdentifierStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isIdentifierChar(char c)
{
    return isIdentifierStart(c) || (c >= '0' && c <= '9');
}

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

} // namespace

const QStringList &PayloadTemplate::knownPlaceholders()
{
    static const QStringList names = {QStringLiteral("counter"), QStringLiteral("now"),
        QStringLiteral("epoch_ms"), QStringLiteral("uuid"), QStringLiteral("random")};
    return names;
}

PayloadTemplate::PayloadTemplate(const QString &text) : m_utf8(text.toUtf8())
{
    // Only `{{ identifier }}` is a placeholder. JSON itself never contains "{{" outside a string
    // (an object cannot start with an object), and "}}" closes nested objects all the time, so
    // anything looser would eat real JSON.
    const qsizetype size = m_utf8.size();
    qsizetype literalStart = 0;
    qsizetype i = 0;
    while (i + 1 < size) {
        if (m_utf8[i] != '{' || m_utf8[i + 1] != '{') {
            ++i;
            continue;
        }
        qsizetype j = i + 2;
        while (j < size && isBlank(m_utf8[j]))
            ++j;
        const qsizetype nameStart = j;
        if (j < size && isIdentifierStart(m_utf8[j])) {
            while (j < size && isIdentifierChar(m_utf8[j]))
                ++j;
        }
        const qsizetype nameEnd = j;
        while (j < size && isBlank(m_utf8[j]))
            ++j;
        if (nameEnd == nameStart || j + 1 >= size || m_utf8[j] != '}' || m_utf8[j + 1] != '}') {
            ++i; // not a placeholder; "{{{x}}}" finds its placeholder one brace later
            continue;
        }
        const qsizetype end = j + 2;
        if (i > literalStart)
            m_parts.append(Part{Kind::Literal, literalStart, i - literalStart, {}});
        const QString name = QString::fromLatin1(m_utf8.mid(nameStart, nameEnd - nameStart));
        Kind kind = Kind::Unknown;
        if (name == u"counter")
            kind = Kind::Counter;
        else if (name == u"now")
            kind = Kind::Now;
        else if (name == u"epoch_ms")
            kind = Kind::EpochMs;
        else if (name == u"uuid")
            kind = Kind::Uuid;
        else if (name == u"random")
            kind = Kind::Random;
        m_parts.append(Part{kind, i, end - i, name});
        m_hasPlaceholders = true;
        literalStart = end;
        i = end;
    }
    if (size > literalStart)
        m_parts.append(Part{Kind::Literal, literalStart, size - literalStart, {}});
}

QStringList PayloadTemplate::unknownPlaceholders() const
{
    QStringList names;
    for (const Part &part : m_parts) {
        if (part.kind == Kind::Unknown && !names.contains(part.name))
            names.append(part.name);
    }
    return names;
}

QString PayloadTemplate::unknownPlaceholderMessage() const
{
    const QStringList names = unknownPlaceholders();
    if (names.isEmpty())
        return {};
    QStringList quoted;
    for (const QString &name : names)
        quoted.append(QStringLiteral("{{%1}}").arg(name));
    return (names.size() == 1 ? QStringLiteral("Unknown placeholder %1")
                              : QStringLiteral("Unknown placeholders %1"))
        .arg(quoted.join(QStringLiteral(", ")));
}

qsizetype PayloadTemplate::Expansion::templateOffset(qsizetype expandedOffset) const
{
    if (anchors.isEmpty() || expandedOffset <= 0)
        return qMax<qsizetype>(0, expandedOffset);
    // Past the end (where Qt reports an unterminated string) maps to the template's end.
    if (expandedOffset >= text.size()) {
        const Anchor &last = anchors.constLast();
        return last.length > 0 ? last.source + last.length + (expandedOffset - text.size())
                               : last.source;
    }
    auto it = std::upper_bound(anchors.cbegin(), anchors.cend(), expandedOffset,
        [](qsizetype offset, const Anchor &anchor) { return offset < anchor.expanded; });
    const Anchor &anchor = *(it - 1);
    return anchor.length > 0 ? anchor.source + (expandedOffset - anchor.expanded) : anchor.source;
}

std::expected<PayloadTemplate::Expansion, QString> PayloadTemplate::expand(
    const Context &context) const
{
    if (const QString unknown = unknownPlaceholderMessage(); !unknown.isEmpty())
        return std::unexpected(unknown);

    // One instant and one UUID per message, so {{now}} and {{epoch_ms}} agree and {{uuid}} can
    // serve as the message's id; {{random}} is fresh at every occurrence.
    const QDateTime now =
        context.now.isValid() ? context.now.toUTC() : QDateTime::currentDateTimeUtc();
    const QUuid uuid = context.uuid.isNull() ? QUuid::createUuid() : context.uuid;
    QRandomGenerator *random = context.random ? context.random : QRandomGenerator::global();

    Expansion expansion;
    expansion.text.reserve(m_utf8.size() + 16);
    for (const Part &part : m_parts) {
        const qsizetype at = expansion.text.size();
        if (part.kind == Kind::Literal) {
            expansion.text.append(m_utf8.constData() + part.offset, part.length);
            expansion.anchors.append(Expansion::Anchor{at, part.offset, part.length});
            continue;
        }
        switch (part.kind) {
        case Kind::Counter: expansion.text.append(QByteArray::number(context.counter)); break;
        case Kind::Now: expansion.text.append(now.toString(Qt::ISODateWithMs).toLatin1()); break;
        case Kind::EpochMs:
            expansion.text.append(QByteArray::number(now.toMSecsSinceEpoch()));
            break;
        case Kind::Uuid: expansion.text.append(uuid.toByteArray(QUuid::WithoutBraces)); break;
        case Kind::Random:
            // 31 bits: an integer every JSON reader holds exactly, never negative.
            expansion.text.append(QByteArray::number(random->generate() >> 1));
            break;
        case Kind::Literal:
        case Kind::Unknown: break;
        }
        expansion.anchors.append(Expansion::Anchor{at, part.offset, 0});
    }
    return expansion;
}

std::expected<validation::MessagePayload, validation::JsonProblem>
PayloadTemplate::expandAndValidate(const Context &context) const
{
    for (const Part &part : m_parts) {
        if (part.kind != Kind::Unknown)
            continue;
        const auto [line, column] = validation::lineAndColumn(m_utf8, part.offset);
        return std::unexpected(
            validation::JsonProblem{ApiError::invalidJson(unknownPlaceholderMessage()), part.offset,
                line, column, unknownPlaceholderMessage()});
    }
    const auto expansion = expand(context);
    if (!expansion) // unreachable after the check above, but never publish unexpanded text
        return std::unexpected(
            validation::JsonProblem{ApiError::invalidJson(expansion.error()), -1, 0, 0, {}});
    auto payload = validation::parseMessageData(expansion->text);
    if (payload || !m_hasPlaceholders || payload.error().offset < 0)
        return payload;
    // Report the syntax error where the user typed it.
    validation::JsonProblem problem = payload.error();
    const qsizetype offset = expansion->templateOffset(problem.offset);
    const auto [line, column] = validation::lineAndColumn(m_utf8, offset);
    const QString oldWhere =
        QStringLiteral(" at line %1, column %2").arg(problem.line).arg(problem.column);
    QString message = problem.error.message();
    if (message.endsWith(oldWhere))
        message = message.chopped(oldWhere.size())
            + QStringLiteral(" at line %1, column %2").arg(line).arg(column);
    problem.error = ApiError(problem.error.code(), problem.error.httpStatus(), message);
    problem.offset = offset;
    problem.line = line;
    problem.column = column;
    return std::unexpected(problem);
}

} // namespace streams
