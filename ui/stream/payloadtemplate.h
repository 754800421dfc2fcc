#pragma once

#include "api/validation.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUuid>
#include <expected>

class QRandomGenerator;

namespace streams {

/// A message payload with placeholders, for repeat publishing: `{{counter}}` (1-based index of
/// the message in a run), `{{now}}` (ISO 8601 UTC with milliseconds), `{{epoch_ms}}`, `{{uuid}}`
/// and `{{random}}` (a non-negative integer, fresh at each occurrence). Whitespace inside the
/// braces is allowed. Expansion is textual, so `{"n": {{counter}}, "at": "{{now}}"}` becomes valid
/// JSON only once expanded; the result is then validated like any payload. Not a widget: pure
/// logic, shared by the composer and the repeat publisher.
class PayloadTemplate final
{
public:
    /// Values for one message. Empty members are filled in at expansion (current time, a fresh
    /// UUID, the global random generator), so tests can pin every one of them.
    struct Context
    {
        qint64 counter = 1;
        QDateTime now;
        QUuid uuid;
        QRandomGenerator *random = nullptr;
    };

    /// One expanded text, with enough bookkeeping to map a position in it back to the template
    /// (so a JSON error is reported where the user typed it, not where the expansion put it).
    struct Expansion
    {
        QByteArray text; // UTF-8

        /// The byte offset in the template's UTF-8 text that produced `expandedOffset`; inside an
        /// expanded placeholder it is the placeholder's start.
        qsizetype templateOffset(qsizetype expandedOffset) const;

        struct Anchor
        {
            qsizetype expanded = 0;
            qsizetype source = 0;
            qsizetype length = 0; // literal run length; 0 for a placeholder's value
        };
        QList<Anchor> anchors;
    };

    PayloadTemplate() = default;
    explicit PayloadTemplate(const QString &text);

    const QByteArray &utf8() const { return m_utf8; }
    bool hasPlaceholders() const { return m_hasPlaceholders; }
    /// Placeholder names that are not known, in order of first appearance, without duplicates.
    QStringList unknownPlaceholders() const;
    /// "Unknown placeholder {{foo}}" / "Unknown placeholders {{a}}, {{b}}"; empty when none.
    QString unknownPlaceholderMessage() const;

    std::expected<Expansion, QString> expand(const Context &context) const;

    /// Expands and validates with validation::parseMessageData, the engine's own check. A
    /// problem's line and column point into the template text; an unknown placeholder is
    /// reported as invalid JSON (54008) at its position.
    std::expected<validation::MessagePayload, validation::JsonProblem> expandAndValidate(
        const Context &context) const;

    static const QStringList &knownPlaceholders();

private:
    enum class Kind {
        Literal,
        Counter,
        Now,
        EpochMs,
        Uuid,
        Random,
        Unknown
    };
    struct Part
    {
        Kind kind = Kind::Literal;
        qsizetype offset = 0; // in m_utf8
        qsizetype length = 0; // in m_utf8, the whole `{{…}}` for placeholders
        QString name; // placeholders only
    };

    QByteArray m_utf8;
    QList<Part> m_parts;
    bool m_hasPlaceholders = false;
};

} // namespace streams
