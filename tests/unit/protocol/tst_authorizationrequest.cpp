// SPDX-License-Identifier: MIT
#include <keyloop/authorizationrequest.h>
#include <keyloop/pkce.h>

#include <QtTest/QtTest>
#include <QtCore/QUrlQuery>

using namespace Keyloop;

namespace {

ProviderConfiguration provider(bool offline = true)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(QStringLiteral("https://op.example")));
    p.setAuthorizationEndpoint(QUrl(QStringLiteral("https://op.example/authorize")));
    p.setTokenEndpoint(QUrl(QStringLiteral("https://op.example/token")));
    QStringList scopes{QStringLiteral("openid"), QStringLiteral("profile")};
    if (offline)
        scopes << QStringLiteral("offline_access");
    p.setScopesSupported(scopes);
    return p;
}

ClientConfiguration client()
{
    ClientConfiguration c;
    c.setIssuer(QUrl(QStringLiteral("https://op.example")));
    c.setClientId(QStringLiteral("desktop-app"));
    return c;
}

const QUrl kRedirect(QStringLiteral("http://127.0.0.1:5555/callback"));

// Parses the URL's query the way an authorization server does (form decoding: '+' is space).
QList<QPair<QString, QString>> params(const QUrl &url)
{
    QList<QPair<QString, QString>> out;
    const QByteArray query = url.query(QUrl::FullyEncoded).toLatin1();
    for (const QByteArray &pair : query.split('&')) {
        const qsizetype eq = pair.indexOf('=');
        QByteArray name = pair.left(eq), value = pair.mid(eq + 1);
        name.replace('+', ' ');
        value.replace('+', ' ');
        out.append({QString::fromUtf8(QByteArray::fromPercentEncoding(name)),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(value))});
    }
    return out;
}

QStringList values(const QUrl &url, const QString &name)
{
    QStringList out;
    for (const auto &p : params(url))
        if (p.first == name)
            out << p.second;
    return out;
}

} // namespace

class tst_AuthorizationRequest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sendsEveryRequiredParameter()
    {
        Error error;
        const AuthorizationRequest request = AuthorizationRequest::create(client(), provider(), kRedirect, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        const QUrl url = request.url();
        QCOMPARE(url.host(), QStringLiteral("op.example"));
        QCOMPARE(url.path(), QStringLiteral("/authorize"));
        QCOMPARE(values(url, QStringLiteral("response_type")), QStringList{QStringLiteral("code")});
        QCOMPARE(values(url, QStringLiteral("client_id")), QStringList{QStringLiteral("desktop-app")});
        QCOMPARE(values(url, QStringLiteral("redirect_uri")), QStringList{kRedirect.toString()});
        QCOMPARE(values(url, QStringLiteral("scope")),
                 QStringList{QStringLiteral("openid profile email offline_access")});
        QCOMPARE(values(url, QStringLiteral("code_challenge_method")), QStringList{QStringLiteral("S256")});
        QVERIFY(values(url, QStringLiteral("state")) == QStringList{QString::fromLatin1(request.state())});
        QVERIFY(values(url, QStringLiteral("nonce")) == QStringList{QString::fromLatin1(request.nonce())});
        QVERIFY(values(url, QStringLiteral("code_challenge"))
                == QStringList{QString::fromLatin1(Pkce::challengeFor(request.codeVerifier()))});
        QCOMPARE(request.state().size(), 43);
        QCOMPARE(request.nonce().size(), 43);
        QVERIFY(Pkce::isValidVerifier(request.codeVerifier()));
        QVERIFY(values(url, QStringLiteral("prompt")).isEmpty());
        QVERIFY(values(url, QStringLiteral("login_hint")).isEmpty());
        QVERIFY(values(url, QStringLiteral("max_age")).isEmpty());
        QVERIFY(values(url, QStringLiteral("resource")).isEmpty());
        QVERIFY(request.isOpenIdRequest());
    }

    void freshSecretsForEveryRequest()
    {
        Error error;
        const auto a = AuthorizationRequest::create(client(), provider(), kRedirect, &error);
        const auto b = AuthorizationRequest::create(client(), provider(), kRedirect, &error);
        QVERIFY(a.state() != b.state());
        QVERIFY(a.nonce() != b.nonce());
        QVERIFY(a.codeVerifier() != b.codeVerifier());
    }

    void sendsOptionalParameters()
    {
        ClientConfiguration c = client();
        c.setPrompt(QStringLiteral("login consent"));
        c.setLoginHint(QStringLiteral("alice+work@example.com"));
        c.setMaxAge(std::chrono::seconds(600));
        c.setAcrValues({QStringLiteral("urn:mace:incommon:iap:silver"), QStringLiteral("phr")});
        c.setResources({QStringLiteral("https://api.example/"), QStringLiteral("https://files.example/")});
        c.setAdditionalParameters({{QStringLiteral("ui_locales"), QStringLiteral("de en")},
                                   {QStringLiteral("audience"), QStringLiteral("a&b=c")}});
        Error error;
        const auto request = AuthorizationRequest::create(c, provider(), kRedirect, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        const QUrl url = request.url();
        QCOMPARE(values(url, QStringLiteral("prompt")), QStringList{QStringLiteral("login consent")});
        // '+' must survive form decoding on the server
        QCOMPARE(values(url, QStringLiteral("login_hint")), QStringList{QStringLiteral("alice+work@example.com")});
        QCOMPARE(values(url, QStringLiteral("max_age")), QStringList{QStringLiteral("600")});
        QCOMPARE(values(url, QStringLiteral("acr_values")),
                 QStringList{QStringLiteral("urn:mace:incommon:iap:silver phr")});
        QCOMPARE(values(url, QStringLiteral("resource")),
                 (QStringList{QStringLiteral("https://api.example/"), QStringLiteral("https://files.example/")}));
        QCOMPARE(values(url, QStringLiteral("ui_locales")), QStringList{QStringLiteral("de en")});
        QCOMPARE(values(url, QStringLiteral("audience")), QStringList{QStringLiteral("a&b=c")});
        QCOMPARE(request.maxAge(), std::optional<std::chrono::seconds>(600));
        QCOMPARE(request.resources().size(), 2);
    }

    void keepsTheEndpointsQuery()
    {
        ProviderConfiguration p = provider();
        p.setAuthorizationEndpoint(QUrl(QStringLiteral("https://op.example/authorize?tenant=abc")));
        Error error;
        const auto request = AuthorizationRequest::create(client(), p, kRedirect, &error);
        QVERIFY(!error);
        QCOMPARE(values(request.url(), QStringLiteral("tenant")), QStringList{QStringLiteral("abc")});
        QCOMPARE(values(request.url(), QStringLiteral("response_type")), QStringList{QStringLiteral("code")});
    }

    void offlineAccess_data()
    {
        QTest::addColumn<bool>("providerSupports");
        QTest::addColumn<int>("policy");
        QTest::addColumn<bool>("expected");
        QTest::newRow("supported, default") << true << int(ClientConfiguration::OfflineAccess::RequestWhenSupported) << true;
        QTest::newRow("unsupported, default") << false << int(ClientConfiguration::OfflineAccess::RequestWhenSupported) << false;
        QTest::newRow("supported, opted out") << true << int(ClientConfiguration::OfflineAccess::DoNotRequest) << false;
    }
    void offlineAccess()
    {
        QFETCH(bool, providerSupports);
        QFETCH(int, policy);
        QFETCH(bool, expected);
        ClientConfiguration c = client();
        c.setOfflineAccess(ClientConfiguration::OfflineAccess(policy));
        Error error;
        const auto request = AuthorizationRequest::create(c, provider(providerSupports), kRedirect, &error);
        QVERIFY(!error);
        QCOMPARE(request.scopes().contains(QStringLiteral("offline_access")), expected);
        QCOMPARE(values(request.url(), QStringLiteral("scope")).value(0).contains(QStringLiteral("offline_access")), expected);
    }

    void offlineAccessIsNotDuplicated()
    {
        ClientConfiguration c = client();
        c.setScopes({QStringLiteral("openid"), QStringLiteral("offline_access")});
        Error error;
        const auto request = AuthorizationRequest::create(c, provider(), kRedirect, &error);
        QCOMPARE(request.scopes(), (QStringList{QStringLiteral("openid"), QStringLiteral("offline_access")}));
    }

    void nonceOnlyWithOpenId()
    {
        ClientConfiguration c = client();
        c.setScopes({QStringLiteral("repo"), QStringLiteral("read:user")});
        Error error;
        const auto request = AuthorizationRequest::create(c, provider(false), kRedirect, &error);
        QVERIFY(!error);
        QVERIFY(request.nonce().isEmpty());
        QVERIFY(!request.isOpenIdRequest());
        QVERIFY(values(request.url(), QStringLiteral("nonce")).isEmpty());
        QCOMPARE(values(request.url(), QStringLiteral("scope")), QStringList{QStringLiteral("repo read:user")});
        // PKCE and state stay mandatory in plain OAuth 2.0
        QCOMPARE(values(request.url(), QStringLiteral("state")).size(), 1);
        QCOMPARE(values(request.url(), QStringLiteral("code_challenge")).size(), 1);
    }

    void additionalParametersCannotOverrideProtocolOnes_data()
    {
        QTest::addColumn<QString>("name");
        for (const char *n : {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                              "code_challenge", "code_challenge_method", "prompt", "login_hint", "max_age",
                              "acr_values", "resource"})
            QTest::newRow(n) << QString::fromLatin1(n);
    }
    void additionalParametersCannotOverrideProtocolOnes()
    {
        QFETCH(QString, name);
        ClientConfiguration c = client();
        c.setAdditionalParameters({{name, QStringLiteral("x")}});
        Error error;
        const auto request = AuthorizationRequest::create(c, provider(), kRedirect, &error);
        QCOMPARE(error.code(), Error::Code::InvalidConfiguration);
        QVERIFY(request.isNull());
    }

    void rejectsBadInputs_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<QString>("clientId");
        QTest::addColumn<int>("code");
        QTest::newRow("http endpoint") << "http://op.example/authorize" << "app" << int(Error::Code::InsecureEndpoint);
        QTest::newRow("no endpoint") << "" << "app" << int(Error::Code::InvalidConfiguration);
        QTest::newRow("no client id") << "https://op.example/authorize" << "" << int(Error::Code::InvalidConfiguration);
        QTest::newRow("endpoint query has state") << "https://op.example/authorize?state=x" << "app" << int(Error::Code::InvalidConfiguration);
    }
    void rejectsBadInputs()
    {
        QFETCH(QString, endpoint);
        QFETCH(QString, clientId);
        QFETCH(int, code);
        ProviderConfiguration p = provider();
        p.setAuthorizationEndpoint(QUrl(endpoint));
        ClientConfiguration c = client();
        c.setClientId(clientId);
        Error error;
        QVERIFY(AuthorizationRequest::create(c, p, kRedirect, &error).isNull());
        QCOMPARE(int(error.code()), code);
    }

    void debugOutputIsRedacted()
    {
        Error error;
        const auto request = AuthorizationRequest::create(client(), provider(), kRedirect, &error);
        QString out;
        QDebug(&out) << request;
        QVERIFY(!out.contains(QString::fromLatin1(request.state())));
        QVERIFY(!out.contains(QString::fromLatin1(request.nonce())));
        QVERIFY(!out.contains(QString::fromLatin1(request.codeVerifier())));
        QVERIFY(out.contains(QLatin1String("desktop-app")));
    }
};

QTEST_GUILESS_MAIN(tst_AuthorizationRequest)
#include "tst_authorizationrequest.moc"
