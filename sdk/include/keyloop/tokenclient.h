// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/authorizationrequest.h>
#include <keyloop/clientconfiguration.h>
#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/pushedauthorizationjob.h>
#include <keyloop/revocationjob.h>
#include <keyloop/tokenresponse.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class TokenClient;
class TokenClientPrivate;
class TokenJobPrivate;

/*!
 * \brief One token request in flight, created by TokenClient.
 *
 * A Job: it sends the request when start() is called (queued). finished() is emitted exactly
 * once, also for an immediate failure such as an insecure endpoint, then the job deletes
 * itself unless setAutoDelete(false). cancel() aborts the request.
 */
class KEYLOOP_EXPORT TokenJob : public Job
{
    Q_OBJECT
public:
    /// The grant this job performs.
    enum class Grant {
        AuthorizationCode, ///< RFC 6749 §4.1.3
        RefreshToken,      ///< RFC 6749 §6
        ClientCredentials, ///< RFC 6749 §4.4
        DeviceCode,        ///< RFC 8628 §3.4
    };
    Q_ENUM(Grant)

    ~TokenJob() override;

    /// The grant this job performs.
    Grant grant() const;
    /// The token response; null unless finished without error.
    TokenResponse response() const;

    /*!
     * Sends a DPoP proof made with \a key (RFC 9449 §4) with the request, so that the provider
     * binds the tokens to it; call before start(). The response must then have `token_type`
     * DPoP (§5; else UnsupportedTokenType), and carries the key (TokenResponse::dpopKey()). A
     * `DPoP-Nonce` the provider sends is remembered in the key for the next proofs (§8.2); a 400
     * `use_dpop_nonce` is retried once with it (§8). A null key (the default) sends no proof.
     */
    void setDpopKey(const DpopKey &key);
    /// The key set with setDpopKey(); null when the request carries no proof.
    DpopKey dpopKey() const;
    // error(): null on success; requiresSignIn() is true for invalid_grant.

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class TokenClient;
    friend class TokenClientPrivate;
    friend class TokenJobPrivate;
    explicit TokenJob(Grant grant, QObject *parent);
    std::unique_ptr<TokenJobPrivate> d;
};

/*!
 * \brief A stateless service performing token endpoint requests (RFC 6749 §3.2), token
 * revocation requests (RFC 7009, revoke()) and pushed authorization requests (RFC 9126,
 * pushAuthorizationRequest()): the provider's back-channel POSTs with client authentication.
 *
 * Each request is a form-encoded POST with `Accept: application/json`; redirects are never
 * followed; timeouts and size limits come from the TransportOptions given here (the
 * ClientConfiguration's transport is not consulted). Client authentication follows
 * ClientConfiguration::clientAuthMethod():
 * - None: `client_id` in the body (RFC 6749 §3.2.1);
 * - ClientSecretBasic: `Authorization: Basic` over the form-urlencoded id and secret
 *   (RFC 6749 §2.3.1);
 * - ClientSecretPost: `client_id` and `client_secret` in the body.
 * \code
 * Keyloop::TokenJob *job = tokens->refresh(provider, client, refreshToken);
 * connect(job, &Keyloop::Job::finished, this, [job] { ... job->response() ... });
 * job->start();
 * \endcode
 */
class KEYLOOP_EXPORT TokenClient : public QObject
{
    Q_OBJECT
public:
    /// Requests go through \a nam (not owned; it must outlive the client and its jobs) under
    /// the transport rules of \a options.
    TokenClient(QNetworkAccessManager *nam, const TransportOptions &options, QObject *parent = nullptr);
    ~TokenClient() override;

    /// The manager given to the constructor (not owned).
    QNetworkAccessManager *networkAccessManager() const;
    /// The transport rules given to the constructor.
    TransportOptions transportOptions() const;

    /// The clock used to stamp responses (receivedAt/expiresAt). Default Clock::system(); not owned.
    const Clock *clock() const;
    /// Sets clock().
    void setClock(const Clock *clock);

    /*!
     * Authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5): grant_type=authorization_code,
     * code, redirect_uri, code_verifier, client authentication, and `resource` when
     * \a resource is not empty (RFC 8707 §2.2). The requested scopes (for an absent `scope`
     * and the ID-token requirement) are AuthorizationRequest::requestedScopes(client, provider).
     */
    [[nodiscard]] TokenJob *exchangeCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                           const QByteArray &code, const QByteArray &codeVerifier,
                           const QUrl &redirectUri, const QString &resource = QString());
    /// Same, taking verifier, redirect URI and requested scopes from \a request.
    [[nodiscard]] TokenJob *exchangeCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                           const AuthorizationRequest &request, const QByteArray &code,
                           const QString &resource = QString());

    /*!
     * Refresh grant (RFC 6749 §6): grant_type=refresh_token, refresh_token, `scope` when
     * \a scopes is not empty (it must not exceed the original grant), `resource` when not empty
     * (RFC 8707 §2.2), client authentication. An ID token is optional (OIDC Core §12.2); an
     * absent `scope` means \a scopes, or — when \a scopes is empty — the client's requested
     * scopes. A 4xx OAuth error keeps its code (invalid_grant → requiresSignIn()).
     */
    [[nodiscard]] TokenJob *refresh(const ProviderConfiguration &provider, const ClientConfiguration &client,
                      const QByteArray &refreshToken, const QStringList &scopes = QStringList(),
                      const QString &resource = QString());

    /// Client credentials grant (RFC 6749 §4.4), for confidential service clients.
    [[nodiscard]] TokenJob *clientCredentials(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                const QStringList &scopes = QStringList(),
                                const QString &resource = QString());

    /*!
     * Device access token request (RFC 8628 §3.4): one poll with \a deviceCode (secret) from the
     * device authorization response. While the user has not decided, the job fails with
     * Error::Code::OAuthError and oauthError() `authorization_pending` or `slow_down` (§3.5);
     * DeviceSignIn does the polling. With `openid` among the configuration's scopes the
     * response must carry an ID token. \a resource: RFC 8707 §2.2, as for exchangeCode().
     */
    [[nodiscard]] TokenJob *deviceCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                       const QByteArray &deviceCode, const QString &resource = QString());

    /*!
     * Token revocation (RFC 7009 §2.1): POSTs \a token, with `token_type_hint` unless \a hint is
     * None, to ProviderConfiguration::revocationEndpoint(), with the same client authentication
     * as the token requests. Revoking a refresh token ends its grant at most providers (§2.1:
     * the server SHOULD also invalidate the grant's access tokens). See RevocationJob for how
     * the answer is read: 200 and `unsupported_token_type` finish without error.
     */
    [[nodiscard]] RevocationJob *revoke(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                        const QByteArray &token,
                                        RevocationJob::TokenTypeHint hint = RevocationJob::TokenTypeHint::None);

    /*!
     * Pushed authorization request (RFC 9126 §2.1): POSTs \a request's parameters
     * (AuthorizationRequest::parameters()) to ProviderConfiguration::
     * pushedAuthorizationRequestEndpoint(), with the same client authentication as the token
     * requests. On success, open AuthorizationRequest::urlWithRequestUri() with the
     * PushedAuthorizationResponse::requestUri() the job got (§4). See PushedAuthorizationJob
     * for how the answer is read. \a request may be pushed more than once: each push gives a new
     * request_uri for the same request (state, nonce, PKCE challenge).
     */
    [[nodiscard]] PushedAuthorizationJob *pushAuthorizationRequest(const ProviderConfiguration &provider,
                                                                   const ClientConfiguration &client,
                                                                   const AuthorizationRequest &request);

private:
    std::unique_ptr<TokenClientPrivate> d;
};

} // namespace Keyloop
