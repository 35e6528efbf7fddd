// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/redirecthost.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QPair>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <chrono>
#include <optional>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class ClientConfigurationPrivate;

/*!
 * \brief Everything the app knows about its registration at one provider.
 *
 * An implicitly shared value with secure defaults: a public client (no secret), PKCE S256,
 * state and nonce, scopes "openid profile email", offline_access when the provider supports
 * it, redirect to `http://127.0.0.1:{ephemeral port}/callback`, a 5-minute login timeout.
 * \code
 * Keyloop::ClientConfiguration client;
 * client.setIssuer(QUrl(QStringLiteral("https://login.example.com")));
 * client.setClientId(QStringLiteral("my-desktop-app"));
 * if (const Keyloop::Error e = client.validate()) { ... }
 * \endcode
 */
class KEYLOOP_EXPORT ClientConfiguration
{
    Q_GADGET
public:
    /// How the client authenticates at the token endpoint (RFC 6749 §2.3, OIDC Core §9).
    enum class ClientAuthMethod {
        None,              ///< `none`: public client, client_id in the body (RFC 8252 §8.4). Default.
        ClientSecretBasic, ///< `client_secret_basic`: HTTP Basic with form-encoded id/secret (RFC 6749 §2.3.1)
        ClientSecretPost,  ///< `client_secret_post`: client_id/client_secret in the body (RFC 6749 §2.3.1)
    };
    Q_ENUM(ClientAuthMethod)

    /// Whether `offline_access` (OIDC Core §11) is added to the requested scopes.
    enum class OfflineAccess {
        RequestWhenSupported, ///< default: added when the provider lists it in scopes_supported
        DoNotRequest,         ///< never added by Keyloop (it may still be in scopes())
    };
    Q_ENUM(OfflineAccess)

    /*!
     * When SignIn pushes the authorization request to the provider first (pushed authorization
     * requests, RFC 9126), so that the browser's URL carries only `client_id` and a short-lived
     * `request_uri` instead of the parameters (state, nonce, PKCE challenge, scopes …).
     */
    enum class PushedAuthorizationRequests {
        WhenRequired, ///< default: only when the provider's metadata says `require_pushed_authorization_requests` (RFC 9126 §5)
        Always,       ///< every sign-in; a provider without `pushed_authorization_request_endpoint` fails it with Error::Code::PushedAuthorizationNotSupported before a browser opens
    };
    Q_ENUM(PushedAuthorizationRequests)

    /// The defaults described above; issuer and client id still to be set.
    ClientConfiguration();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    ClientConfiguration(const ClientConfiguration &other);
    ClientConfiguration(ClientConfiguration &&other) noexcept;
    ClientConfiguration &operator=(const ClientConfiguration &other);
    ClientConfiguration &operator=(ClientConfiguration &&other) noexcept;
    ///@}
    ~ClientConfiguration();

    /*!
     * Checks the settings: issuer is an absolute https URL (or loopback http with the
     * transport's development opt-in) without query/fragment; clientId is set; the auth
     * method and secret agree; resources are absolute URIs without fragment (RFC 8707 §2);
     * redirectPath starts with "/"; timeouts are positive; a manual provider configuration,
     * if set, validates. Returns Error::Code::InvalidConfiguration / InsecureEndpoint.
     */
    Error validate() const;

    /// The issuer identifier (OIDC Discovery §2). Discovery is run against it unless a
    /// providerConfiguration() is set.
    QUrl issuer() const;
    /// Sets issuer().
    void setIssuer(const QUrl &issuer);

    /// `client_id` (RFC 6749 §2.2).
    QString clientId() const;
    /// Sets clientId().
    void setClientId(const QString &clientId);

    /*!
     * `client_secret` for installed-app registrations that require one (e.g. Google's desktop
     * clients). It is shipped inside the app, so it is \b not really secret (RFC 8252 §8.5):
     * it identifies the app, it does not authenticate it. Keyloop still never logs it.
     * Needs clientAuthMethod() ClientSecretBasic or ClientSecretPost.
     */
    QString clientSecret() const;
    /// Sets clientSecret().
    void setClientSecret(const QString &secret);
    /// How the client authenticates at the token endpoint. Default ClientAuthMethod::None.
    ClientAuthMethod clientAuthMethod() const;
    /// Sets clientAuthMethod().
    void setClientAuthMethod(ClientAuthMethod method);

    /// Requested scopes (RFC 6749 §3.3). Default {"openid", "profile", "email"}. Without
    /// "openid" the flow is plain OAuth 2.0: no nonce, no ID token.
    QStringList scopes() const;
    /// Sets scopes().
    void setScopes(const QStringList &scopes);

    /// Resource indicators (RFC 8707 §2): all are sent with the authorization request; each
    /// token request asks for at most one.
    QStringList resources() const;
    /// Sets resources().
    void setResources(const QStringList &resources);

    /// Whether `offline_access` is requested. Default OfflineAccess::RequestWhenSupported.
    OfflineAccess offlineAccess() const;
    /// Sets offlineAccess().
    void setOfflineAccess(OfflineAccess offlineAccess);

    /// Loopback redirect host (RFC 8252 §7.3). Default RedirectHost::Ipv4.
    RedirectHost redirectHost() const;
    /// Sets redirectHost().
    void setRedirectHost(RedirectHost host);
    /// Ports to try in order; empty (default) means an ephemeral port (RFC 8252 §7.3).
    QList<quint16> redirectPorts() const;
    /// Sets redirectPorts().
    void setRedirectPorts(const QList<quint16> &ports);
    /// Path of the redirect URI, matched exactly. Default "/callback".
    QString redirectPath() const;
    /// Sets redirectPath().
    void setRedirectPath(const QString &path);

    /// TLS trust, timeouts, the insecure-loopback development opt-in.
    TransportOptions transport() const;
    /// Sets transport().
    void setTransport(const TransportOptions &transport);

    /// A configuration set by hand; when null (default), discovery is used.
    ProviderConfiguration providerConfiguration() const;
    /// Sets providerConfiguration().
    void setProviderConfiguration(const ProviderConfiguration &configuration);
    /// True when providerConfiguration() is not null: no discovery.
    bool hasProviderConfiguration() const;

    /// `prompt` (OIDC Core §3.1.2.1), space-separated, e.g. "login consent". Empty: not sent.
    QString prompt() const;
    /// Sets prompt().
    void setPrompt(const QString &prompt);
    /// `login_hint` (OIDC Core §3.1.2.1). Empty: not sent.
    QString loginHint() const;
    /// Sets loginHint().
    void setLoginHint(const QString &hint);
    /// `max_age` (OIDC Core §3.1.2.1); the ID token's auth_time is then checked (§3.1.3.7 rule 13).
    std::optional<std::chrono::seconds> maxAge() const;
    /// Sets maxAge(); std::nullopt (default): not sent.
    void setMaxAge(std::optional<std::chrono::seconds> maxAge);
    /// `acr_values` (OIDC Core §3.1.2.1), in order of preference.
    QStringList acrValues() const;
    /// Sets acrValues().
    void setAcrValues(const QStringList &values);
    /// Extra authorization request parameters. They may not repeat a parameter Keyloop sets
    /// (response_type, client_id, redirect_uri, scope, state, nonce, code_challenge,
    /// code_challenge_method, prompt, login_hint, max_age, acr_values, resource):
    /// building the request fails with InvalidConfiguration.
    QList<QPair<QString, QString>> additionalParameters() const;
    /// Sets additionalParameters().
    void setAdditionalParameters(const QList<QPair<QString, QString>> &parameters);

    /// Whether sign-ins push their authorization request first (RFC 9126). Default
    /// PushedAuthorizationRequests::WhenRequired: existing providers see the same requests as
    /// before. A provider that requires it is always served, whatever this says.
    PushedAuthorizationRequests pushedAuthorizationRequests() const;
    /// Sets pushedAuthorizationRequests().
    void setPushedAuthorizationRequests(PushedAuthorizationRequests usage);

    /*!
     * Whether tokens are bound to this device with DPoP (RFC 9449). Default false. When true, each
     * sign-in (browser or device code) creates a key pair for the account (DpopKey; ES256, or
     * EdDSA when the provider accepts only that, §5.1), every token request carries a proof made
     * with it, the provider must answer with DPoP tokens (§5), and the key is stored with the
     * session's refresh token in the keychain. Later refreshes and SessionCredential's API
     * requests use the stored key, whatever this setting says. ClientCredentialsCredential keeps
     * a key of its own in memory.
     */
    bool isDpopEnabled() const;
    /// Sets isDpopEnabled().
    void setDpopEnabled(bool enabled);

    /// Overall time for the interactive login. Default 5 minutes.
    std::chrono::seconds loginTimeout() const;
    /// Sets loginTimeout().
    void setLoginTimeout(std::chrono::seconds timeout);

    /// Where the browser is sent once the sign-in has succeeded / failed (after the code
    /// exchange and the ID token validation); empty (default): a small built-in page says so.
    QUrl successRedirectUrl() const;
    /// Sets successRedirectUrl().
    void setSuccessRedirectUrl(const QUrl &url);
    /// Where the browser is sent when the sign-in failed; empty (default): a built-in page.
    QUrl failureRedirectUrl() const;
    /// Sets failureRedirectUrl().
    void setFailureRedirectUrl(const QUrl &url);

    /// Allowed ID-token signature algorithms (never inferred from the token). Default
    /// RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA.
    QStringList idTokenAlgorithms() const;
    /// Sets idTokenAlgorithms().
    void setIdTokenAlgorithms(const QStringList &algorithms);

    /// Clock skew tolerated on exp/iat/nbf/auth_time. Default 60 s.
    std::chrono::seconds clockLeeway() const;
    /// Sets clockLeeway().
    void setClockLeeway(std::chrono::seconds leeway);

    /// True when every setting is equal.
    bool operator==(const ClientConfiguration &other) const;
    /// True when a setting differs.
    bool operator!=(const ClientConfiguration &other) const { return !(*this == other); }

private:
    QSharedDataPointer<ClientConfigurationPrivate> d;
};

/// Prints issuer and client id; the client secret is redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const ClientConfiguration &configuration);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::ClientConfiguration)
