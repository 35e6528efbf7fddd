// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QDateTime>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class ProviderConfigurationPrivate;

/*!
 * \brief The provider's metadata: OpenID Connect Discovery 1.0 §3 / RFC 8414 §2.
 *
 * An implicitly shared value. Obtain it from a DiscoveryJob, from fromJson(), or set the
 * endpoints by hand for providers without discovery:
 * \code
 * Keyloop::ProviderConfiguration github;
 * github.setIssuer(QUrl(QStringLiteral("https://github.com")));
 * github.setAuthorizationEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/authorize")));
 * github.setTokenEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/access_token")));
 * if (const Keyloop::Error e = github.validate(transport)) { ... }
 * \endcode
 * Each accessor names its wire member. Absent members are empty (null QUrl, empty list, false).
 */
class KEYLOOP_EXPORT ProviderConfiguration
{
public:
    /// A null configuration: set its members by hand, or use fromJson() or a DiscoveryJob.
    ProviderConfiguration();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    ProviderConfiguration(const ProviderConfiguration &other);
    ProviderConfiguration(ProviderConfiguration &&other) noexcept;
    ProviderConfiguration &operator=(const ProviderConfiguration &other);
    ProviderConfiguration &operator=(ProviderConfiguration &&other) noexcept;
    ///@}
    ~ProviderConfiguration();

    /*!
     * Parses a discovery document (a JSON object) and validates it:
     * - `issuer` must equal \a expectedIssuer exactly, as a string (OIDC Discovery §4.3,
     *   RFC 8414 §3.3) → Error::Code::IssuerMismatch;
     * - `authorization_endpoint` and `token_endpoint` are required (RFC 8414 §2; the token
     *   endpoint because Keyloop only uses the code flow) → MissingParameter;
     * - `require_pushed_authorization_requests` must be a boolean (RFC 9126 §5);
     * - every endpoint must pass the transport rules (https, or loopback http with the
     *   development opt-in) → InsecureEndpoint / InvalidConfiguration;
     * - members with the wrong JSON type, duplicate members, or a body that is not an object
     *   → MalformedResponse / DuplicateParameter.
     * Unknown members are ignored. Returns a null configuration on error.
     */
    static ProviderConfiguration fromJson(QByteArrayView json, const QUrl &expectedIssuer,
                                          const TransportOptions &options, Error *error);

    /// True when nothing has been set.
    bool isNull() const;

    /// The metadata as a discovery document (wire names), e.g. to cache it with a session.
    /// fromJson(toJson(), issuer(), …) gives back an equal configuration.
    QByteArray toJson() const;

    /*!
     * Checks a configuration (typically one set by hand): issuer is an absolute URL without
     * query or fragment, authorization and token endpoints are present, and every endpoint
     * passes the transport rules of \a options.
     */
    Error validate(const TransportOptions &options) const;

    /// `issuer` (OIDC Discovery §3, RFC 8414 §2).
    QUrl issuer() const;
    /// Sets issuer().
    void setIssuer(const QUrl &issuer);
    /// `authorization_endpoint` (RFC 6749 §3.1). Required.
    QUrl authorizationEndpoint() const;
    /// Sets authorizationEndpoint().
    void setAuthorizationEndpoint(const QUrl &url);
    /// `token_endpoint` (RFC 6749 §3.2). Required.
    QUrl tokenEndpoint() const;
    /// Sets tokenEndpoint().
    void setTokenEndpoint(const QUrl &url);
    /// `userinfo_endpoint` (OIDC Core §5.3).
    QUrl userInfoEndpoint() const;
    /// Sets userInfoEndpoint().
    void setUserInfoEndpoint(const QUrl &url);
    /// `jwks_uri` (RFC 7517 JWK Set for ID-token signatures).
    QUrl jwksUri() const;
    /// Sets jwksUri().
    void setJwksUri(const QUrl &url);
    /// `revocation_endpoint` (RFC 7009, RFC 8414 §2).
    QUrl revocationEndpoint() const;
    /// Sets revocationEndpoint().
    void setRevocationEndpoint(const QUrl &url);
    /// `end_session_endpoint` (OIDC RP-Initiated Logout 1.0 §2.1).
    QUrl endSessionEndpoint() const;
    /// Sets endSessionEndpoint().
    void setEndSessionEndpoint(const QUrl &url);
    /// `introspection_endpoint` (RFC 7662, RFC 8414 §2).
    QUrl introspectionEndpoint() const;
    /// Sets introspectionEndpoint().
    void setIntrospectionEndpoint(const QUrl &url);
    /// `device_authorization_endpoint` (RFC 8628 §4): where a device sign-in starts
    /// (DeviceSignIn). Empty when the provider does not offer the device authorization grant.
    QUrl deviceAuthorizationEndpoint() const;
    /// Sets deviceAuthorizationEndpoint().
    void setDeviceAuthorizationEndpoint(const QUrl &url);

    /// `scopes_supported`.
    QStringList scopesSupported() const;
    /// Sets scopesSupported().
    void setScopesSupported(const QStringList &scopes);
    /// `response_types_supported`.
    QStringList responseTypesSupported() const;
    /// Sets responseTypesSupported().
    void setResponseTypesSupported(const QStringList &types);
    /// `grant_types_supported` (absent means authorization_code and implicit, RFC 8414 §2).
    QStringList grantTypesSupported() const;
    /// Sets grantTypesSupported().
    void setGrantTypesSupported(const QStringList &types);
    /// `code_challenge_methods_supported` (RFC 8414 §2, RFC 7636).
    QStringList codeChallengeMethodsSupported() const;
    /// Sets codeChallengeMethodsSupported().
    void setCodeChallengeMethodsSupported(const QStringList &methods);
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1): the proof algorithms the provider
    /// accepts; empty when not advertised.
    QStringList dpopSigningAlgValuesSupported() const;
    /// Sets dpopSigningAlgValuesSupported().
    void setDpopSigningAlgValuesSupported(const QStringList &algorithms);
    /// `id_token_signing_alg_values_supported` (OIDC Discovery §3).
    QStringList idTokenSigningAlgValuesSupported() const;
    /// Sets idTokenSigningAlgValuesSupported().
    void setIdTokenSigningAlgValuesSupported(const QStringList &algorithms);
    /// `token_endpoint_auth_methods_supported` (absent means client_secret_basic, RFC 8414 §2).
    QStringList tokenEndpointAuthMethodsSupported() const;
    /// Sets tokenEndpointAuthMethodsSupported().
    void setTokenEndpointAuthMethodsSupported(const QStringList &methods);
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3). When true, the
    /// authorization response must carry `iss`.
    bool isAuthorizationResponseIssParameterSupported() const;
    /// Sets isAuthorizationResponseIssParameterSupported().
    void setAuthorizationResponseIssParameterSupported(bool supported);

    /// `pushed_authorization_request_endpoint` (RFC 9126 §5): where a client pushes its
    /// authorization request before opening the browser (pushed authorization requests, PAR).
    /// Empty when the provider offers none.
    QUrl pushedAuthorizationRequestEndpoint() const;
    /// Sets pushedAuthorizationRequestEndpoint().
    void setPushedAuthorizationRequestEndpoint(const QUrl &url);
    /// `require_pushed_authorization_requests` (RFC 9126 §5): when true, the provider accepts
    /// authorization requests only through its pushedAuthorizationRequestEndpoint(), and SignIn
    /// pushes every request whatever ClientConfiguration::pushedAuthorizationRequests() says.
    /// Absent means false.
    bool requiresPushedAuthorizationRequests() const;
    /// Sets requiresPushedAuthorizationRequests().
    void setRequiresPushedAuthorizationRequests(bool required);

    /// True when `scopes_supported` contains `offline_access` (OIDC Core §11).
    bool supportsOfflineAccess() const;
    /// True when the provider looks like an OpenID Provider: it has a `jwks_uri`, and either
    /// `id_token_signing_alg_values_supported` is non-empty or `scopes_supported` contains
    /// `openid`. (For a configuration set by hand, set those members.)
    bool isOpenIdProvider() const;

    /*!
     * Until when this copy of a discovered document is fresh (RFC 9111 §4.2: the discovery
     * response's `Cache-Control: max-age`, else `Expires`, else 1 hour; bounded to
     * [5 min, 24 h]), set by DiscoveryJob and remembered with a session, so that a restarted
     * app uses it without discovery while it is fresh. Invalid for a configuration set by hand
     * (never stale). Not part of the document (toJson()) and not compared by operator==().
     */
    QDateTime expiresAt() const;
    /// Sets expiresAt().
    void setExpiresAt(const QDateTime &expiresAt);
    /// True when expiresAt() is valid and not after \a now.
    bool isStale(const QDateTime &now) const;

    /// True when every member of the document is equal (expiresAt() is not compared).
    bool operator==(const ProviderConfiguration &other) const;
    /// The opposite of operator==().
    bool operator!=(const ProviderConfiguration &other) const { return !(*this == other); }

private:
    QSharedDataPointer<ProviderConfigurationPrivate> d;
};

/// Prints the issuer and endpoint hosts/paths (no secrets are held).
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const ProviderConfiguration &configuration);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::ProviderConfiguration)
