#include "ui/stream/streampropertieswidget.h"

#include "api/restjson.h"
#include "backend/backend.h"
#include "ui/common/durationformat.h"
#include "ui/stream/ttleditor.h"

#include <QClipboard>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QTimer>
#include <QToolButton>
#include <array>

namespace streams {

namespace {

// The resource's own field names are the labels: they are what a developer sees in the REST
// answers and in their code, so nothing needs translating in their head.
enum Field {
    Sid,
    UniqueName,
    AccountSid,
    ServiceSid,
    Url,
    MessagesLink,
    CreatedBy,
    DateCreated,
    DateUpdated,
    DateExpires,
    FieldCount
};

constexpr std::array<const char *, FieldCount> kFieldNames{"sid", "unique_name", "account_sid",
    "service_sid", "url", "links.messages", "created_by", "date_created", "date_updated",
    "date_expires"};

constexpr qint64 kMsPerSecond = 1000;

QString dateToolTip(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds).toLocalTime().toString(Qt::TextDate);
}

// Two overlapping sheets, drawn in the palette's text colour, for systems whose icon theme has
// no edit-copy (the offscreen platform, bare window managers). A text "Copy" on ten rows is noise.
QIcon copyIcon(const QPalette &palette)
{
    const QIcon themed = QIcon::fromTheme(QStringLiteral("edit-copy"));
    if (!themed.isNull())
        return themed;
    QIcon drawn;
    for (int size : {16, 32}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.scale(size / 16.0, size / 16.0);
        painter.setPen(QPen(palette.color(QPalette::WindowText), 1.2));
        painter.setBrush(palette.color(QPalette::Base));
        painter.drawRoundedRect(QRectF(5.5, 1.5, 8, 10), 1.5, 1.5);
        painter.drawRoundedRect(QRectF(2.5, 4.5, 8, 10), 1.5, 1.5);
        painter.end();
        drawn.addPixmap(pixmap);
    }
    return drawn;
}

} // namespace

struct StreamPropertiesWidget::Private
{
    Private(StreamPropertiesWidget *owner, Backend &backendRef) : q(owner), backend(backendRef) { }

    void buildUi();
    void showFields();
    void updateCountdown();
    void updateApplyEnabled();
    void apply();
    void onRemoved(const QString &streamSid);
    void reachExpiry();
    /// The TTL the stream was last given: an update sets both dates from the same "now".
    static qint64 configuredTtl(const Stream &stream);

    StreamPropertiesWidget *q;
    Backend &backend;
    Stream stream;
    std::array<QLineEdit *, FieldCount> values{};
    std::array<QToolButton *, FieldCount> copyButtons{};
    QLabel *countdown = nullptr;
    TtlEditor *ttl = nullptr;
    QPushButton *applyButton = nullptr;
    QLabel *applyStatus = nullptr;
    // One timer per widget, single-shot and re-armed each tick so that it wakes just after the
    // remaining whole seconds change: the display ticks with the clock and reaches "expired" on
    // the second rather than up to a second late.
    QTimer countdownTimer;
    // Counts setStream() calls that changed the stream, so an update answered after the user moved
    // to another stream does not touch the new one.
    quint64 generation = 0;
    bool inFlight = false;
    bool expiredEmitted = false;
    bool removed = false;
};

void StreamPropertiesWidget::Private::buildUi()
{
    auto *form = new QFormLayout(q);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);

    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    const QIcon copy = copyIcon(q->palette());
    for (int field = 0; field < FieldCount; ++field) {
        const QString name = QLatin1StringView(kFieldNames[field]);
        auto *value = new QLineEdit(q);
        value->setObjectName(name);
        value->setReadOnly(true);
        value->setFrame(false);
        // Read-only text, not an input: blend into the window but stay selectable.
        QPalette palette = value->palette();
        palette.setColor(QPalette::Base, palette.color(QPalette::Window));
        value->setPalette(palette);
        if (field == Sid || field == AccountSid || field == ServiceSid || field == Url
            || field == MessagesLink)
            value->setFont(fixed);

        auto *button = new QToolButton(q);
        button->setObjectName(QStringLiteral("copy_%1").arg(name));
        button->setAutoRaise(true);
        button->setIcon(copy);
        button->setToolTip(tr("Copy %1").arg(name));
        button->setAccessibleName(tr("Copy %1").arg(name));
        QObject::connect(button, &QToolButton::clicked, q,
            [this, field] { QGuiApplication::clipboard()->setText(values[field]->text()); });

        auto *row = new QHBoxLayout;
        row->setSpacing(2);
        row->addWidget(value, 1);
        row->addWidget(button);
        auto *label = new QLabel(name, q);
        label->setBuddy(value);
        form->addRow(label, row);
        values[field] = value;
        copyButtons[field] = button;
    }

    auto *separator = new QFrame(q);
    separator->setFrameShape(QFrame::HLine);
    separator->setFrameShadow(QFrame::Sunken);
    form->addRow(separator);

    countdown = new QLabel(q);
    countdown->setObjectName(QStringLiteral("countdown"));
    countdown->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = countdown->font();
    bold.setBold(true);
    countdown->setFont(bold);
    form->addRow(tr("Expires"), countdown);

    ttl = new TtlEditor(q);
    applyButton = new QPushButton(tr("Apply"), q);
    applyButton->setObjectName(QStringLiteral("applyTtl"));
    applyButton->setToolTip(tr("Set a new TTL counted from now (Enter)"));
    applyStatus = new QLabel(q);
    applyStatus->setObjectName(QStringLiteral("applyStatus"));
    applyStatus->setForegroundRole(QPalette::PlaceholderText);
    auto *ttlRow = new QHBoxLayout;
    ttlRow->addWidget(ttl, 1, Qt::AlignTop);
    ttlRow->addWidget(applyButton, 0, Qt::AlignTop);
    ttlRow->addWidget(applyStatus, 0, Qt::AlignTop | Qt::AlignLeft);
    auto *ttlLabel = new QLabel(tr("New TTL"), q);
    ttlLabel->setBuddy(ttl->lineEdit());
    form->addRow(ttlLabel, ttlRow);

    QObject::connect(ttl, &TtlEditor::validityChanged, q, [this] { updateApplyEnabled(); });
    QObject::connect(ttl, &TtlEditor::ttlChanged, q, [this] { applyStatus->clear(); });
    QObject::connect(ttl, &TtlEditor::returnPressed, q, [this] { apply(); });
    QObject::connect(applyButton, &QPushButton::clicked, q, [this] { apply(); });
}

void StreamPropertiesWidget::Private::showFields()
{
    const bool empty = stream.sid.isEmpty();
    const QString url = empty
        ? QString()
        : restjson::streamUrl(backend.endpoint().baseUrl, stream.serviceSid, stream.sid);
    const QString dash = QStringLiteral("\u2014");
    std::array<QString, FieldCount> texts;
    texts[Sid] = stream.sid;
    texts[UniqueName] = stream.uniqueName.isNull() && !empty ? dash : stream.uniqueName;
    texts[AccountSid] = stream.accountSid;
    texts[ServiceSid] = stream.serviceSid;
    texts[Url] = url;
    texts[MessagesLink] = empty ? QString() : url + QLatin1StringView("/Messages");
    texts[CreatedBy] = stream.createdBy;
    texts[DateCreated] = empty ? QString() : restjson::formatDate(stream.dateCreated);
    texts[DateUpdated] = empty ? QString() : restjson::formatDate(stream.dateUpdated);
    texts[DateExpires] = empty ? QString()
        : stream.dateExpires   ? restjson::formatDate(*stream.dateExpires)
                               : tr("never");
    for (int field = 0; field < FieldCount; ++field) {
        values[field]->setText(texts[field]);
        values[field]->setCursorPosition(0); // long URLs show their start, not their end
        values[field]->setToolTip({});
        // "—" and "never" stand for null: there is nothing to copy.
        const bool isNull = (field == UniqueName && stream.uniqueName.isNull())
            || (field == DateExpires && !stream.dateExpires);
        copyButtons[field]->setEnabled(!empty && !isNull);
    }
    if (!empty) {
        // URLs are usually wider than the form: the tooltip shows them whole.
        values[Url]->setToolTip(texts[Url]);
        values[MessagesLink]->setToolTip(texts[MessagesLink]);
        values[DateCreated]->setToolTip(dateToolTip(stream.dateCreated));
        values[DateUpdated]->setToolTip(dateToolTip(stream.dateUpdated));
        if (stream.dateExpires)
            values[DateExpires]->setToolTip(dateToolTip(*stream.dateExpires));
    }
}

void StreamPropertiesWidget::Private::updateCountdown()
{
    countdownTimer.stop();
    if (stream.sid.isEmpty()) {
        countdown->setText(QStringLiteral("\u2014"));
    } else if (removed && !expiredEmitted) {
        countdown->setText(tr("deleted"));
    } else if (!stream.dateExpires) {
        countdown->setText(tr("never expires"));
    } else {
        // By the service's clock: an engine's may have been moved on (Engine menu, CI).
        const qint64 leftMs = *stream.dateExpires * kMsPerSecond
            - (QDateTime::currentMSecsSinceEpoch() + backend.clockOffsetMs());
        if (leftMs <= 0) {
            countdown->setText(durationformat::countdown(0));
            reachExpiry();
        } else {
            countdown->setText(
                durationformat::countdown((leftMs + kMsPerSecond - 1) / kMsPerSecond));
            const qint64 toNextChange =
                leftMs % kMsPerSecond ? leftMs % kMsPerSecond : kMsPerSecond;
            // A few ms late rather than early, so the next tick always shows a new value.
            countdownTimer.start(int(toNextChange) + 5);
        }
    }
    updateApplyEnabled();
}

void StreamPropertiesWidget::Private::reachExpiry()
{
    if (expiredEmitted)
        return;
    expiredEmitted = true;
    updateApplyEnabled();
    Q_EMIT q->expired();
}

void StreamPropertiesWidget::Private::updateApplyEnabled()
{
    // An expired or deleted stream is gone from the service: an update could only answer 404.
    applyButton->setEnabled(
        !stream.sid.isEmpty() && ttl->isValid() && !inFlight && !expiredEmitted && !removed);
}

void StreamPropertiesWidget::Private::apply()
{
    if (!applyButton->isEnabled()) {
        ttl->setFocus();
        return;
    }
    const qint64 seconds = *ttl->ttlSeconds();
    inFlight = true;
    updateApplyEnabled();
    applyStatus->setText(tr("Applying\u2026"));
    const quint64 requestGeneration = generation;
    backend.updateStream(stream.serviceSid, stream.sid, seconds)
        .then(q, [this, requestGeneration](const ApiResult<Stream> &result) {
            const bool current = requestGeneration == generation;
            if (current) {
                inFlight = false;
                applyStatus->clear();
            }
            if (!result) {
                if (current) {
                    ttl->showError(tr("%1 (error %2)")
                                       .arg(result.error().message())
                                       .arg(result.error().code()));
                    updateApplyEnabled();
                    Q_EMIT q->updateFailed(result.error());
                }
                return;
            }
            if (current) {
                ttl->setTtlSeconds(configuredTtl(*result));
                q->setStream(*result);
                applyStatus->setText(tr("Applied"));
            }
            // Also for a stream the user has since left: others (the tree) still want to know.
            Q_EMIT q->streamUpdated(*result);
        });
}

void StreamPropertiesWidget::Private::onRemoved(const QString &streamSid)
{
    if (stream.sid.isEmpty() || streamSid != stream.sid || removed)
        return;
    removed = true;
    // The engine removes an expired stream at date_expires, possibly a moment before this
    // widget's own tick: that is the expiry, not a deletion.
    if (stream.dateExpires
        && *stream.dateExpires * kMsPerSecond - QDateTime::currentMSecsSinceEpoch() <= kMsPerSecond)
        reachExpiry();
    updateCountdown();
}

qint64 StreamPropertiesWidget::Private::configuredTtl(const Stream &stream)
{
    if (!stream.dateExpires)
        return 0;
    const qint64 ttl = *stream.dateExpires - stream.dateUpdated;
    return ttl > 0 ? ttl : 0;
}

StreamPropertiesWidget::StreamPropertiesWidget(Backend &backend, QWidget *parent)
    : QWidget(parent), d(std::make_unique<Private>(this, backend))
{
    d->buildUi();
    d->countdownTimer.setSingleShot(true);
    d->countdownTimer.setTimerType(Qt::PreciseTimer);
    connect(&d->countdownTimer, &QTimer::timeout, this, [this] { d->updateCountdown(); });
    connect(&backend, &Backend::clockOffsetChanged, this, [this] { d->updateCountdown(); });
    connect(&backend, &Backend::streamRemoved, this,
        [this](const QString &, const QString &streamSid) { d->onRemoved(streamSid); });
    d->showFields();
    d->updateCountdown();
}

StreamPropertiesWidget::~StreamPropertiesWidget() = default;

void StreamPropertiesWidget::setStream(const Stream &stream)
{
    // A stream that expires counts down by its service's clock: ask where that is now.
    if (stream.dateExpires && stream.sid != d->stream.sid)
        d->backend.refreshClockOffset();
    const bool otherStream = stream.sid != d->stream.sid;
    const bool otherExpiry = otherStream || stream.dateExpires != d->stream.dateExpires;
    d->stream = stream;
    if (otherStream) {
        ++d->generation;
        d->inFlight = false;
        d->removed = false;
        d->applyStatus->clear();
    }
    if (otherExpiry)
        d->expiredEmitted = false;
    // A refresh of the same stream must not throw away what the user is typing.
    if (otherStream || !d->ttl->isModified())
        d->ttl->setTtlSeconds(Private::configuredTtl(stream));
    d->showFields();
    d->updateCountdown();
}

const Stream &StreamPropertiesWidget::stream() const
{
    return d->stream;
}

TtlEditor *StreamPropertiesWidget::ttlEditor() const
{
    return d->ttl;
}

QString StreamPropertiesWidget::countdownText() const
{
    return d->countdown->text();
}

} // namespace streams
