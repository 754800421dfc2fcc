#pragma once

#include "api/stream.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QDialogButtonBox;

namespace streams {

class Backend;
class TtlEditor;

/// Creates a stream in a service: an optional unique name validated as you type (the contract's
/// own rules), a TTL, then the request; the service's refusal (a taken name, say) is shown at the
/// field it concerns. Accepted with the created stream.
class NewStreamDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NewStreamDialog)

public:
    NewStreamDialog(Backend &backend, QString serviceSid, QWidget *parent = nullptr);
    const Stream &stream() const { return m_stream; }
    QLineEdit *uniqueNameEdit() const { return m_uniqueName; }
    TtlEditor *ttlEditor() const { return m_ttl; }

    void accept() override;

private:
    void validate();

    Backend &m_backend;
    const QString m_serviceSid;
    QLineEdit *m_uniqueName;
    QLabel *m_nameError;
    TtlEditor *m_ttl;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
    bool m_busy = false;
    Stream m_stream;
};

} // namespace streams
