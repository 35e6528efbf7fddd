// SPDX-License-Identifier: MIT
#include "http/httpattempt_p.h"

#include "core/logging_p.h"
#include "network/httpexchange_p.h"

#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslConfiguration>

#include <climits>

namespace Keyloop {

HttpAttempt::HttpAttempt(QNetworkAccessManager *nam, const QNetworkRequest &request, const QByteArray &method,
                         const QByteArray &body, bool hasBody, const TransportOptions &options, QObject *parent)
    : QObject(parent), m_nam(nam), m_request(request), m_method(method), m_requestBody(body), m_hasBody(hasBody),
      m_options(options)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        qCDebug(lcHttp) << "request timed out:" << m_request.url().host() << m_request.url().path();
        finish(Error(Error::Code::Timeout, QStringLiteral("the request to %1 timed out").arg(m_request.url().host())));
    });
}

HttpAttempt::~HttpAttempt()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

QByteArray HttpAttempt::header(const QByteArray &name) const
{
    for (const auto &h : m_headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

Error HttpAttempt::tooLarge() const
{
    return Error(Error::Code::ResponseTooLarge,
                 QStringLiteral("the response is larger than the limit of %1 bytes").arg(m_maxSize));
}

void HttpAttempt::start()
{
    m_maxSize = m_options.maxResponseSize();
    QNetworkRequest request = m_request;
    // Qt 6 would follow redirects itself and forward every header, Authorization included, to
    // any host: HttpReply follows them (redirectpolicy_p.h).
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (request.url().scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0) {
        // The request's own TLS settings (e.g. a client certificate) are kept, but never weaker
        // than the SDK's floor.
        QSslConfiguration ssl = request.sslConfiguration();
        if (ssl.protocol() != QSsl::TlsV1_3 && ssl.protocol() != QSsl::TlsV1_3OrLater)
            ssl.setProtocol(QSsl::TlsV1_2OrLater);
        ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!m_options.extraCaCertificates().isEmpty())
            ssl.addCaCertificates(m_options.extraCaCertificates());
        request.setSslConfiguration(ssl);
    }

    qCDebug(lcHttp) << m_method.constData() << "request to" << request.url().host() << request.url().path();
    QNetworkReply *reply = nullptr;
    if (m_method == "GET" && !m_hasBody)
        reply = m_nam->get(request);
    else if (m_method == "HEAD" && !m_hasBody)
        reply = m_nam->head(request); // a custom "HEAD" would wait for a body that never comes
    else if (m_method == "DELETE" && !m_hasBody)
        reply = m_nam->deleteResource(request);
    else if (m_method == "POST")
        reply = m_nam->post(request, m_requestBody);
    else if (m_method == "PUT")
        reply = m_nam->put(request, m_requestBody);
    else
        reply = m_nam->sendCustomRequest(request, m_method, m_requestBody);
    m_reply = reply;
    connect(reply, &QNetworkReply::metaDataChanged, this, [this] {
        if (!m_reply || m_done)
            return;
        const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
        if (length.isValid() && exceedsLimit(length.toLongLong()))
            finish(tooLarge());
    });
    connect(reply, &QNetworkReply::readyRead, this, &HttpAttempt::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &HttpAttempt::onReplyFinished);
    const auto timeout = m_options.requestTimeout();
    if (timeout.count() > 0)
        m_timer.start(int(qMin<qint64>(timeout.count(), INT_MAX)));
}

void HttpAttempt::abort()
{
    m_aborted = true;
    finish(Error(Error::Code::Cancelled, QStringLiteral("the request was cancelled")));
}

void HttpAttempt::onReadyRead()
{
    if (!m_reply || m_done)
        return;
    m_body.append(m_reply->readAll());
    if (exceedsLimit(m_body.size()))
        finish(tooLarge());
}

void HttpAttempt::onReplyFinished()
{
    if (!m_reply || m_done)
        return;
    QNetworkReply *reply = m_reply;
    m_body.append(reply->readAll());
    if (exceedsLimit(m_body.size()))
        return finish(tooLarge());
    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    m_status = status.isValid() ? status.toInt() : 0;
    m_headers = reply->rawHeaderPairs();

    if (m_status > 0 && !isTransportFailure(reply->error())) {
        qCDebug(lcHttp) << "response from" << m_request.url().host() << m_request.url().path() << m_status;
        return finish(Error());
    }
    const QString host = m_request.url().host();
    const Error error = transportError(reply->error(), host);
    qCDebug(lcHttp) << "request to" << host << m_request.url().path() << "failed:" << error.code();
    finish(error);
}

void HttpAttempt::finish(const Error &error)
{
    if (m_done)
        return;
    m_done = true;
    m_error = error;
    m_timer.stop();
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
    }
    if (m_aborted)
        return;
    // Never from inside start() (the network reply reports from the event loop), and HttpReply
    // queues its own finished(): no extra event-loop hop here (client.overhead).
    Q_EMIT finished();
}

} // namespace Keyloop
