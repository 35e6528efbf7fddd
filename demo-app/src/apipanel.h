// SPDX-License-Identifier: MIT
// The API panel: a button per endpoint of the profile, a free URL with a method and a body,
// and the answer — status, time, pretty-printed JSON. Requests go through Keyloop::Client,
// which adds the token only for the profile's API locations and refreshes it by itself.
#pragma once

#include "profile.h"

#include <keyloop/error.h>

#include <QtCore/QPointer>
#include <QtWidgets/QGroupBox>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QVBoxLayout;
namespace Keyloop { class Client; class HttpReply; }

class ApiPanel : public QGroupBox
{
    Q_OBJECT
public:
    explicit ApiPanel(QWidget *parent = nullptr);

    void setClient(Keyloop::Client *client, const QList<ApiProfile> &apis);
    void send(const QByteArray &method, const QUrl &url, const QByteArray &body);

    QString statusText() const;
    QString responseText() const;

Q_SIGNALS:
    /// A request finished (status set, body shown).
    void answered(int status, const Keyloop::Error &error);

private:
    void sendFromFields();

    QPointer<Keyloop::Client> m_client;
    QPointer<Keyloop::HttpReply> m_reply;
    QWidget *m_endpoints;
    QVBoxLayout *m_endpointLayout;
    QComboBox *m_method;
    QLineEdit *m_url;
    QPlainTextEdit *m_body;
    QPushButton *m_send;
    QLabel *m_status;
    QPlainTextEdit *m_response;
};
