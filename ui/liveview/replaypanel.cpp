#include "ui/liveview/replaypanel.h"

#include "backend/backend.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <climits>

namespace streams {

namespace {
QString countOf(qsizetype count)
{
    return QLocale().toString(count)
        + (count == 1 ? QStringLiteral(" message") : QStringLiteral(" messages"));
}
} // namespace

ReplayPanel::ReplayPanel(Backend &backend, QWidget *parent)
    : QFrame(parent),
      m_backend(backend),
      m_status(new QLabel(this)),
      m_pace(new QComboBox(this)),
      m_start(new QPushButton(tr("Start"), this)),
      m_progress(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Close"), this))
{
    setObjectName(QStringLiteral("replayPanel"));
    setFrameShape(QFrame::StyledPanel);
    m_status->setObjectName(QStringLiteral("replayStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_pace->setObjectName(QStringLiteral("replayPace"));
    m_pace->addItem(tr("Recorded pace ×1"), QVariant::fromValue(StreamReplay::Pace::Recorded));
    m_pace->addItem(tr("×2"), QVariant::fromValue(StreamReplay::Pace::RecordedTwice));
    m_pace->addItem(tr("×10"), QVariant::fromValue(StreamReplay::Pace::RecordedTenTimes));
    m_pace->addItem(
        tr("As fast as allowed"), QVariant::fromValue(StreamReplay::Pace::AsFastAsAllowed));
    m_pace->setToolTip(tr("The recorded gaps between messages as they were received, shortened "
                          "2 or 10 times, or ignored: as fast as the stream's publish rate "
                          "allows"));
    m_start->setObjectName(QStringLiteral("replayStart"));
    m_progress->setObjectName(QStringLiteral("replayProgress"));
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancel->setObjectName(QStringLiteral("replayCancel"));

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 2, 6, 2);
    layout->addWidget(m_status, 1);
    layout->addWidget(m_pace);
    layout->addWidget(m_start);
    layout->addWidget(m_progress, 1);
    layout->addWidget(m_cancel);

    connect(m_start, &QPushButton::clicked, this, &ReplayPanel::start);
    connect(m_cancel, &QPushButton::clicked, this, &ReplayPanel::cancel);
    hide();
}

ReplayPanel::~ReplayPanel() = default;

void ReplayPanel::setStream(const QString &serviceSid, const QString &streamSid)
{
    if (m_replay)
        m_replay->cancel();
    m_replay.reset();
    ++m_loadId;
    m_records.clear();
    m_serviceSid = serviceSid;
    m_streamSid = streamSid;
    hide();
}

QString ReplayPanel::statusText() const
{
    return m_status->text();
}

void ReplayPanel::chooseFile()
{
    if (m_replay && m_replay->isRunning())
        return; // one replay at a time; the strip shows it
    if (m_pickFile) {
        const QString path = m_pickFile();
        if (!path.isEmpty())
            load(path);
        return;
    }
    // Non-modal: the live view keeps streaming while the dialog is open, and no nested event loop.
    auto *dialog = new QFileDialog(
        this, tr("Replay NDJSON"), QString(), tr("NDJSON (*.ndjson *.jsonl);;All files (*)"));
    dialog->setAcceptMode(QFileDialog::AcceptOpen);
    dialog->setFileMode(QFileDialog::ExistingFile);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, &ReplayPanel::load);
    dialog->open();
}

void ReplayPanel::load(const QString &path)
{
    m_replay.reset();
    m_records.clear();
    m_fileName = QFileInfo(path).fileName();
    const quint64 loadId = ++m_loadId;
    m_status->setText(tr("Reading %1…").arg(m_fileName));
    m_pace->hide();
    m_start->hide();
    m_progress->hide();
    m_cancel->setText(tr("Close"));
    show();
    MessageRecording::read(path).then(
        this, [this, loadId, path](const MessageRecording::Result &result) {
            if (loadId != m_loadId)
                return;
            if (!result) {
                hide();
                Q_EMIT failed(tr("%1 cannot be replayed: %2").arg(path, result.error().text()));
                return;
            }
            m_records = *result;
            showLoaded();
        });
}

void ReplayPanel::showLoaded()
{
    qint64 first = -1;
    qint64 last = -1;
    for (const MessageRecording::Record &record : std::as_const(m_records)) {
        if (record.receivedMs < 0)
            continue;
        if (first < 0)
            first = record.receivedMs;
        last = std::max(last, record.receivedMs);
    }
    const QString span = first >= 0 && last > first
        ? tr(", recorded over %1").arg(durationText(last - first))
        : QString();
    m_status->setText(tr("%1 from %2%3").arg(countOf(m_records.size()), m_fileName, span));
    m_pace->show();
    m_pace->setEnabled(true);
    m_start->show();
    m_start->setEnabled(true);
    m_start->setText(tr("Start"));
    m_start->setDefault(true);
    m_start->setFocus(); // Enter starts it, as the file dialog's Enter chose the file
    m_progress->hide();
    m_cancel->setText(tr("Close"));
}

void ReplayPanel::start()
{
    if (m_records.isEmpty() || (m_replay && m_replay->isRunning()))
        return;
    const auto pace = m_pace->currentData().value<StreamReplay::Pace>();
    m_replay =
        std::make_unique<StreamReplay>(m_backend, m_serviceSid, m_streamSid, m_records, pace);
    connect(m_replay.get(), &StreamReplay::progress, this, &ReplayPanel::showProgress);
    connect(m_replay.get(), &StreamReplay::backingOff, this, [this](int delayMs, qint64 line) {
        m_status->setToolTip(tr("Rate limited (429): line %1 is sent again in %2")
                                 .arg(line)
                                 .arg(durationText(delayMs)));
    });
    connect(m_replay.get(), &StreamReplay::finished, this, &ReplayPanel::onFinished);
    m_pace->setEnabled(false);
    m_start->setEnabled(false);
    m_progress->setRange(0, int(std::min<qsizetype>(m_records.size(), INT_MAX)));
    m_progress->setValue(0);
    m_progress->show();
    m_cancel->setText(tr("Cancel"));
    showProgress(0, m_records.size(), 0.0, -1);
    m_replay->start();
}

void ReplayPanel::cancel()
{
    if (m_replay && m_replay->isRunning()) {
        m_replay->cancel(); // onFinished() tells the outcome
        return;
    }
    ++m_loadId; // a read still under way is not wanted any more
    hide();
}

void ReplayPanel::showProgress(qsizetype published, qsizetype total, double rate, qint64 msLeft)
{
    const QLocale locale;
    QStringList parts{tr("%1 of %2").arg(locale.toString(published), countOf(total))};
    if (rate > 0)
        parts.append(tr("%1/s").arg(locale.toString(rate, 'f', rate < 10 ? 1 : 0)));
    if (msLeft >= 0 && published < total)
        parts.append(tr("%1 left").arg(durationText(msLeft)));
    m_status->setText(parts.join(QStringLiteral(" · ")));
    m_progress->setValue(int(std::min<qsizetype>(published, INT_MAX)));
}

void ReplayPanel::onFinished(const StreamReplay::Result &result)
{
    m_status->setText(result.text());
    m_status->setToolTip(result.rateLimited > 0
            ? tr("%1 rate-limited (429) answers were retried").arg(result.rateLimited)
            : QString());
    m_pace->setEnabled(true);
    m_start->setEnabled(true);
    m_start->setText(tr("Replay again"));
    m_cancel->setText(tr("Close"));
    if (result.outcome == StreamReplay::Result::Outcome::Failed)
        Q_EMIT failed(tr("Replay of %1 stopped: %2").arg(m_fileName, result.text()));
    Q_EMIT finished(result);
}

QString ReplayPanel::durationText(qint64 ms)
{
    const qint64 seconds = (ms + 999) / 1000;
    if (seconds < 60)
        return tr("%1 s").arg(seconds);
    if (seconds < 3600)
        return tr("%1 min %2 s").arg(seconds / 60).arg(seconds % 60);
    return tr("%1 h %2 min").arg(seconds / 3600).arg(seconds % 3600 / 60);
}

} // namespace streams
