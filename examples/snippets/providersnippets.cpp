// SPDX-License-Identifier: MIT
// Code the guides in docs/ quote (docs/configuring-providers.md, docs/sessions.md). It is
// compiled with the examples (warnings are errors) but never run: each function shows one
// configuration. The regions between `//! [name]` lines are copied verbatim into the docs, and
// examples/check-doc-snippets.sh keeps the copies identical.

#include <keyloop/accountindex.h>
#include <keyloop/client.h>
#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/redirecthost.h>
#include <keyloop/session.h>
#include <keyloop/tokenstore.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QDebug>
#include <QtCore/QLoggingCategory>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkProxy>
#include <QtNetwork/QNetworkProxyFactory>
#include <QtNetwork/QSslCertificate>

#include <chrono>

namespace KeyloopDocSnippets {

Keyloop::ClientConfiguration discovery()
{
    //! [discovery]
    Keyloop::ClientConfiguration client;
    client.setIssuer(QUrl(QStringLiteral("https://login.example.com/realms/staff"))); // exactly as the provider's `iss`
    client.setClientId(QStringLiteral("my-desktop-app"));
    // Nothing else: SignIn fetches {issuer}/.well-known/openid-configuration (falling back to
    // RFC 8414's /.well-known/oauth-authorization-server) and requires its `issuer` to be equal.
    //! [discovery]
    return client;
}

Keyloop::ClientConfiguration github()
{
    //! [manual-endpoints]
    // Plain OAuth 2.0 without discovery (e.g. a GitHub OAuth App): endpoints by hand, no `openid`.
    Keyloop::ProviderConfiguration provider;
    provider.setIssuer(QUrl(QStringLiteral("https://github.com")));
    provider.setAuthorizationEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/authorize")));
    provider.setTokenEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/access_token")));

    Keyloop::ClientConfiguration client;
    client.setIssuer(provider.issuer());
    client.setClientId(QStringLiteral("Iv1.0123456789abcdef"));
    client.setClientSecret(QStringLiteral("shipped-with-the-app")); // this provider requires one: not really secret
    client.setClientAuthMethod(Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretPost);
    client.setScopes({QStringLiteral("read:user")}); // no "openid": no nonce, no ID token
    client.setProviderConfiguration(provider);       // skips discovery
    //! [manual-endpoints]
    return client;
}

Keyloop::ProviderConfiguration manualOpenId()
{
    //! [manual-openid]
    // An OpenID Provider without discovery: also give jwks_uri and the ID token algorithms, so
    // that ID tokens can be verified.
    Keyloop::ProviderConfiguration provider;
    provider.setIssuer(QUrl(QStringLiteral("https://login.example.com")));
    provider.setAuthorizationEndpoint(QUrl(QStringLiteral("https://login.example.com/oauth2/authorize")));
    provider.setTokenEndpoint(QUrl(QStringLiteral("https://login.example.com/oauth2/token")));
    provider.setJwksUri(QUrl(QStringLiteral("https://login.example.com/oauth2/keys")));
    provider.setIdTokenSigningAlgValuesSupported({QStringLiteral("RS256")});
    provider.setScopesSupported({QStringLiteral("openid"), QStringLiteral("offline_access")});
    //! [manual-openid]
    return provider;
}

Keyloop::TransportOptions transport(const QString &caFile)
{
    //! [transport]
    Keyloop::TransportOptions transport;
    // An enterprise provider on a private CA: trust it in addition to the system's CAs.
    transport.setExtraCaCertificates(QSslCertificate::fromPath(caFile, QSsl::Pem));
    transport.setRequestTimeout(std::chrono::seconds(20)); // per request; default 30 s
    transport.setMaxResponseSize(512 * 1024);              // default 1 MiB
    //! [transport]
    return transport;
}

Keyloop::TransportOptions development()
{
    //! [development]
    // Development only: a provider on plain http://127.0.0.1:PORT (e.g. the devstack with --http).
    // http stays refused for every host that is not loopback.
    Keyloop::TransportOptions transport;
    transport.setAllowInsecureLoopbackForDevelopment(true);
    //! [development]
    return transport;
}

void proxies(QNetworkAccessManager *nam)
{
    //! [proxy]
    // Provider traffic goes through the QNetworkAccessManager you pass to SignIn and Session, so
    // its proxy settings apply: the system's (http_proxy/https_proxy/no_proxy on Linux) …
    QNetworkProxyFactory::setUseSystemConfiguration(true);
    // … or an explicit one for this manager only.
    nam->setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("proxy.example.com"), 3128));
    //! [proxy]
}

void redirect(Keyloop::ClientConfiguration &client)
{
    //! [redirect]
    client.setRedirectHost(Keyloop::RedirectHost::Localhost); // http://localhost:PORT/callback
    client.setRedirectPorts({49152, 49153});  // tried in order; empty (default) = an ephemeral port
    client.setRedirectPath(QStringLiteral("/oauth/callback")); // default "/callback", matched exactly
    client.setSuccessRedirectUrl(QUrl(QStringLiteral("https://www.example.com/signed-in")));
    //! [redirect]
}

void requestOptions(Keyloop::ClientConfiguration &client)
{
    //! [request-options]
    client.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("api:read")});
    client.setOfflineAccess(Keyloop::ClientConfiguration::OfflineAccess::DoNotRequest);
    client.setResources({QStringLiteral("https://api.example.com")}); // RFC 8707
    client.setPrompt(QStringLiteral("login"));                       // force re-authentication
    client.setLoginHint(QStringLiteral("alice@example.com"));
    client.setMaxAge(std::chrono::seconds(3600));                     // auth_time is then checked
    client.setAcrValues({QStringLiteral("urn:example:mfa")});
    client.setAdditionalParameters({{QStringLiteral("ui_locales"), QStringLiteral("de-CH fr")}});
    client.setLoginTimeout(std::chrono::minutes(10));                 // default 5 minutes
    //! [request-options]
}

void pushedAuthorization(Keyloop::ClientConfiguration &client)
{
    //! [pushed-authorization]
    // RFC 9126: push the request first; the browser's URL then carries only client_id and a
    // short-lived request_uri. Default WhenRequired: only when the provider's metadata says
    // require_pushed_authorization_requests.
    client.setPushedAuthorizationRequests(Keyloop::ClientConfiguration::PushedAuthorizationRequests::Always);
    //! [pushed-authorization]
}

void dpop(Keyloop::ClientConfiguration &client)
{
    //! [dpop]
    // RFC 9449: bind the tokens to a key pair made at sign-in and kept in the keychain with the
    // refresh token. Needs a provider that issues DPoP tokens and APIs that check the proofs.
    client.setDpopEnabled(true);
    //! [dpop]
}

void devstack(Keyloop::ClientConfiguration &client, const QString &issuer, const QString &caFile)
{
    //! [devstack]
    // The repository's devstack (./scripts/devstack start): `issuer` and `caFile` come from the
    // devstack.json it prints. keyloop-demo is registered with loopback redirects on any port.
    client.setIssuer(QUrl(issuer)); // https://127.0.0.1:PORT
    client.setClientId(QStringLiteral("keyloop-demo"));
    client.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("email"),
                      QStringLiteral("offline_access"), QStringLiteral("api:read")});
    client.setResources({QStringLiteral("https://api.keyloop.test")}); // the API's token is a JWT for this audience
    Keyloop::TransportOptions transport;
    transport.setExtraCaCertificates(QSslCertificate::fromPath(caFile, QSsl::Pem)); // the devstack's own CA
    client.setTransport(transport);
    //! [devstack]
}

void keycloak(Keyloop::ClientConfiguration &client)
{
    //! [keycloak]
    // Provider-specific: a Keycloak public client with the redirect URI
    // http://127.0.0.1:53682/callback and …:53683/callback registered exactly.
    client.setIssuer(QUrl(QStringLiteral("https://sso.example.com/realms/staff")));
    client.setClientId(QStringLiteral("my-desktop-app"));
    client.setRedirectPorts({53682, 53683}); // both registered; the first free one is used
    //! [keycloak]
}

void google(Keyloop::ClientConfiguration &client)
{
    //! [google]
    // Provider-specific: a Google "Desktop app" OAuth client.
    client.setIssuer(QUrl(QStringLiteral("https://accounts.google.com")));
    client.setClientId(QStringLiteral("1234567890-abc.apps.googleusercontent.com"));
    client.setClientSecret(QStringLiteral("GOCSPX-shipped-with-the-app")); // issued for desktop clients; not secret
    client.setClientAuthMethod(Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretPost);
    // Google does not list offline_access; it issues refresh tokens for access_type=offline.
    client.setAdditionalParameters({{QStringLiteral("access_type"), QStringLiteral("offline")}});
    //! [google]
}

void entra(Keyloop::ClientConfiguration &client)
{
    //! [entra]
    // Provider-specific: Microsoft Entra ID, a "Mobile and desktop applications" registration with
    // the redirect URI http://localhost/callback (Entra ignores the port of a localhost URI). Use
    // your tenant's id: the "common" metadata's issuer contains a {tenantid} placeholder and never
    // equals the configured issuer.
    client.setIssuer(QUrl(QStringLiteral("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0")));
    client.setClientId(QStringLiteral("11111111-1111-1111-1111-111111111111"));
    client.setRedirectHost(Keyloop::RedirectHost::Localhost); // http://localhost:PORT/callback
    client.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("User.Read")});
    //! [entra]
}

void auth0(Keyloop::ClientConfiguration &client)
{
    //! [auth0]
    // Provider-specific: Auth0's issuer ends with a slash, and `iss` must match it exactly.
    client.setIssuer(QUrl(QStringLiteral("https://example.eu.auth0.com/")));
    client.setClientId(QStringLiteral("AbCdEf0123456789"));
    // Auth0 names the API with its own `audience` parameter rather than RFC 8707 `resource`.
    client.setAdditionalParameters({{QStringLiteral("audience"), QStringLiteral("https://api.example.com")}});
    //! [auth0]
}

Keyloop::Session *memoryFallback(const Keyloop::ClientConfiguration &client, const Keyloop::ProviderConfiguration &provider,
                                 QNetworkAccessManager *nam, QObject *parent)
{
    //! [memory-store]
    // The user chose to go on without the OS keychain: a store that keeps nothing after the process.
    auto *memoryStore = new Keyloop::MemoryTokenStore(QStringLiteral("org.example.MyApp"), parent);
    auto *session = new Keyloop::Session(client, provider, memoryStore, nam, parent);
    //! [memory-store]
    return session;
}

void accounts(const Keyloop::ClientConfiguration &client, const Keyloop::ProviderConfiguration &provider,
              Keyloop::TokenStore *store, Keyloop::AccountIndex *index, QNetworkAccessManager *nam, QObject *parent)
{
    //! [accounts]
    // index: a Keyloop::AccountIndex for the app id, e.g. new Keyloop::AccountIndex(appId, this)
    Keyloop::Error error;
    const QList<Keyloop::AccountIndexEntry> entries = index->entries(&error); // sorted; never a token
    for (const Keyloop::AccountIndexEntry &entry : entries) {
        if (entry.issuer != Keyloop::issuerIdentifier(client.issuer()) || entry.clientId != client.clientId())
            continue; // another provider or client of the same app
        auto *session = new Keyloop::Session(client, provider, store, nam, parent); // store: the app id's keychain
        session->setAccount(entry.account); // before restore(): selects the keychain item and the lock
        session->setAccountIndex(index);    // keeps the index up to date on save and sign-out
        session->restore()->start();        // connect to Job::finished as in getting-started
    }
    //! [accounts]
}

void signOut(Keyloop::Session *session, QObject *context)
{
    //! [sign-out]
    // Revokes the tokens at the provider (RFC 7009), then removes the keychain items and the index entry.
    Keyloop::SessionJob *job = session->signOut();
    QObject::connect(job, &Keyloop::Job::finished, context, [job] {
        const Keyloop::Error e = job->error();
        if (e.code() == Keyloop::Error::Code::RevocationFailed)
            qWarning() << "signed out on this device, but the provider did not revoke the tokens:" << e;
        else if (e)
            qWarning() << "sign-out could not remove the stored session (try again):" << e;
    });
    job->start();
    //! [sign-out]
}

void signOutAtTheProvider(Keyloop::Client *client, QObject *context)
{
    //! [provider-sign-out]
    // Revokes and removes first (signedOut(): that stands), then ends the provider's session in the
    // browser (OpenID Connect RP-Initiated Logout) with the ID token as id_token_hint.
    QObject::connect(client, &Keyloop::Client::providerSessionEnded, context, [] {
        qInfo() << "signed out here and at the provider";
    });
    QObject::connect(client, &Keyloop::Client::failed, context, [client](const Keyloop::Error &e) {
        if (!client->isSignedIn())
            qWarning() << "signed out here; the provider's session may still be alive:" << e;
    });
    client->signOut(Keyloop::Client::SignOutScope::ProviderSession);
    //! [provider-sign-out]
}

} // namespace KeyloopDocSnippets
