// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QPair>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <chrono>
#include <optional>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class AuthorizationRequestPrivate;

/*!
 * \brief One authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3).
 *
 * An implicitly shared value holding the request's secrets (state, nonce, PKCE verifier),
 * all drawn from the CSPRNG. Parameters sent:
 * - always `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`,
 *   `code_challenge`, `code_challenge_method=S256`;
 * - `nonce` when `openid` is in the scope (OIDC Core §3.1.2.1);
 * - `prompt`, `login_hint`, `max_age`, `acr_values` when configured;
 * - one `resource` per configured resource indicator (RFC 8707 §2);
 * - the client's additional parameters.
 * `offline_access` is added to the scope when ClientConfiguration::offlineAccess() is
 * RequestWhenSupported and the provider lists it in scopes_supported (OIDC Core §11).
 * The same parameters go in the URL (url()) or, pushed first (RFC 9126, TokenClient::
 * pushAuthorizationRequest()), in a POST body (parameters()); the URL then carries only
 * `client_id` and `request_uri` (urlWithRequestUri()).
 * QDebug prints it with every secret redacted.
 */
class KEYLOOP_EXPORT AuthorizationRequest
{
public:
    /// A null request; see create().
    AuthorizationRequest();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    AuthorizationRequest(const AuthorizationRequest &other);
    AuthorizationRequest(AuthorizationRequest &&other) noexcept;
    AuthorizationRequest &operator=(const AuthorizationRequest &other);
    AuthorizationRequest &operator=(AuthorizationRequest &&other) noexcept;
    ///@}
    ~AuthorizationRequest();

    /*!
     * Builds a request with fresh state, nonce and PKCE verifier. Fails with
     * InvalidConfiguration when the client id or authorization endpoint is missing, or an
     * additional parameter repeats one Keyloop sets; with InsecureEndpoint when the
     * authorization endpoint breaks the client's transport rules.
     */
    static AuthorizationRequest create(const ClientConfiguration &client,
                                       const ProviderConfiguration &provider,
                                       const QUrl &redirectUri, Error *error);

    /// The scopes Keyloop requests for \a client at \a provider: the client's scopes, plus
    /// `offline_access` when requested by default and supported (OIDC Core §11).
    static QStringList requestedScopes(const ClientConfiguration &client,
                                       const ProviderConfiguration &provider);

    /// True for a request that was not built (default-constructed, or create() failed).
    bool isNull() const;

    /// The full authorization URL to open in the browser. Contains state and the code
    /// challenge: hand it to the browser, never log it.
    QUrl url() const;

    /*!
     * The parameters Keyloop added to the authorization endpoint, in order and unencoded
     * (names and values as sent: `response_type`, `client_id`, `redirect_uri`, `scope`, `state`,
     * …, then the additional parameters). They are url()'s query without the endpoint's own, and
     * the body of a pushed authorization request (RFC 9126 §2.1). Hold state and the code
     * challenge: never log them.
     */
    QList<QPair<QString, QString>> parameters() const;

    /*!
     * The URL to open after this request was pushed (RFC 9126 §4): the authorization endpoint
     * (with its own query, RFC 6749 §3.1) plus `client_id` and the \a requestUri the pushed
     * authorization request endpoint answered (PushedAuthorizationResponse::requestUri()) —
     * nothing else. Empty for a null request or an empty \a requestUri. The request_uri is
     * single-use and short-lived: hand the URL to the browser, never log it.
     */
    QUrl urlWithRequestUri(const QByteArray &requestUri) const;

    /// The provider's `authorization_endpoint` the request was built for (url() without the
    /// parameters Keyloop added).
    QUrl authorizationEndpoint() const;
    /// The issuer of the provider the request was built for.
    QUrl issuer() const;
    /// `client_id`
    QString clientId() const;
    /// `redirect_uri`
    QUrl redirectUri() const;
    /// `scope`, as sent.
    QStringList scopes() const;
    /// True when `openid` is in scopes(): an ID token and nonce are expected.
    bool isOpenIdRequest() const;
    /// `state` (RFC 6749 §10.12); secret.
    QByteArray state() const;
    /// `nonce` (OIDC Core §3.1.2.1); empty when not an OpenID request; secret.
    QByteArray nonce() const;
    /// The PKCE `code_verifier` (RFC 7636 §4.1); secret.
    QByteArray codeVerifier() const;
    /// `code_challenge` (RFC 7636 §4.2).
    QByteArray codeChallenge() const;
    /// `max_age`, to be checked against the ID token's auth_time.
    std::optional<std::chrono::seconds> maxAge() const;
    /// `acr_values`, as sent.
    QStringList acrValues() const;
    /// `prompt`, as sent.
    QString prompt() const;
    /// `resource` values, as sent (RFC 8707).
    QStringList resources() const;

private:
    QSharedDataPointer<AuthorizationRequestPrivate> d;
};

/// Prints endpoint host/path, client id, redirect URI and scopes; state, nonce and the
/// verifier are redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const AuthorizationRequest &request);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::AuthorizationRequest)
