#pragma once

#include "api/stream.h"
#include "backend/backend.h"

#include <QMainWindow>
#include <QPointer>

namespace streams {

class ComposerWidget;
class ConsoleSettings;
class LiveViewWidget;
class PageBanner;
class StreamFaultsWidget;
class StreamPropertiesWidget;

/// Everything about one watched stream: properties, composer and live view, as three docks the
/// user can rearrange, float or tab together, under a banner that tells what failed on the page
/// (publish, TTL, delete). The last arrangement is saved and given to new pages.
class StreamPage final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamPage)

public:
    StreamPage(Backend &backend, const Stream &stream, ConsoleSettings &settings,
        QWidget *parent = nullptr);
    ~StreamPage() override;

    Backend *backend() const { return m_backend; }
    const Stream &stream() const { return m_stream; }
    QString title() const;
    bool isRemoved() const { return m_removed; }
    /// The stream is gone (deleted or expired): keep what was received, stop writing.
    void markRemoved();

    /// Shows an error on this page's banner (a failed publish, TTL change or delete), where the
    /// user is looking, instead of in a modal box.
    void showError(const QString &text);
    PageBanner *banner() const { return m_banner; }

    StreamPropertiesWidget *properties() const { return m_properties; }
    ComposerWidget *composer() const { return m_composer; }
    LiveViewWidget *liveView() const { return m_liveView; }
    /// The Faults section; null on Twilio's cloud, which has no control plane.
    StreamFaultsWidget *faults() const { return m_faults; }

protected:
    void showEvent(QShowEvent *event) override;

Q_SIGNALS:
    void titleChanged(const QString &title);
    void streamUpdated(const streams::Stream &stream);

private:
    QPointer<Backend> m_backend;
    Stream m_stream;
    ConsoleSettings &m_settings;
    StreamPropertiesWidget *m_properties;
    ComposerWidget *m_composer;
    LiveViewWidget *m_liveView;
    StreamFaultsWidget *m_faults = nullptr;
    PageBanner *m_banner;
    bool m_removed = false;
    bool m_layoutRestored = false;
    bool m_sized = false;
};

} // namespace streams
