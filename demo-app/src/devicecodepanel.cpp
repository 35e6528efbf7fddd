// SPDX-License-Identifier: MIT
#include "devicecodepanel.h"

#include "qrcode.h"
#include "qrimage.h"

#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtGui/QPixmap>
#include <QtWidgets/QGridLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPushButton>

DeviceCodePanel::DeviceCodePanel(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("deviceCodePanel"));
    setFrameShape(QFrame::StyledPanel);
    auto *intro = new QLabel(QStringLiteral("Sign in on your phone or another computer: open this address and "
                                            "enter the code, or scan the QR code."), this);
    intro->setWordWrap(true);
    m_address = new QLabel(this);
    m_address->setObjectName(QStringLiteral("verificationUriLabel"));
    m_address->setTextFormat(Qt::PlainText); // the provider's text: never rich text
    m_address->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_code = new QLabel(this);
    m_code->setObjectName(QStringLiteral("userCodeLabel"));
    m_code->setTextFormat(Qt::PlainText);
    m_code->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_code->setAccessibleName(QStringLiteral("Code to enter"));
    QFont big = m_code->font();
    big.setPointSizeF(big.pointSizeF() * 2.2);
    big.setBold(true);
    big.setStyleHint(QFont::Monospace);
    m_code->setFont(big);
    m_qr = new QLabel(this);
    m_qr->setObjectName(QStringLiteral("deviceQrCode"));
    m_qr->setAccessibleName(QStringLiteral("QR code of the sign-in address"));
    m_copy = new QPushButton(QStringLiteral("Copy the &address"), this);
    m_copy->setObjectName(QStringLiteral("copyVerificationUriButton"));
    auto *waiting = new QLabel(QStringLiteral("Waiting for the sign-in to be approved there…"), this);

    auto *layout = new QGridLayout(this);
    layout->addWidget(intro, 0, 0, 1, 2);
    layout->addWidget(m_address, 1, 0);
    layout->addWidget(m_copy, 1, 1);
    layout->addWidget(m_code, 2, 0, 1, 2);
    layout->addWidget(m_qr, 3, 0, 1, 2, Qt::AlignLeft);
    layout->addWidget(waiting, 4, 0, 1, 2);
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_uri.toString(QUrl::FullyEncoded)); });
    hide();
}

void DeviceCodePanel::showCode(const QString &userCode, const QUrl &verificationUri, const QUrl &complete)
{
    m_uri = verificationUri;
    m_code->setText(userCode);
    m_address->setText(verificationUri.toString(QUrl::FullyEncoded));
    // RFC 8628 §3.3.1: the QR code opens the address with the code in it; the code stays shown.
    const int ratio = qMax(1, qRound(devicePixelRatioF()));
    QImage qr;
    if (!userCode.isEmpty()) {
        const KeyloopQr::QrCode code =
            KeyloopQr::QrCode::encode((complete.isEmpty() ? verificationUri : complete).toEncoded());
        qr = KeyloopQr::toImage(code, 4 * ratio); // null when the address is too long for a QR code
        qr.setDevicePixelRatio(ratio);
    }
    m_qr->setPixmap(qr.isNull() ? QPixmap() : QPixmap::fromImage(qr));
    m_qr->setVisible(!qr.isNull());
    setVisible(!userCode.isEmpty());
}

QString DeviceCodePanel::userCode() const { return m_code->text(); }

QImage DeviceCodePanel::qrImage() const
{
    return m_qr->pixmap().isNull() ? QImage() : m_qr->pixmap().toImage();
}
