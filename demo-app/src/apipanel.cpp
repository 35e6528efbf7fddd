// SPDX-License-Identifier: MIT
#include "apipanel.h"

#include <keyloop/client.h>
#include <keyloop/httpreply.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtNetwork/QNetworkRequest>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

#include <memory>

namespace {

QString prettyBody(const QByteArray &body)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error == QJsonParseError::NoError && !doc.isNull())
        return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
    return QString::fromUtf8(body.left(64 * 1024));
}

} // namespace

ApiPanel::ApiPanel(QWidget *parent)
    : QGroupBox(QStringLiteral("Call the API"), parent), m_endpoints(new QWidget(this)),
      m_endpointLayout(new QVBoxLayout(m_endpoints)), m_method(new QComboBox(this)), m_url(new QLineEdit(this)),
      m_body(new QPlainTextEdit(this)), m_send(new QPushButton(QStringLiteral("Se&nd"), this)), m_status(new QLabel(this)),
      m_response(new QPlainTextEdit(this))
{
    setObjectName(QStringLiteral("apiPanel"));
    m_method->setObjectName(QStringLiteral("methodBox"));
    m_url->setObjectName(QStringLiteral("urlEdit"));
    m_body->setObjectName(QStringLiteral("bodyEdit"));
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_status->setObjectName(QStringLiteral("apiStatus"));
    m_response->setObjectName(QStringLiteral("apiResponse"));
    m_endpointLayout->setContentsMargins(0, 0, 0, 0);
    m_method->addItems({QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"), QStringLiteral("PATCH"),
                        QStringLiteral("DELETE")});
    m_method->setAccessibleName(QStringLiteral("Method"));
    m_url->setPlaceholderText(QStringLiteral("https://api.example.com/v1/me"));
    m_url->setAccessibleName(QStringLiteral("URL"));
    m_body->setPlaceholderText(QStringLiteral("JSON body (POST, PUT, PATCH)"));
    m_body->setMaximumHeight(70);
    m_body->setAccessibleName(QStringLiteral("Request body"));
    m_status->setTextFormat(Qt::PlainText);
    m_status->setText(QStringLiteral("No request yet."));
    m_response->setReadOnly(true);
    m_response->setAccessibleName(QStringLiteral("Response"));

    auto *free = new QHBoxLayout;
    free->addWidget(m_method);
    free->addWidget(m_url, 1);
    free->addWidget(m_send);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_endpoints);
    layout->addLayout(free);
    layout->addWidget(m_body);
    layout->addWidget(m_status);
    layout->addWidget(m_response, 1);
    connect(m_send, &QPushButton::clicked, this, &ApiPanel::sendFromFields);
    connect(m_url, &QLineEdit::returnPressed, this, &ApiPanel::sendFromFields);
}

void ApiPanel::setClient(Keyloop::Client *client, const QList<ApiProfile> &apis)
{
    m_client = client;
    while (QLayoutItem *item = m_endpointLayout->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    int n = 0;
    for (const ApiProfile &api : apis) {
        for (const ApiEndpoint &e : api.endpoints) {
            auto *button = new QPushButton(QStringLiteral("%1   (%2 %3)").arg(e.label, QString::fromLatin1(e.method), e.url.path()), m_endpoints);
            button->setObjectName(QStringLiteral("endpointButton%1").arg(n++));
            button->setToolTip(e.url.toDisplayString());
            m_endpointLayout->addWidget(button);
            connect(button, &QPushButton::clicked, this, [this, e] {
                m_method->setCurrentText(QString::fromLatin1(e.method));
                m_url->setText(e.url.toString());
                m_body->setPlainText(QString::fromUtf8(e.body));
                send(e.method, e.url, e.body);
            });
        }
    }
    if (m_url->text().isEmpty() && !apis.isEmpty() && !apis.first().locations.isEmpty())
        m_url->setText(apis.first().locations.first().toString());
}

void ApiPanel::sendFromFields()
{
    const QUrl url = QUrl::fromUserInput(m_url->text().trimmed());
    if (!url.isValid() || url.isRelative()) {
        m_status->setText(QStringLiteral("Enter an absolute URL."));
        return;
    }
    send(m_method->currentText().toLatin1(), url, m_body->toPlainText().toUtf8());
}

void ApiPanel::send(const QByteArray &method, const QUrl &url, const QByteArray &body)
{
    if (!m_client)
        return;
    if (m_reply)
        m_reply->cancel(); // one request at a time in this panel
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "application/json");
    const bool withBody = method == "POST" || method == "PUT" || method == "PATCH";
    if (withBody)
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    Keyloop::HttpReply *reply = withBody ? m_client->sendCustomRequest(request, method, Keyloop::HttpBody(body))
                                         : m_client->sendCustomRequest(request, method);
    m_reply = reply;
    m_status->setText(QStringLiteral("%1 %2 …").arg(QString::fromLatin1(method), url.toDisplayString()));
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    connect(reply, &Keyloop::Job::finished, this, [this, reply, timer] {
        const qint64 ms = timer->elapsed();
        const Keyloop::Error error = reply->error();
        if (error.code() == Keyloop::Error::Code::Cancelled)
            return;
        const int status = reply->statusCode();
        QString line = status > 0 ? QStringLiteral("HTTP %1").arg(status) : QStringLiteral("No answer");
        if (error)
            line += QStringLiteral(" — ") + error.message();
        line += QStringLiteral("  ·  %1 ms").arg(ms);
        m_status->setText(line);
        m_response->setPlainText(prettyBody(reply->body()));
        Q_EMIT answered(status, error);
    });
}

QString ApiPanel::statusText() const { return m_status->text(); }
QString ApiPanel::responseText() const { return m_response->toPlainText(); }
