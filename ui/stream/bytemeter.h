#pragma once

#include "api/limits.h"

#include <QColor>
#include <QWidget>

namespace streams {

/// The size of a message payload against the 4 KiB limit: "3,900 / 4,096 bytes" beside a bar
/// that is neutral below 90 %, amber from 90 % up to the limit and red over it. The state is also
/// spelt out ("near the limit", "over the limit") and exposed to accessibility tools, so it never
/// rests on colour alone. The byte count comes from the caller (the compact UTF-8 form that
/// validation::parseMessageData measures); this widget only shows it.
class ByteMeter final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ByteMeter)

public:
    enum class Level {
        Unknown, // no valid JSON object to measure
        Normal,
        Near,
        Over
    };
    Q_ENUM(Level)

    static constexpr qsizetype kLimit = limits::kMaxMessageBytes;
    /// The first byte count shown amber: 90 % of the limit, rounded up (3,687 of 4,096).
    static constexpr qsizetype kNearThreshold = (kLimit * 9 + 9) / 10;

    explicit ByteMeter(QWidget *parent = nullptr);
    ~ByteMeter() override;

    /// A measured size in bytes; negative means "nothing measurable" (invalid JSON).
    void setBytes(qsizetype bytes);
    qsizetype bytes() const { return m_bytes; }
    Level level() const { return levelFor(m_bytes); }
    /// What the meter shows in words, e.g. "4,095 / 4,096 bytes · near the limit".
    QString text() const;
    /// The bar's fill colour for the current level and palette.
    QColor barColor() const;

    static Level levelFor(qsizetype bytes);
    /// Byte counts the way the console writes them: "4,096".
    static QString formatBytes(qsizetype bytes);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void updateAccessibleText();

    qsizetype m_bytes = -1;
};

} // namespace streams
