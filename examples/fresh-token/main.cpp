// SPDX-License-Identifier: MIT
// fresh-token — restore the session signin-widget stored in the OS keychain and get a fresh access
// token, refreshing it first when it is (nearly) expired. Prints the token's expiry, never the
// token. A QCoreApplication: no browser, no GUI. docs/getting-started.md walks through this file.
//
//   fresh-token --issuer https://login.example.com --client-id my-desktop-app
//               [--resource https://api.example.com] [--ca-file PEM] [--allow-insecure-loopback]
//               [--app-id org.example.MyApp] [--account NAME]
//
// Exit codes: 0 ok; 1 usage, configuration or other error; 3 sign in again (nothing stored, or
// the refresh token was rejected); 4 the OS keychain is unavailable; 5 network trouble, try later.

#include "examplesettings.h"

#include <keyloop/discoveryjob.h>
#include <keyloop/error.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessionrecord.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtNetwork/QNetworkAccessManager>

#include <cstdio>

namespace {

void fail(int exitCode, const QString &message)
{
    std::fprintf(stderr, "fresh-token: %s\n", qPrintable(message));
    QCoreApplication::exit(exitCode);
}

//! [fresh-token]
void printFreshToken(Keyloop::Session *session, const QString &resource)
{
    session->freshAccessToken(resource, qApp, [session, resource](const QByteArray &token, const Keyloop::Error &error) {
        if (error.requiresSignIn()) // refresh token rejected or absent; the stored session is gone
            return fail(3, QStringLiteral("sign in again: %1").arg(error.message()));
        if (error.isTransient()) // network trouble or a 5xx: everything is kept, try again later
            return fail(5, QStringLiteral("try again later: %1").arg(error.message()));
        if (error.domain() == Keyloop::Error::Domain::Storage)
            return fail(4, error.message());
        if (error)
            return fail(1, error.message());

        // Use `token` as "Authorization: Bearer <token>" on a request to the API; never print or log it.
        const Keyloop::SessionAccessToken current = session->record().accessToken(resource);
        const QString forWhom = resource.isEmpty() ? QStringLiteral("the provider") : resource;
        if (current.expiresAt.isValid()) {
            const qint64 seconds = QDateTime::currentDateTimeUtc().secsTo(current.expiresAt);
            std::printf("Fresh access token (%lld bytes) for %s, expires at %s (in %lld s)\n",
                        static_cast<long long>(token.size()), qPrintable(forWhom),
                        qPrintable(current.expiresAt.toUTC().toString(Qt::ISODate)), static_cast<long long>(seconds));
        } else {
            std::printf("Fresh access token (%lld bytes) for %s; the provider gave no expiry\n",
                        static_cast<long long>(token.size()), qPrintable(forWhom));
        }
        QCoreApplication::exit(0);
    });
}
//! [fresh-token]

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    ExampleSettings settings;
    if (const Keyloop::Error error = parseExampleSettings(
            app, QStringLiteral("Restore the stored session and print a fresh access token's expiry."), &settings)) {
        std::fprintf(stderr, "fresh-token: %s\n", qPrintable(error.message()));
        return 1;
    }

    QNetworkAccessManager nam;
    Keyloop::KeychainTokenStore store(settings.appId);

    //! [restore]
    // The provider's endpoints: discovery costs one HTTPS request. To start without it, keep
    // ProviderConfiguration::toJson() from the sign-in (it is not secret) and use fromJson().
    auto *discovery = new Keyloop::DiscoveryJob(&nam, settings.client.issuer(), settings.client.transport(), &app);
    QObject::connect(discovery, &Keyloop::Job::finished, &app, [&, discovery] {
        if (const Keyloop::Error error = discovery->error())
            return fail(error.isTransient() ? 5 : 1, QStringLiteral("discovery failed: %1").arg(error.message()));

        auto *session = new Keyloop::Session(settings.client, discovery->configuration(), &store, &nam, &app);
        session->setAccount(settings.account);
        QObject::connect(session, &Keyloop::Session::storageFailed, &app, [](const Keyloop::Error &error) {
            // Refreshed tokens are used from memory; the next start may have to sign in again.
            std::fprintf(stderr, "fresh-token: warning: the refreshed session was not saved: %s\n",
                         qPrintable(error.message()));
        });

        Keyloop::SessionJob *restore = session->restore(); // reads the keychain; no network
        QObject::connect(restore, &Keyloop::Job::finished, &app, [&, session, restore] {
            const Keyloop::Error error = restore->error();
            if (error.code() == Keyloop::Error::Code::NotFound)
                return fail(3, QStringLiteral("no stored session: sign in first (signin-widget)"));
            if (error.code() == Keyloop::Error::Code::StorageCorrupt)
                return fail(3, QStringLiteral("the stored session is damaged: sign in again (%1)").arg(error.message()));
            if (error) // StorageUnavailable, StorageFailed
                return fail(4, QStringLiteral("cannot read the OS keychain: %1").arg(error.message()));
            printFreshToken(session, settings.resource);
        });
        restore->start();
    });
    discovery->start();
    //! [restore]

    return app.exec();
}
