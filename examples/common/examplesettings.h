// SPDX-License-Identifier: MIT
// The settings both examples take on the command line. A real app compiles most of them in:
// its issuer, its client id, its application id.
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QString>
#include <QtCore/QUrl>
#include <QtNetwork/QSslCertificate>

struct ExampleSettings
{
    Keyloop::ClientConfiguration client;
    QString appId;    ///< keychain service name, lock and account index (reverse-DNS)
    QString account;  ///< "" = the default account
    QString resource; ///< RFC 8707 resource of the API the token is for; "" = the provider itself
    QUrl api;         ///< where that API lives (its token goes there and nowhere else)
};

/// Parses the common options; on failure returns an Error (InvalidConfiguration / InsecureEndpoint).
inline Keyloop::Error parseExampleSettings(const QCoreApplication &app, const QString &description,
                                           ExampleSettings *settings)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addOption({QStringLiteral("issuer"), QStringLiteral("The provider's issuer URL."), QStringLiteral("URL")});
    parser.addOption({QStringLiteral("client-id"), QStringLiteral("The app's client_id at the provider."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("resource"),
                      QStringLiteral("Resource indicator (RFC 8707) of an API to get tokens for."), QStringLiteral("URI")});
    parser.addOption({QStringLiteral("api"), QStringLiteral("The API's address (URL prefix)."), QStringLiteral("URL")});
    parser.addOption({QStringLiteral("scope"), QStringLiteral("Scopes, space-separated (default: openid profile email)."),
                      QStringLiteral("SCOPES")});
    parser.addOption({QStringLiteral("ca-file"),
                      QStringLiteral("Extra trusted CA certificates (PEM), e.g. a private enterprise CA."),
                      QStringLiteral("PEM")});
    parser.addOption({QStringLiteral("allow-insecure-loopback"),
                      QStringLiteral("Development only: allow plain http for a provider on 127.0.0.1/::1/localhost.")});
    parser.addOption({QStringLiteral("app-id"), QStringLiteral("Application id (default org.keyloop.examples)."),
                      QStringLiteral("ID"), QStringLiteral("org.keyloop.examples")});
    parser.addOption({QStringLiteral("account"), QStringLiteral("Account name (default: the default account)."),
                      QStringLiteral("NAME")});
    parser.process(app); // --help, and unknown options, end the program here

    const QString caFile = parser.value(QStringLiteral("ca-file"));
    const QList<QSslCertificate> caCertificates =
        caFile.isEmpty() ? QList<QSslCertificate>() : QSslCertificate::fromPath(caFile, QSsl::Pem);
    if (!caFile.isEmpty() && caCertificates.isEmpty())
        return Keyloop::Error(Keyloop::Error::Code::InvalidConfiguration,
                              QStringLiteral("no PEM certificate in %1").arg(caFile));

    //! [configure]
    Keyloop::ClientConfiguration client;
    client.setIssuer(QUrl(parser.value(QStringLiteral("issuer"))));
    client.setClientId(parser.value(QStringLiteral("client-id")));
    if (parser.isSet(QStringLiteral("scope")))
        client.setScopes(parser.value(QStringLiteral("scope")).split(QLatin1Char(' '), Qt::SkipEmptyParts));
    if (parser.isSet(QStringLiteral("resource")))
        client.setResources({parser.value(QStringLiteral("resource"))});

    Keyloop::TransportOptions transport;
    transport.setExtraCaCertificates(caCertificates); // added to the system's CA store
    transport.setAllowInsecureLoopbackForDevelopment(parser.isSet(QStringLiteral("allow-insecure-loopback")));
    client.setTransport(transport);

    if (const Keyloop::Error error = client.validate())
        return error; // InvalidConfiguration or InsecureEndpoint, with a message naming the rule
    //! [configure]

    settings->client = client;
    settings->appId = parser.value(QStringLiteral("app-id"));
    settings->account = parser.value(QStringLiteral("account"));
    settings->resource = parser.value(QStringLiteral("resource"));
    settings->api = QUrl(parser.value(QStringLiteral("api")));
    return Keyloop::Error();
}
