// SPDX-License-Identifier: MIT
// One HTTP request/response with the SDK's transport rules applied. Private to the SDK.
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
#include <QtCore/QUrlQuery>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkReply;
QT_END_NAMESPACE

#include <QtCore/QDateTime>
#include <QtNetwork/QNetworkReply>

#include <chrono>
#include <optional>

namespace Keyloop {

using HttpHeaders = QList<QPair<QByteArray, QByteArray>>;
/// Form fields in order, unencoded (names and values are raw bytes, usually UTF-8).
using FormFields = QList<QPair<QByteArray, QByteArray>>;

/// application/x-www-form-urlencoded encoding (WHATWG URL §5.2 / RFC 6749 Appendix B):
/// unreserved characters kept, space as '+', everything else %XX.
QByteArray formUrlEncode(QByteArrayView data);
/// Encodes \a fields as a form body "a=b&c=d".
QByteArray formUrlEncode(const FormFields &fields);
/// \a endpoint with \a fields form-encoded after its own query, which is kept (RFC 6749 §3.1:
/// an endpoint URI may have a query component that must be retained). The caller makes sure no
/// field repeats a parameter of that query.
QUrl withFormQuery(const QUrl &endpoint, const FormFields &fields);

/// Checks that \a url may be used as an endpoint under \a options: absolute https, or http on a
/// loopback host when the development opt-in is set; no fragment; no user info.
/// \a what names the endpoint in the error message (e.g. "token_endpoint").
Error checkEndpointUrl(const QUrl &url, const TransportOptions &options, const QString &what);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool isLoopbackHost(const QString &host);

/// Transport-level failures (QNetworkReply codes 1–99: refused, closed, reset, timeout, TLS …).
/// They win over a status line: a connection dropped after the headers leaves a truncated body,
/// which is a transient network error, never a response.
bool isTransportFailure(QNetworkReply::NetworkError code);
/// The typed error for a failed reply to \a host; names the host only (Qt's errorString() may
/// hold the full URL).
Error transportError(QNetworkReply::NetworkError code, const QString &host);

/// The delay a `Retry-After` header value asks for (RFC 9110 §10.2.3): delta-seconds, or an
/// HTTP-date (§5.6.7) measured from \a now; a date in the past is zero. Empty when the value is
/// absent or malformed.
std::optional<std::chrono::seconds> retryAfterDelay(const QByteArray &value, const QDateTime &now);

/*!
 * A single GET or POST. Applies TLS 1.2+, the extra CAs, ManualRedirectPolicy (a 3xx is an
 * UnexpectedRedirect error, never followed), the request timeout and the size limit.
 * Emits finished() exactly once, asynchronously (also on immediate failures), then
 * deletes itself (deleteLater): read the results in the slot connected to finished().
 * Sends `Accept: application/json` and `User-Agent: Keyloop/<version>`, no cookies, no cache.
 * Proxies: whatever the QNetworkAccessManager is configured with (app or system settings).
 * Qt 6.4 trap: a QNetworkAccessManager reuses its connection to a host:port together with
 * the TLS settings it was opened with, so requests to one host with different CA sets need
 * different managers (one TransportOptions per manager in practice).
 *
 * error() is set only for transport failures (network, TLS, timeout, too large, redirect,
 * insecure URL); an HTTP 4xx/5xx with a body is NOT an error here — the caller interprets
 * status() and body() (e.g. RFC 6749 §5.2 error bodies). Log lines name the endpoint's
 * host and path only, never the query, headers or body.
 */
class HttpExchange : public QObject
{
    Q_OBJECT
public:
    static HttpExchange *get(QNetworkAccessManager *nam, const QUrl &url,
                             const TransportOptions &options, const HttpHeaders &headers = {},
                             QObject *parent = nullptr);
    /// application/x-www-form-urlencoded POST (RFC 6749 Appendix B encoding).
    static HttpExchange *postForm(QNetworkAccessManager *nam, const QUrl &url, const QUrlQuery &form,
                                  const TransportOptions &options, const HttpHeaders &headers = {},
                                  QObject *parent = nullptr);
    /// Same, with raw fields (no QUrlQuery decoding ambiguities around '%' and '+').
    static HttpExchange *postForm(QNetworkAccessManager *nam, const QUrl &url, const FormFields &form,
                                  const TransportOptions &options, const HttpHeaders &headers = {},
                                  QObject *parent = nullptr);

    ~HttpExchange() override;

    Error error() const { return m_error; }
    int status() const { return m_status; }
    QByteArray body() const { return m_body; }
    QByteArray rawHeader(const QByteArray &name) const;
    QUrl url() const { return m_url; }

    /// Aborts the request; finished() is emitted with a Cancelled error if not yet finished.
    void abort();

Q_SIGNALS:
    void finished();

private:
    HttpExchange(QObject *parent);
    void start(QNetworkAccessManager *nam, const QByteArray &verb, const QUrl &url,
               const QByteArray &body, const QByteArray &contentType,
               const TransportOptions &options, const HttpHeaders &headers);
    void finish(const Error &error);
    void onReplyFinished();
    void onReadyRead();
    void onTimeout();
    bool exceedsLimit(qint64 size) const;

    QPointer<QNetworkReply> m_reply;
    QUrl m_url;
    Error m_error;
    int m_status = 0;
    QByteArray m_body;
    QList<QPair<QByteArray, QByteArray>> m_responseHeaders;
    qint64 m_maxSize = 0;
    QTimer m_timer;
    bool m_finished = false;
};

} // namespace Keyloop
