#pragma once

#include <QDockWidget>
#include <QPointer>
#include <QSortFilterProxyModel>
#include <QTimer>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTableView;

namespace streams {

class Backend;
class TrafficModel;

/// The traffic dock's filter: text (method, path or who), status class, and a stream.
class TrafficFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setText(const QString &text);
    /// 0: any; 2..5: that class; 45: 4xx and 5xx.
    void setStatusClass(int statusClass);
    /// Only requests about this stream (its SID and unique name, as they appear in paths).
    void setStream(const QStringList &ids);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    int m_statusClass = 0;
    QStringList m_stream;
};

/// What reaches the engine, live: the REST requests and live frames of the developer's own code
/// and of the console, read from the engine's traffic log (GET /_engine/traffic, every half
/// second while shown, only what is new). Bounded and batched like the live view; filter by
/// text, status class and the selected stream; the details of a row; "Copy as curl" for REST
/// rows with the secret left as a variable. For Twilio's cloud it says why there is none.
class TrafficDock final : public QDockWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficDock)

public:
    explicit TrafficDock(QWidget *parent = nullptr);
    ~TrafficDock() override;

    /// The connection whose engine is watched (null: none); starts over when it changes.
    void setConnection(Backend *backend);
    /// The stream selected in the tree, followed when "Follow the selected stream" is on.
    void setSelectedStream(const QStringList &ids);

    TrafficModel *model() const { return m_model; }
    TrafficFilterProxy *proxy() const { return m_proxy; }
    QTableView *table() const { return m_table; }
    QLabel *note() const { return m_note; }
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *statusFilter() const { return m_status; }
    QCheckBox *followStream() const { return m_follow; }
    QPlainTextEdit *details() const { return m_details; }
    /// The curl command of the selected row (what "Copy as curl" copies); empty if none.
    QString selectedCurl() const;
    /// Reads what is new now (the timer does it every half second while the dock is shown).
    void poll();

private:
    void showDetails();
    void applyStreamFilter();

    QPointer<Backend> m_backend;
    TrafficModel *m_model = nullptr;
    TrafficFilterProxy *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_note = nullptr;
    QLineEdit *m_filter = nullptr;
    QComboBox *m_status = nullptr;
    QCheckBox *m_follow = nullptr;
    QPlainTextEdit *m_details = nullptr;
    QTimer m_timer;
    std::optional<qint64> m_after;
    bool m_inFlight = false;
    quint64 m_generation = 0; // answers for an earlier connection are dropped
    QStringList m_selectedStream;
};

} // namespace streams
