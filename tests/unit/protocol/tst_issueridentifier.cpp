// SPDX-License-Identifier: MIT
// issuerIdentifier(): the one string form of an issuer that discovery (OIDC Discovery §4.3,
// RFC 8414 §3.3), RFC 9207 §2.4, the ID token's iss (OIDC Core 3.1.3.7 rule 2) and the store
// keys use — and that it is the same string every comparison sees.
#include <keyloop/authorizationresponse.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/tokenstore.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

// "münchen.de" (a TLD whose IDN hosts QUrl::toString() shows in Unicode) and a path with "é".
QString unicodeIssuer() { return QStringLiteral("https://m\u00fcnchen.de/realms/d\u00e9v"); }
QString asciiIssuer() { return QStringLiteral("https://xn--mnchen-3ya.de/realms/d%C3%A9v"); }

QByteArray discoveryDocument(const QString &issuer)
{
    const QJsonObject o{{QStringLiteral("issuer"), issuer},
                        {QStringLiteral("authorization_endpoint"), QStringLiteral("https://xn--mnchen-3ya.de/auth")},
                        {QStringLiteral("token_endpoint"), QStringLiteral("https://xn--mnchen-3ya.de/token")},
                        {QStringLiteral("authorization_response_iss_parameter_supported"), true}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class tst_IssuerIdentifier : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void isTheRfc3986Form_data()
    {
        QTest::addColumn<QString>("configured");
        QTest::addColumn<QString>("identifier");
        QTest::newRow("IDN host, shown in Unicode by QUrl::toString()")
            << QStringLiteral("https://b\u00fccher.de/x") << QStringLiteral("https://xn--bcher-kva.de/x");
        QTest::newRow("IDN host, other TLD") << QStringLiteral("https://b\u00fccher.example")
                                             << QStringLiteral("https://xn--bcher-kva.example");
        QTest::newRow("A-label host stays") << QStringLiteral("https://xn--bcher-kva.de/x")
                                            << QStringLiteral("https://xn--bcher-kva.de/x");
        QTest::newRow("non-ASCII path") << unicodeIssuer() << asciiIssuer();
        QTest::newRow("%XX path stays encoded") << asciiIssuer() << asciiIssuer();
        QTest::newRow("encoded space") << QStringLiteral("https://op.example/a%20b") << QStringLiteral("https://op.example/a%20b");
        QTest::newRow("encoded slash") << QStringLiteral("https://op.example/a%2Fb") << QStringLiteral("https://op.example/a%2Fb");
        QTest::newRow("lower-case hex is normalized (RFC 3986 §6.2.2.1)")
            << QStringLiteral("https://op.example/a%c3%a9") << QStringLiteral("https://op.example/a%C3%A9");
        QTest::newRow("empty") << QString() << QString();
    }

    void isTheRfc3986Form()
    {
        QFETCH(QString, configured);
        QFETCH(QString, identifier);
        QCOMPARE(issuerIdentifier(QUrl(configured)), identifier);
    }

    // Keys stored by earlier versions used QUrl::toString(): for plain ASCII issuers the string,
    // and so every stored session's key, is unchanged.
    void plainAsciiIssuersKeepTheirStoredKeys_data()
    {
        QTest::addColumn<QString>("issuer");
        for (const char *issuer : {"https://login.example.com", "https://login.example.com/", "https://example.eu.auth0.com/",
                                   "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
                                   "https://sso.example.org/realms/staff", "https://127.0.0.1:8443", "https://[::1]:8443/op",
                                   "https://op.example/a_b-c.d~e!$&'()*+,;=:@"})
            QTest::newRow(issuer) << QString::fromLatin1(issuer);
    }

    void plainAsciiIssuersKeepTheirStoredKeys()
    {
        QFETCH(QString, issuer);
        const QUrl url(issuer);
        QCOMPARE(issuerIdentifier(url), issuer);
        QCOMPARE(issuerIdentifier(url), url.toString());
        QCOMPARE(TokenStore::keyFor(issuerIdentifier(url), QStringLiteral("app"), QString()),
                 TokenStore::keyFor(url.toString(), QStringLiteral("app"), QString()));
    }

    // OIDC Discovery §4.3: the document publishes the RFC 3986 form; it matches an issuer
    // configured in either form, and the Unicode spelling in the document does not.
    void discoveryComparesTheIdentifier_data()
    {
        QTest::addColumn<QString>("configured");
        QTest::addColumn<QString>("published");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("configured in Unicode") << unicodeIssuer() << asciiIssuer() << Error::Code::NoError;
        QTest::newRow("configured as published") << asciiIssuer() << asciiIssuer() << Error::Code::NoError;
        QTest::newRow("published in Unicode") << asciiIssuer() << unicodeIssuer() << Error::Code::IssuerMismatch;
    }

    void discoveryComparesTheIdentifier()
    {
        QFETCH(QString, configured);
        QFETCH(QString, published);
        QFETCH(Error::Code, code);
        Error error;
        const ProviderConfiguration provider =
            ProviderConfiguration::fromJson(discoveryDocument(published), QUrl(configured), TransportOptions(), &error);
        QCOMPARE(error.code(), code);
        if (!error)
            QCOMPARE(issuerIdentifier(provider.issuer()), asciiIssuer());
    }

    // RFC 9207 §2.4 compares the callback's iss with the same string.
    void authorizationResponseComparesTheIdentifier_data()
    {
        QTest::addColumn<QByteArray>("iss");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("RFC 3986 form") << QUrl::toPercentEncoding(asciiIssuer()) << Error::Code::NoError;
        QTest::newRow("Unicode form") << QUrl::toPercentEncoding(unicodeIssuer()) << Error::Code::IssuerMismatch;
    }

    void authorizationResponseComparesTheIdentifier()
    {
        QFETCH(QByteArray, iss);
        QFETCH(Error::Code, code);
        Error error;
        const ProviderConfiguration provider =
            ProviderConfiguration::fromJson(discoveryDocument(asciiIssuer()), QUrl(unicodeIssuer()), TransportOptions(), &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        ClientConfiguration client;
        client.setIssuer(QUrl(unicodeIssuer()));
        client.setClientId(QStringLiteral("app"));
        const AuthorizationRequest request =
            AuthorizationRequest::create(client, provider, QUrl(QStringLiteral("http://127.0.0.1:1234/callback")), &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        AuthorizationResponse::parse("code=c&state=" + request.state() + "&iss=" + iss, request, provider, &error);
        QCOMPARE(error.code(), code);
    }

    void clientAndProviderIssuerCompareAsIdentifiers()
    {
        ProviderConfiguration provider;
        provider.setIssuer(QUrl(asciiIssuer()));
        provider.setAuthorizationEndpoint(QUrl(QStringLiteral("https://xn--mnchen-3ya.de/auth")));
        provider.setTokenEndpoint(QUrl(QStringLiteral("https://xn--mnchen-3ya.de/token")));
        ClientConfiguration client;
        client.setIssuer(QUrl(unicodeIssuer()));
        client.setClientId(QStringLiteral("app"));
        client.setProviderConfiguration(provider);
        QCOMPARE(client.validate().code(), Error::Code::NoError);
        provider.setIssuer(QUrl(QStringLiteral("https://xn--mnchen-3ya.de/realms/dev")));
        client.setProviderConfiguration(provider);
        QCOMPARE(client.validate().code(), Error::Code::InvalidConfiguration);
    }
};

QTEST_GUILESS_MAIN(tst_IssuerIdentifier)
#include "tst_issueridentifier.moc"
