#include "ui/engine/enginemenu.h"

#include "backend/backend.h"
#include "ui/common/durationformat.h"

#include <QFile>
#include <QFileDialog>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageBox>
#include <QPointer>
#include <QSaveFile>
#include <QThreadPool>

namespace streams {

namespace {
QJsonObject objectOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QString describeFault(const QJsonObject &rule)
{
    QStringList actions;
    if (rule.value(QLatin1StringView("drop")).toDouble() > 0)
        actions.append(QObject::tr("drop %1 %")
                           .arg(rule.value(QLatin1StringView("drop")).toDouble() * 100, 0, 'g', 3));
    if (const int delay = rule.value(QLatin1StringView("delay_ms")).toInt(); delay > 0)
        actions.append(QObject::tr("delay %1 ms ± %2")
                           .arg(delay)
                           .arg(rule.value(QLatin1StringView("jitter_ms")).toInt()));
    if (const int window = rule.value(QLatin1StringView("reorder_window")).toInt(); window > 1)
        actions.append(QObject::tr("reorder by %1").arg(window));
    const QJsonObject rest = rule.value(QLatin1StringView("rest_error")).toObject();
    if (!rest.isEmpty())
        actions.append(QObject::tr("answer %1 / %2")
                           .arg(rest.value(QLatin1StringView("status")).toInt())
                           .arg(rest.value(QLatin1StringView("code")).toInt()));
    if (rule.value(QLatin1StringView("disconnect")).toBool())
        actions.append(QObject::tr("disconnect"));
    return QObject::tr("%1  %2/%3: %4 (acted %5×)")
        .arg(rule.value(QLatin1StringView("id")).toString(),
            rule.value(QLatin1StringView("service")).toString(),
            rule.value(QLatin1StringView("stream")).toString(), actions.join(QStringLiteral(", ")))
        .arg(rule.value(QLatin1StringView("acted"))
                 .toObject()
                 .value(QLatin1StringView("total"))
                 .toInt());
}
} // namespace

EngineMenu::EngineMenu(std::function<Backend *()> current, QWidget *parent)
    : QMenu(tr("E&ngine"), parent), m_current(std::move(current))
{
    setObjectName(QStringLiteral("engineMenu"));
    setToolTipsVisible(true);
    m_confirm = [this](const QString &title, const QString &text) {
        return QMessageBox::question(parentWidget(), title, text,
                   QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
            == QMessageBox::Yes;
    };
    m_pickFile = [this](bool save) {
        const QString filter = tr("Engine snapshots (*.json);;All files (*)");
        return save ? QFileDialog::getSaveFileName(
                   parentWidget(), tr("Save Engine Snapshot"), QString(), filter)
                    : QFileDialog::getOpenFileName(
                        parentWidget(), tr("Load Engine Snapshot"), QString(), filter);
    };
    m_askDuration = [this]() -> std::optional<qint64> {
        bool ok = false;
        const QString text = QInputDialog::getText(parentWidget(), tr("Advance the Clock"),
            tr("Move the engine's clock forward by (90, 15m, 1h30m, 2d):"), QLineEdit::Normal,
            QStringLiteral("1h"), &ok);
        if (!ok)
            return std::nullopt;
        const auto seconds = durationformat::parse(text);
        if (!seconds || *seconds <= 0) {
            QMessageBox::warning(parentWidget(), tr("Advance the Clock"),
                seconds ? tr("The clock only moves forward: give a duration above zero.")
                        : seconds.error());
            return std::nullopt;
        }
        return *seconds;
    };

    QMenu *clock = addMenu(tr("Advance the &Clock"));
    clock->setObjectName(QStringLiteral("advanceClockMenu"));
    m_advanceMinute = clock->addAction(tr("By 1 &Minute"), this, [this] { advance(60); });
    m_advanceHour = clock->addAction(tr("By 1 &Hour"), this, [this] { advance(3600); });
    m_advanceDay = clock->addAction(tr("By 1 &Day"), this, [this] { advance(86'400); });
    m_advanceOther = clock->addAction(tr("By &Other…"), this, [this] {
        if (const auto seconds = m_askDuration())
            advance(*seconds);
    });
    addSeparator();
    m_saveSnapshot = addAction(tr("&Save Snapshot…"), this, &EngineMenu::save);
    m_loadSnapshot = addAction(tr("&Load Snapshot…"), this, &EngineMenu::load);
    m_reset = addAction(tr("&Reset…"), this, &EngineMenu::resetEngine);
    addSeparator();
    m_listFaults = addAction(tr("&Fault Rules…"), this, &EngineMenu::showFaults);
    m_clearFaults = addAction(tr("Clear All Fault &Rules"), this, &EngineMenu::removeAllFaults);
    connect(this, &QMenu::aboutToShow, this, &EngineMenu::updateActions);
    updateActions();
}

void EngineMenu::updateActions()
{
    Backend *backend = m_current ? m_current() : nullptr;
    const bool enabled = backend && backend->hasControlPlane();
    const QString why = !backend ? tr("Select a connection in the tree")
        : enabled                ? QString()
                                 : tr("Twilio's cloud has no engine instruments: they are a "
                                                     "streams-engine's");
    for (QAction *action : {m_advanceMinute, m_advanceHour, m_advanceDay, m_advanceOther,
             m_saveSnapshot, m_loadSnapshot, m_reset, m_listFaults, m_clearFaults}) {
        action->setEnabled(enabled);
        action->setToolTip(why);
    }
}

Backend *EngineMenu::engine()
{
    Backend *backend = m_current ? m_current() : nullptr;
    if (!backend || !backend->hasControlPlane()) {
        Q_EMIT message(backend ? tr("Twilio's cloud has no engine instruments")
                               : tr("Select a connection in the tree first"));
        return nullptr;
    }
    return backend;
}

void EngineMenu::advance(qint64 seconds)
{
    Backend *backend = engine();
    if (!backend)
        return;
    const QByteArray body = QJsonDocument(
        QJsonObject{{QStringLiteral("advance_seconds"),
            double(seconds)}}).toJson(QJsonDocument::Compact);
    backend->control("POST", QStringLiteral("/_engine/clock"), body)
        .then(this,
            [this, seconds, name = backend->endpoint().displayName](
                const ApiResult<Backend::ControlReply> &reply) {
                if (!reply) {
                    Q_EMIT message(
                        tr("%1: the clock did not move: %2").arg(name, reply.error().message()));
                    return;
                }
                const QJsonObject clock = objectOf(reply->body);
                Q_EMIT message(tr("%1: clock +%2, %n stream(s) expired; now %3", nullptr,
                    clock.value(QLatin1StringView("expired_streams")).toInt())
                                   .arg(name, durationformat::format(seconds),
                                       clock.value(QLatin1StringView("now")).toString()));
            });
}

void EngineMenu::save()
{
    Backend *backend = engine();
    if (!backend)
        return;
    const QString path = m_pickFile(true);
    if (path.isEmpty())
        return;
    backend->control("GET", QStringLiteral("/_engine/state"))
        .then(this, [this, path](const ApiResult<Backend::ControlReply> &reply) {
            if (!reply) {
                Q_EMIT message(tr("Snapshot not saved: %1").arg(reply.error().message()));
                return;
            }
            const QJsonObject snapshot = objectOf(reply->body);
            qsizetype streams = 0;
            for (const QJsonValue &service :
                snapshot.value(QLatin1StringView("services")).toArray())
                streams += service.toObject().value(QLatin1StringView("streams")).toArray().size();
            const qsizetype services =
                snapshot.value(QLatin1StringView("services")).toArray().size();
            // Written off the GUI thread: a slow disk never freezes the window.
            QPointer<EngineMenu> self(this);
            QThreadPool::globalInstance()->start(
                [self, path, services, streams, bytes = reply->body] {
                    QSaveFile file(path);
                    QString error;
                    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()
                        || !file.commit())
                        error = file.errorString();
                    QMetaObject::invokeMethod(
                        self,
                        [self, path, services, streams, error] {
                            if (!self)
                                return;
                            Q_EMIT self->message(error.isEmpty()
                                    ? tr("Saved %1 service(s) and %2 stream(s) to %3")
                                          .arg(services)
                                          .arg(streams)
                                          .arg(path)
                                    : tr("Snapshot not saved to %1: %2").arg(path, error));
                        },
                        Qt::QueuedConnection);
                });
        });
}

void EngineMenu::load()
{
    Backend *backend = engine();
    if (!backend)
        return;
    const QString path = m_pickFile(false);
    if (path.isEmpty())
        return;
    QPointer<Backend> target(backend);
    QPointer<EngineMenu> self(this);
    // Read off the GUI thread; the answer comes back to it.
    QThreadPool::globalInstance()->start([self, target, path] {
        QFile file(path);
        QByteArray bytes;
        QString error;
        if (file.open(QIODevice::ReadOnly))
            bytes = file.readAll();
        else
            error = file.errorString();
        QMetaObject::invokeMethod(
            self,
            [self, target, path, bytes, error] {
                if (self)
                    self->loadRead(target, path, bytes, error);
            },
            Qt::QueuedConnection);
    });
}

void EngineMenu::loadRead(const QPointer<Backend> &target, const QString &path,
    const QByteArray &bytes, const QString &error)
{
    if (!error.isEmpty()) {
        Q_EMIT message(tr("Cannot read %1: %2").arg(path, error));
        return;
    }
    if (!target)
        return;
    if (!m_confirm(tr("Load Engine Snapshot"),
            tr("Replace every service and stream of “%1” with those in %2?\n\nStreams that "
               "are not in the snapshot are removed, and their subscribers are told so. Fault "
               "rules and the clock stay as they are.")
                .arg(target->endpoint().displayName, path)))
        return;
    target->control("PUT", QStringLiteral("/_engine/state"), bytes)
        .then(this, [this, target, path](const ApiResult<Backend::ControlReply> &reply) {
            if (!reply) {
                Q_EMIT message(
                    tr("Snapshot not loaded (nothing changed): %1").arg(reply.error().message()));
                return;
            }
            const QJsonObject counts = objectOf(reply->body);
            Q_EMIT message(tr("Loaded %1: %2 service(s), %3 stream(s)")
                               .arg(path)
                               .arg(counts.value(QLatin1StringView("services")).toInt())
                               .arg(counts.value(QLatin1StringView("streams")).toInt()));
            if (target)
                Q_EMIT stateReplaced(target);
        });
}

void EngineMenu::resetEngine()
{
    Backend *backend = engine();
    if (!backend)
        return;
    if (!m_confirm(tr("Reset Engine"),
            tr("Reset “%1” to the state of a first start?\n\nEvery service and stream is "
               "removed (a new default service is made) and every fault rule goes. The clock "
               "stays where it is.")
                .arg(backend->endpoint().displayName)))
        return;
    QPointer<Backend> target(backend);
    backend->control("POST", QStringLiteral("/_engine/reset"))
        .then(this, [this, target](const ApiResult<Backend::ControlReply> &reply) {
            if (!reply) {
                Q_EMIT message(tr("Not reset: %1").arg(reply.error().message()));
                return;
            }
            Q_EMIT message(tr("Engine reset: only the default service is left"));
            if (target)
                Q_EMIT stateReplaced(target);
        });
}

void EngineMenu::showFaults()
{
    Backend *backend = engine();
    if (!backend)
        return;
    backend->control("GET", QStringLiteral("/_engine/faults"))
        .then(this,
            [this, name = backend->endpoint().displayName](
                const ApiResult<Backend::ControlReply> &reply) {
                if (!reply) {
                    Q_EMIT message(tr("Fault rules not read: %1").arg(reply.error().message()));
                    return;
                }
                QStringList lines;
                for (const QJsonValue &rule :
                    objectOf(reply->body).value(QLatin1StringView("faults")).toArray())
                    lines.append(describeFault(rule.toObject()));
                Q_EMIT message(lines.isEmpty()
                        ? tr("%1 has no fault rules").arg(name)
                        : tr("%1: %n fault rule(s)", nullptr, int(lines.size())).arg(name));
                if (!lines.isEmpty() && parentWidget() && parentWidget()->isVisible())
                    QMessageBox::information(parentWidget(), tr("Fault Rules of %1").arg(name),
                        lines.join(QLatin1Char('\n')));
            });
}

void EngineMenu::removeAllFaults()
{
    Backend *backend = engine();
    if (!backend)
        return;
    backend->control("DELETE", QStringLiteral("/_engine/faults"))
        .then(this,
            [this, name = backend->endpoint().displayName](
                const ApiResult<Backend::ControlReply> &reply) {
                Q_EMIT message(reply
                        ? tr("%1: every fault rule removed").arg(name)
                        : tr("Fault rules not removed: %1").arg(reply.error().message()));
            });
}

} // namespace streams
