#pragma once

#include "api/apierror.h"
#include "api/stream.h"

#include <QWidget>
#include <memory>

namespace streams {

class Backend;
class TtlEditor;

/// Every field of a stream resource (sid, unique_name, account_sid, service_sid, url, links,
/// created_by, date_created, date_updated, date_expires), each copyable; a TTL editor whose
/// Apply updates the stream through the backend; and a live countdown to expiry.
class StreamPropertiesWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamPropertiesWidget)

public:
    explicit StreamPropertiesWidget(Backend &backend, QWidget *parent = nullptr);
    ~StreamPropertiesWidget() override;

    void setStream(const Stream &stream);
    const Stream &stream() const;

    /// The TTL field, e.g. for a "change TTL" shortcut to focus it.
    TtlEditor *ttlEditor() const;
    /// What the countdown shows: "in 59m 58s", "never expires", "expired" or "deleted".
    QString countdownText() const;

Q_SIGNALS:
    /// After Apply succeeded, with the resource the service returned.
    void streamUpdated(const streams::Stream &stream);
    /// The countdown reached date_expires.
    void expired();
    /// Apply failed: the service refused the new TTL or could not be reached.
    void updateFailed(const streams::ApiError &error);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace streams
