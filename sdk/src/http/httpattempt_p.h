// SPDX-License-Identifier: MIT
// One request on the wire for HttpReply: a QNetworkReply with the SDK's transport rules, a
// timeout and a size limit. Private to the SDK.
#pragma once

#include <keyloop/error.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPair>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtNetwork/QNetworkRequest>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
QT_END_NAMESPACE

namespace Keyloop {

/*!
 * Sends \a request with \a method and \a body (when \a hasBody) once; emits finished() exactly
 * once, queued (also after abort(), which emits nothing). The request is sent as given except:
 * the redirect policy is manual (a 3xx is a response like any other), TLS is 1.2 or newer with
 * peer verification and the extra CAs. error() is set only when no complete HTTP response
 * arrived (network, TLS, timeout, size limit); any status, 4xx/5xx included, is a response.
 * Logs name the host and path only.
 */
class HttpAttempt : public QObject
{
    Q_OBJECT
public:
    HttpAttempt(QNetworkAccessManager *nam, const QNetworkRequest &request, const QByteArray &method,
                const QByteArray &body, bool hasBody, const TransportOptions &options, QObject *parent = nullptr);
    ~HttpAttempt() override;

    /// Sends the request (call once).
    void start();
    /// Stops the request; finished() is not emitted afterwards.
    void abort();

    Error error() const { return m_error; }
    int status() const { return m_status; }
    QByteArray body() const { return m_body; }
    QList<QPair<QByteArray, QByteArray>> headers() const { return m_headers; }
    QByteArray header(const QByteArray &name) const;

Q_SIGNALS:
    void finished();

private:
    void onReadyRead();
    void onReplyFinished();
    void finish(const Error &error);
    bool exceedsLimit(qint64 size) const { return m_maxSize > 0 && size > m_maxSize; }
    Error tooLarge() const;

    QNetworkAccessManager *m_nam;
    QNetworkRequest m_request;
    QByteArray m_method;
    QByteArray m_requestBody;
    bool m_hasBody;
    TransportOptions m_options;
    QPointer<QNetworkReply> m_reply;
    QTimer m_timer;
    qint64 m_maxSize = 0;
    bool m_done = false;
    bool m_aborted = false;

    Error m_error;
    int m_status = 0;
    QByteArray m_body;
    QList<QPair<QByteArray, QByteArray>> m_headers;
};

} // namespace Keyloop
