#pragma once

#include <QPalette>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace streams {

/// Colours JSON as the user types: object keys, string values, numbers, true/false/null,
/// punctuation, and the composer's `{{placeholders}}`, each distinct. The colours are chosen per
/// palette (light or dark, by the base colour's lightness) so they stay readable on both; call
/// setPalette() when the editor's palette changes. Works line by line: JSON strings cannot span
/// lines, so no state carries between blocks.
class JsonHighlighter final : public QSyntaxHighlighter
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(JsonHighlighter)

public:
    enum class Token {
        Key,
        String,
        Number,
        Keyword, // true, false, null
        Punctuation,
        Placeholder,
    };
    Q_ENUM(Token)

    explicit JsonHighlighter(QTextDocument *document, const QPalette &palette = QPalette());
    ~JsonHighlighter() override;

    /// Picks the light or dark colour set for `palette` and re-highlights.
    void setPalette(const QPalette &palette);
    bool isDark() const { return m_dark; }
    QTextCharFormat format(Token token) const;

protected:
    void highlightBlock(const QString &text) override;

private:
    bool m_dark = false;
    QTextCharFormat m_formats[6];
};

} // namespace streams
