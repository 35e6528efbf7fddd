// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/credential.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/refreshschedule.h>

#include <QtCore/QDateTime>
#include <QtCore/QString>

#include <chrono>
#include <memory>

namespace Keyloop {

class ClientCredentialsCredentialPrivate;
class SecretJob;
class TokenClient;

/*!
 * \brief An access token of the client itself (OAuth 2.0 client credentials grant,
 * RFC 6749 §4.4), for machine-to-machine calls: `Authorization: Bearer <token>` (RFC 6750 §2.1).
 *
 * **Confidential clients only.** The grant authenticates the client with its secret. A secret
 * compiled into a distributed app is no secret (RFC 8252 §8.5): anyone can extract it. Use this
 * where each installation is provisioned with its own secret (a service, an agent, a managed
 * device), never for a public desktop client; users get user tokens (SessionCredential).
 *
 * The client secret lives in the OS keychain, item `client-secret:<keyFor(issuer, client_id)>`
 * under \a serviceName — never in code or a configuration file. Provision it with
 * storeClientSecret(); the ClientConfiguration's own clientSecret() is ignored. Its
 * clientAuthMethod() must be ClientSecretBasic or ClientSecretPost.
 *
 * \code
 * Keyloop::ClientConfiguration client;               // issuer, client id, auth method, scopes
 * client.setClientAuthMethod(Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
 * auto *service = new Keyloop::ClientCredentialsCredential(QStringLiteral("org.example.Agent"), tokens, provider,
 *                                                          client, QStringLiteral("https://api.example.com"), this);
 * http->addCredential(service, {QUrl(QStringLiteral("https://api.example.com/v1"))});
 * \endcode
 *
 * - **Cached and single-flight.** A fresh token costs no I/O. When there is none (or it is
 *   within the lead time of its expiry, the rule Session uses), one token request serves every
 *   waiting request.
 * - **Refreshed before expiry** in the background, at a time drawn by refreshSchedule() from
 *   the second half of the token's lifetime, before the lead time (jitter, backoff after
 *   transient failures, Retry-After honoured), so that a fleet of services does not refresh in
 *   step — but only
 *   while the token is used: an idle credential makes no requests.
 * - reject() (a 401) drops the token only if it is still the current one.
 * - Errors: NotFound (no secret provisioned), the keychain's (StorageUnavailable, StorageFailed),
 *   InvalidConfiguration (a public client), the token endpoint's (ClientAuthenticationFailed —
 *   the secret is read from the keychain again at the next request —, OAuthError, network).
 */
class KEYLOOP_EXPORT ClientCredentialsCredential : public Credential
{
    Q_OBJECT
public:
    /// \a tokens is not owned and must outlive the credential; its clock is the credential's.
    /// \a resource: the API's resource indicator (RFC 8707 §2), "" for none. Scopes:
    /// ClientConfiguration::scopes() (RFC 6749 §4.4.2 `scope`; none when empty).
    ClientCredentialsCredential(const QString &serviceName, TokenClient *tokens, const ProviderConfiguration &provider,
                                const ClientConfiguration &client, const QString &resource, QObject *parent = nullptr);
    ~ClientCredentialsCredential() override;

    /// The keychain service name the client secret is stored under.
    QString serviceName() const;
    /// The resource indicator each token request asks for (RFC 8707 §2); "" for none.
    QString resource() const;
    /// The keychain item of the client secret.
    QString keychainItemName() const;

    /// A job storing the client secret of this installation in the keychain (not started).
    [[nodiscard]] SecretJob *storeClientSecret(const QByteArray &secret);
    /// A job removing the client secret (not started); when it succeeds the cached token is
    /// dropped too.
    [[nodiscard]] SecretJob *removeClientSecret();

    /// Calls back with ("Authorization", "Bearer " + a fresh token), or the error.
    void authorize(QObject *context, AuthorizeCallback callback) override;
    /// Drops the token if \a headerValue still carries the current one.
    void reject(const QByteArray &headerValue) override;
    /// With ClientConfiguration::isDpopEnabled(): a DPoP proof for this request, made with the
    /// credential's own key (created at the first token request, kept in memory only; RFC 9449 §7.1).
    HeaderList requestHeaders(const QByteArray &method, const QUrl &url, const QByteArray &headerValue) override;
    /// Remembers the API's `DPoP-Nonce` for the next proofs (RFC 9449 §9).
    void responseReceived(const QUrl &url, const QByteArray &headerValue, const HeaderList &headers) override;

    /// A token is fresh while more than this is left (capped at half its lifetime). Default 60 s.
    std::chrono::seconds refreshLeadTime() const;
    /// Sets refreshLeadTime().
    void setRefreshLeadTime(std::chrono::seconds lead);

    /// Default true.
    bool isProactiveRefreshEnabled() const;
    /// Sets isProactiveRefreshEnabled().
    void setProactiveRefreshEnabled(bool enabled);
    /// When background refreshes happen (jitter, backoff). Default: RefreshSchedule().
    RefreshSchedule refreshSchedule() const;
    /// Sets refreshSchedule().
    void setRefreshSchedule(const RefreshSchedule &schedule);

    /// When the next background refresh is due; invalid when none is scheduled.
    QDateTime nextRefresh() const;

Q_SIGNALS:
    /// A background refresh failed (transient: retried with backoff; otherwise it stops until
    /// the next request).
    void backgroundRefreshFailed(const Keyloop::Error &error);

private:
    std::unique_ptr<ClientCredentialsCredentialPrivate> d;
};

} // namespace Keyloop
