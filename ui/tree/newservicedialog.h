#pragma once

#include "api/service.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QDialogButtonBox;

namespace streams {

class Backend;

/// Creates a service: a friendly name, then the request, with the service's error shown in the
/// dialog if it refuses. Accepted with the created service.
class NewServiceDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NewServiceDialog)

public:
    NewServiceDialog(Backend &backend, QWidget *parent = nullptr);
    const Service &service() const { return m_service; }

    void accept() override;

private:
    Backend &m_backend;
    QLineEdit *m_friendlyName;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
    Service m_service;
};

} // namespace streams
