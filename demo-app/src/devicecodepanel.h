// SPDX-License-Identifier: MIT
// The device sign-in's panel (RFC 8628 §3.3): the user code in large type, the address to open
// on a phone or another computer, and a QR code of the address with the code in it (§3.3.1),
// with the code still shown as text next to it.
#pragma once

#include <QtCore/QUrl>
#include <QtWidgets/QFrame>

class QLabel;
class QPushButton;

class DeviceCodePanel : public QFrame
{
    Q_OBJECT
public:
    explicit DeviceCodePanel(QWidget *parent = nullptr);

    /// Shows \a userCode, \a verificationUri and a QR code of \a complete (of \a verificationUri
    /// when \a complete is empty); an empty \a userCode clears and hides the panel.
    void showCode(const QString &userCode, const QUrl &verificationUri, const QUrl &complete);
    QString userCode() const;
    QUrl verificationUri() const { return m_uri; }
    /// The QR code as shown (null when none could be drawn).
    QImage qrImage() const;

private:
    QLabel *m_code;
    QLabel *m_address;
    QLabel *m_qr;
    QPushButton *m_copy;
    QUrl m_uri;
};
