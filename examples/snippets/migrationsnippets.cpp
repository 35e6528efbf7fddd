// SPDX-License-Identifier: MIT
// Code docs/migrating.md quotes: what an app written for Qt NetworkAuth or o2 writes with
// Keyloop instead. Compiled with the examples (warnings are errors), never run. The regions
// between `//! [name]` lines are copied verbatim into the guide, and
// examples/check-doc-snippets.sh keeps the copies identical.

#include <keyloop/client.h>
#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/httpreply.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/revocationjob.h>
#include <keyloop/tokenclient.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QDebug>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QSslCertificate>

#include <functional>

namespace KeyloopDocSnippets {

Keyloop::Client *migrateFlow(QObject *parent, const std::function<void(const QUrl &)> &showAddress)
{
    //! [flow]
    Keyloop::ClientConfiguration configuration;
    configuration.setIssuer(QUrl(QStringLiteral("https://login.example.com"))); // discovery finds the endpoints
    configuration.setClientId(QStringLiteral("my-desktop-app"));
    configuration.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("api:read")});

    // The client owns the loopback listener, the browser, the keychain and the refresh.
    auto *client = new Keyloop::Client(configuration, QStringLiteral("org.example.MyApp"), parent);
    QObject::connect(client, &Keyloop::Client::signInRequired, parent, [client] { client->signIn(); });
    QObject::connect(client, &Keyloop::Client::authorizationUrlChanged, parent, [showAddress](const QUrl &url) {
        if (!url.isEmpty())
            showAddress(url); // for copying when no browser opens; never log it
    });
    QObject::connect(client, &Keyloop::Client::signedIn, parent, [client] {
        qInfo() << "signed in as" << client->displayName();
    });
    QObject::connect(client, &Keyloop::Client::failed, parent, [](const Keyloop::Error &error) {
        qWarning() << "sign-in failed:" << error.message(); // safe to show: no secrets in it
    });
    client->restore(); // the keychain first: signedIn() without a browser, or signInRequired()
    //! [flow]
    return client;
}

void migrateParameters(Keyloop::ClientConfiguration &configuration)
{
    //! [parameters]
    configuration.setPrompt(QStringLiteral("consent"));
    configuration.setLoginHint(QStringLiteral("alice@example.com"));
    configuration.setResources({QStringLiteral("https://api.example.com")}); // RFC 8707, where it is needed
    // Anything else, on the authorization request; Keyloop's own parameters cannot be replaced.
    configuration.setAdditionalParameters({{QStringLiteral("ui_locales"), QStringLiteral("de")}});
    //! [parameters]
}

void migrateRequests(Keyloop::Client *client, QObject *context)
{
    //! [requests]
    // The API's token goes to these locations and nowhere else, only in the Authorization header.
    client->addApi(QStringLiteral("https://api.example.com"), {QUrl(QStringLiteral("https://api.example.com/v1/"))});

    Keyloop::HttpReply *reply = client->get(QUrl(QStringLiteral("https://api.example.com/v1/items")));
    QObject::connect(reply, &Keyloop::Job::finished, context, [reply] {
        // A fresh token was attached (refreshed first if needed; one retry after a 401).
        if (const Keyloop::Error error = reply->error())
            qWarning() << "HTTP" << reply->statusCode() << error.message();
        else
            qInfo() << reply->body().size() << "bytes";
    });
    //! [requests]
}

void migrateToken(Keyloop::Client *client, QObject *context, const std::function<void(const QNetworkRequest &)> &open)
{
    //! [token]
    // For a transport Keyloop does not send itself (a WebSocket, gRPC): a token that is fresh now.
    client->freshAccessToken(QStringLiteral("https://api.example.com"), context,
                             [open](const QByteArray &token, const Keyloop::Error &error) {
        if (error) {
            qWarning() << "no token:" << error.message(); // requiresSignIn(), isTransient(), …
            return;
        }
        QNetworkRequest request(QUrl(QStringLiteral("wss://api.example.com/v1/stream")));
        request.setRawHeader("Authorization", "Bearer " + token); // never in the URL
        open(request);
    });
    //! [token]
}

void migrateTls(Keyloop::ClientConfiguration &configuration)
{
    //! [tls]
    // A provider behind a private CA: trust that CA, in addition to the system's.
    Keyloop::TransportOptions transport = configuration.transport();
    transport.setExtraCaCertificates(QSslCertificate::fromPath(QStringLiteral("/etc/ssl/corp-ca.pem"), QSsl::Pem));
    configuration.setTransport(transport);
    //! [tls]
}

void revokeOldToken(QNetworkAccessManager *nam, const Keyloop::ProviderConfiguration &provider,
                    const Keyloop::ClientConfiguration &configuration, const QByteArray &oldRefreshToken,
                    QObject *context, const std::function<void()> &deleteOldToken)
{
    //! [revoke-old]
    // `provider` from a DiscoveryJob; `oldRefreshToken` read from the old library's store.
    auto *tokens = new Keyloop::TokenClient(nam, configuration.transport(), context);
    Keyloop::RevocationJob *job = tokens->revoke(provider, configuration, oldRefreshToken,
                                                 Keyloop::RevocationJob::TokenTypeHint::RefreshToken);
    QObject::connect(job, &Keyloop::Job::finished, context, [job, tokens, deleteOldToken] {
        if (const Keyloop::Error error = job->error())
            qWarning() << "the old refresh token was not revoked:" << error.message(); // valid until it expires
        deleteOldToken(); // either way: from now on the session lives in Keyloop's store
        tokens->deleteLater();
    });
    job->start();
    //! [revoke-old]
}

} // namespace KeyloopDocSnippets
