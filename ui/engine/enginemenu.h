#pragma once

#include "backend/backend.h"

#include <QMenu>
#include <QPointer>
#include <functional>
#include <optional>

namespace streams {

/// The Engine menu: the instruments of an engine connection's control plane (docs/engine.md) —
/// move its clock forward, save its state to a file, load one (after saying what it replaces),
/// reset it, and list or clear its fault rules. It acts on the connection of the tree's current
/// row; for Twilio's cloud, which has no control plane, its actions are disabled and say why.
/// Everything is asynchronous: the engine answers later, files are read and written off the GUI
/// thread.
class EngineMenu final : public QMenu
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineMenu)

public:
    /// `current` gives the connection the menu acts on (may be null).
    EngineMenu(std::function<Backend *()> current, QWidget *parent = nullptr);

    /// Enables what the current connection supports; call when the current row changes.
    void updateActions();

    // The actions, for tests and the toolbar.
    QAction *advanceMinute() const { return m_advanceMinute; }
    QAction *advanceHour() const { return m_advanceHour; }
    QAction *advanceDay() const { return m_advanceDay; }
    QAction *advanceOther() const { return m_advanceOther; }
    QAction *saveSnapshot() const { return m_saveSnapshot; }
    QAction *loadSnapshot() const { return m_loadSnapshot; }
    QAction *reset() const { return m_reset; }
    QAction *listFaults() const { return m_listFaults; }
    QAction *clearFaults() const { return m_clearFaults; }

    /// Asks before replacing an engine's state. Tests answer it instead of a dialog.
    using Confirm = std::function<bool(const QString &title, const QString &text)>;
    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }
    /// Picks a file to save to or load from (empty: cancelled). Tests answer it.
    using PickFile = std::function<QString(bool save)>;
    void setPickFile(PickFile pick) { m_pickFile = std::move(pick); }
    /// Asks for a duration to move the clock by, as the TTL editor reads one ("90", "15m",
    /// "1h30m", "2d"); nothing when cancelled. Tests answer it.
    using AskDuration = std::function<std::optional<qint64>()>;
    void setAskDuration(AskDuration ask) { m_askDuration = std::move(ask); }

Q_SIGNALS:
    /// What an action did, or why it failed, for the status bar.
    void message(const QString &text);
    /// The connection's services and streams were replaced (a snapshot loaded, a reset): its
    /// tree should be read again.
    void stateReplaced(streams::Backend *backend);

private:
    void advance(qint64 seconds);
    void save();
    void load();
    void loadRead(const QPointer<Backend> &target, const QString &path, const QByteArray &bytes,
        const QString &error);
    void resetEngine();
    void showFaults();
    void removeAllFaults();
    /// The current connection if it has a control plane; else says why and returns null.
    Backend *engine();

    std::function<Backend *()> m_current;
    Confirm m_confirm;
    PickFile m_pickFile;
    AskDuration m_askDuration;
    QAction *m_advanceMinute = nullptr;
    QAction *m_advanceHour = nullptr;
    QAction *m_advanceDay = nullptr;
    QAction *m_advanceOther = nullptr;
    QAction *m_saveSnapshot = nullptr;
    QAction *m_loadSnapshot = nullptr;
    QAction *m_reset = nullptr;
    QAction *m_listFaults = nullptr;
    QAction *m_clearFaults = nullptr;
};

} // namespace streams
