// SPDX-License-Identifier: MIT
// The quickstart (docs/getting-started.md): sign in once in the system browser, restore the
// session silently at every later start, and call a protected API with a token that refreshes
// itself. A ctest keeps the part between the quickstart markers at 16 lines of code or fewer.
//
//   api-call --issuer URL --client-id ID --resource URI --api URL [--ca-file PEM] [--app-id ID]
#include "examplesettings.h"

#include <keyloop/client.h>
#include <keyloop/httpreply.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDebug>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    ExampleSettings settings; // a real app compiles these in: issuer, client id, resource, API address
    if (const Keyloop::Error error = parseExampleSettings(app, QStringLiteral("Call a protected API."), &settings)) {
        std::fprintf(stderr, "api-call: %s\n", qPrintable(error.message()));
        return 2;
    }
    const QUrl api = settings.api;

    // [quickstart]
    Keyloop::Client client(settings.client, settings.appId);
    client.addApi(settings.resource, {api}); // the API's token goes to this address and nowhere else
    QObject::connect(&client, &Keyloop::Client::signInRequired, &client, [&] { client.signIn(); });
    QObject::connect(&client, &Keyloop::Client::failed, &app, [](const Keyloop::Error &error) {
        std::fprintf(stderr, "%s\n", qPrintable(error.message()));
        QCoreApplication::exit(1);
    });
    QObject::connect(&client, &Keyloop::Client::signedIn, &app, [&] {
        Keyloop::HttpReply *reply = client.get(api.resolved(QUrl(QStringLiteral("me"))));
        QObject::connect(reply, &Keyloop::Job::finished, &app, [reply] {
            std::puts(reply->error() ? qPrintable(reply->error().message()) : reply->body().constData());
            QCoreApplication::exit(reply->error() ? 1 : 0);
        });
    });
    client.restore(); // the keychain; signInRequired() the first time
    // [quickstart]

    return app.exec();
}
