// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/httpbody.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
class QNetworkRequest;
QT_END_NAMESPACE

namespace Keyloop {

class Credential;
class HttpClientPrivate;
class HttpReply;

/*!
 * \brief Authenticated requests to APIs: a wrapper around an injected QNetworkAccessManager
 * that attaches a Credential's header to the API locations it is bound to, and handles what
 * bearer-token APIs answer (docs/http-client.md).
 *
 * \code
 * auto *http = new Keyloop::HttpClient(nam, transport, this);
 * auto *credential = new Keyloop::SessionCredential(session, QStringLiteral("https://api.example.com"), this);
 * if (const Keyloop::Error e = http->addCredential(credential, {QUrl(QStringLiteral("https://api.example.com/v1"))}))
 *     qWarning() << e;
 * Keyloop::HttpReply *reply = http->get(QNetworkRequest(QUrl(QStringLiteral("https://api.example.com/v1/items"))));
 * connect(reply, &Keyloop::Job::finished, this, [reply] {
 *     if (reply->error()) { ...; return; }     // HTTP >= 400 included; statusCode() and body() are there
 *     const QJsonValue items = reply->json();  // strict JSON
 * });
 * \endcode
 *
 * - **Locations.** A credential goes only to the locations it is bound to: scheme, host, port
 *   and a path prefix that matches whole segments (`/api` matches `/api` and `/api/x`, never
 *   `/apix`). The most specific location wins. A request elsewhere is sent as it is, without a
 *   credential. A resource indicator is never taken for a location.
 * - **Transport.** Every request must be https, or plain http to a loopback host with
 *   TransportOptions::allowsInsecureLoopbackForDevelopment() (RFC 6750 §5.3); anything else
 *   fails with InsecureEndpoint before it is sent. TLS 1.2+, peer verification, the extra CAs,
 *   the request timeout and the response size limit of the TransportOptions apply. A request
 *   that carries a credential is neither served from nor stored in the manager's cache.
 * - **Redirects** are followed by HttpClient itself (never by Qt, which would forward the
 *   `Authorization` header to any host): 301, 302, 303, 307 and 308, at most 5 in a row, never
 *   from https to http. The credential goes along only while the redirect stays on the same
 *   origin and inside the credential's locations; a redirect to another origin is followed
 *   *without* it (and without any Authorization or Cookie header the request set itself),
 *   for the rest of the chain.
 * - **401** (a bare one, or `WWW-Authenticate: Bearer error="invalid_token"`, RFC 6750 §3.1)
 *   to a request that carried a credential: Credential::reject(), a fresh value, and the same
 *   request once more with the same body. A second 401 is the caller's.
 * - **403 `insufficient_scope`** (RFC 6750 §3.1): Error::Code::InsufficientScope with
 *   Error::requiredScopes(). **Step-up** (RFC 9470 §3: `insufficient_user_authentication`):
 *   Error::Code::StepUpRequired with Error::requiredAcrValues() / requiredMaxAge(); never a
 *   refresh or a replay.
 * - **429 / 503 with Retry-After** (RFC 9110 §10.2.3): an idempotent request (GET, HEAD, PUT,
 *   DELETE, OPTIONS) is sent once more after the delay when it is at most 30 s; otherwise, and
 *   for other methods, the error (transient, with Error::retryAfter()) comes back at once.
 *
 * A credential is only ever put in a header — never in a URL — and no header value, body or
 * query is ever logged (`keyloop.http` logs the method, host and path).
 *
 * Threads: the client, its credentials, its replies and the QNetworkAccessManager belong to one
 * thread. The client does not own the manager or the credentials. Destroying the client
 * cancels its replies (each finishes once, with Cancelled).
 */
class KEYLOOP_EXPORT HttpClient : public QObject
{
    Q_OBJECT
public:
    /// \a nam is not owned and must outlive the client.
    explicit HttpClient(QNetworkAccessManager *nam, const TransportOptions &options = TransportOptions(),
                        QObject *parent = nullptr);
    ~HttpClient() override;

    /// The manager given to the constructor (not owned).
    QNetworkAccessManager *networkAccessManager() const;
    /// The transport rules requests are checked and sent under.
    TransportOptions transportOptions() const;
    /// Applies to requests made afterwards.
    void setTransportOptions(const TransportOptions &options);

    /// The largest body read from a QIODevice (HttpBody::fromDevice()). Default 8 MiB.
    qint64 maxRequestBodySize() const;
    /// Sets maxRequestBodySize().
    /// Sets maxRequestBodySize() (negative: 0).
    void setMaxRequestBodySize(qint64 bytes);

    /*!
     * Binds \a credential to \a locations (absolute URLs: scheme, host, port and path prefix;
     * no user info, query or fragment). Each must be https, or http on a loopback host with
     * the development opt-in of transportOptions(); otherwise nothing is bound and the error
     * is CredentialNotAllowed. Adding a credential again adds locations. The credential is not
     * owned; its destruction unbinds it.
     */
    [[nodiscard]] Error addCredential(Credential *credential, const QList<QUrl> &locations);
    /// Unbinds \a credential from all its locations. Requests already made keep the bindings
    /// they were made with (for their replays and redirects) — unless the credential is destroyed.
    void removeCredential(Credential *credential);
    /// The credential a request to \a url would carry, or nullptr: a normal request.
    Credential *credentialFor(const QUrl &url) const;

    /*!
     * GET. Each of these functions starts one logical request and returns its reply, already
     * started (a Job: the request is sent at once, like QNetworkAccessManager's, and finished()
     * comes from the event loop, so connecting to Job::finished afterwards is safe; finished()
     * comes exactly once; the reply deletes itself afterwards unless setAutoDelete(false)).
     * Only the request's URL, headers and TLS configuration are used; its redirect policy is
     * always manual (see above).
     */
    [[nodiscard]] HttpReply *get(const QNetworkRequest &request);
    /// POST with \a body; see get().
    [[nodiscard]] HttpReply *post(const QNetworkRequest &request, const HttpBody &body);
    /// PUT with \a body; see get().
    [[nodiscard]] HttpReply *put(const QNetworkRequest &request, const HttpBody &body);
    /// PATCH (RFC 5789) with \a body, sent with QNetworkAccessManager::sendCustomRequest(); see get().
    [[nodiscard]] HttpReply *patch(const QNetworkRequest &request, const HttpBody &body);
    /// DELETE; see get().
    [[nodiscard]] HttpReply *deleteResource(const QNetworkRequest &request);
    /// Any method (\a verb, e.g. "HEAD", "OPTIONS"), with an optional \a body; see get().
    [[nodiscard]] HttpReply *sendCustomRequest(const QNetworkRequest &request, const QByteArray &verb,
                                               const HttpBody &body = HttpBody());

private:
    friend class HttpClientPrivate;
    std::unique_ptr<HttpClientPrivate> d;
};

} // namespace Keyloop
