// SPDX-License-Identifier: MIT
#include <keyloop/providerconfiguration.h>

#include "network/httpexchange_p.h"

#include <QtTest/QtTest>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

// Note: moc does not understand raw string literals; "//" inside one reads as a comment to it.

using namespace Keyloop;

namespace {

QJsonObject document(const QString &issuer = QStringLiteral("https://op.example"))
{
    return QJsonObject{
        {QStringLiteral("issuer"), issuer},
        {QStringLiteral("authorization_endpoint"), issuer + QStringLiteral("/auth")},
        {QStringLiteral("token_endpoint"), issuer + QStringLiteral("/token")},
        {QStringLiteral("userinfo_endpoint"), issuer + QStringLiteral("/me")},
        {QStringLiteral("jwks_uri"), issuer + QStringLiteral("/jwks")},
        {QStringLiteral("revocation_endpoint"), issuer + QStringLiteral("/token/revocation")},
        {QStringLiteral("end_session_endpoint"), issuer + QStringLiteral("/session/end")},
        {QStringLiteral("introspection_endpoint"), issuer + QStringLiteral("/token/introspection")},
        {QStringLiteral("pushed_authorization_request_endpoint"), issuer + QStringLiteral("/request")},
        {QStringLiteral("require_pushed_authorization_requests"), true},
        {QStringLiteral("scopes_supported"), QJsonArray{QStringLiteral("openid"), QStringLiteral("offline_access")}},
        {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}},
        {QStringLiteral("grant_types_supported"), QJsonArray{QStringLiteral("authorization_code"), QStringLiteral("refresh_token")}},
        {QStringLiteral("code_challenge_methods_supported"), QJsonArray{QStringLiteral("S256")}},
        {QStringLiteral("id_token_signing_alg_values_supported"), QJsonArray{QStringLiteral("RS256"), QStringLiteral("ES256")}},
        {QStringLiteral("token_endpoint_auth_methods_supported"), QJsonArray{QStringLiteral("none")}},
        {QStringLiteral("authorization_response_iss_parameter_supported"), true},
        {QStringLiteral("claims_supported"), QJsonArray{QStringLiteral("sub")}},
    };
}

QByteArray json(const QJsonObject &object) { return QJsonDocument(object).toJson(QJsonDocument::Compact); }

} // namespace

class tst_ProviderConfiguration : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesEveryMember()
    {
        Error error;
        const auto config = ProviderConfiguration::fromJson(json(document()), QUrl(QStringLiteral("https://op.example")), {}, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QCOMPARE(config.issuer(), QUrl(QStringLiteral("https://op.example")));
        QCOMPARE(config.authorizationEndpoint(), QUrl(QStringLiteral("https://op.example/auth")));
        QCOMPARE(config.tokenEndpoint(), QUrl(QStringLiteral("https://op.example/token")));
        QCOMPARE(config.userInfoEndpoint(), QUrl(QStringLiteral("https://op.example/me")));
        QCOMPARE(config.jwksUri(), QUrl(QStringLiteral("https://op.example/jwks")));
        QCOMPARE(config.revocationEndpoint(), QUrl(QStringLiteral("https://op.example/token/revocation")));
        QCOMPARE(config.endSessionEndpoint(), QUrl(QStringLiteral("https://op.example/session/end")));
        QCOMPARE(config.introspectionEndpoint(), QUrl(QStringLiteral("https://op.example/token/introspection")));
        QCOMPARE(config.scopesSupported(), (QStringList{QStringLiteral("openid"), QStringLiteral("offline_access")}));
        QCOMPARE(config.responseTypesSupported(), QStringList{QStringLiteral("code")});
        QCOMPARE(config.grantTypesSupported().size(), 2);
        QCOMPARE(config.codeChallengeMethodsSupported(), QStringList{QStringLiteral("S256")});
        QCOMPARE(config.idTokenSigningAlgValuesSupported().size(), 2);
        QCOMPARE(config.tokenEndpointAuthMethodsSupported(), QStringList{QStringLiteral("none")});
        QVERIFY(config.isAuthorizationResponseIssParameterSupported());
        QCOMPARE(config.pushedAuthorizationRequestEndpoint(), QUrl(QStringLiteral("https://op.example/request")));
        QVERIFY(config.requiresPushedAuthorizationRequests());
        QVERIFY(config.supportsOfflineAccess());
        QVERIFY(config.isOpenIdProvider());
        QVERIFY(!config.validate({}));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("expectedIssuer");
        QTest::addColumn<bool>("allowInsecureLoopback");
        QTest::addColumn<int>("expectedCode");

        const QString issuer = QStringLiteral("https://op.example");
        auto with = [](QJsonObject o, const char *key, const QJsonValue &value) {
            if (value.isUndefined())
                o.remove(QLatin1String(key));
            else
                o.insert(QLatin1String(key), value);
            return json(o);
        };
        const QJsonObject doc = document();
        QTest::newRow("issuer mismatch") << json(doc) << QStringLiteral("https://other.example") << false << int(Error::Code::IssuerMismatch);
        QTest::newRow("issuer trailing slash differs") << json(doc) << QStringLiteral("https://op.example/") << false << int(Error::Code::IssuerMismatch);
        QTest::newRow("issuer suffix") << with(doc, "issuer", QStringLiteral("https://op.example/x")) << issuer << false << int(Error::Code::IssuerMismatch);
        QTest::newRow("issuer missing") << with(doc, "issuer", QJsonValue::Undefined) << issuer << false << int(Error::Code::MissingParameter);
        QTest::newRow("issuer number") << with(doc, "issuer", 5) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("missing authorization_endpoint") << with(doc, "authorization_endpoint", QJsonValue::Undefined) << issuer << false << int(Error::Code::MissingParameter);
        QTest::newRow("missing token_endpoint") << with(doc, "token_endpoint", QJsonValue::Undefined) << issuer << false << int(Error::Code::MissingParameter);
        QTest::newRow("http token endpoint") << with(doc, "token_endpoint", QStringLiteral("http://op.example/token")) << issuer << false << int(Error::Code::InsecureEndpoint);
        QTest::newRow("http loopback without opt-in") << with(doc, "token_endpoint", QStringLiteral("http://127.0.0.1:8080/token")) << issuer << false << int(Error::Code::InsecureEndpoint);
        QTest::newRow("http non-loopback with opt-in") << with(doc, "jwks_uri", QStringLiteral("http://op.example/jwks")) << issuer << true << int(Error::Code::InsecureEndpoint);
        QTest::newRow("endpoint with fragment") << with(doc, "token_endpoint", QStringLiteral("https://op.example/token#x")) << issuer << false << int(Error::Code::InvalidConfiguration);
        QTest::newRow("endpoint with userinfo") << with(doc, "userinfo_endpoint", QStringLiteral("https://u:p@op.example/me")) << issuer << false << int(Error::Code::InvalidConfiguration);
        QTest::newRow("relative endpoint") << with(doc, "token_endpoint", QStringLiteral("/token")) << issuer << false << int(Error::Code::InvalidConfiguration);
        QTest::newRow("endpoint number") << with(doc, "jwks_uri", 1) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("scopes not array") << with(doc, "scopes_supported", QStringLiteral("openid")) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("scopes array of numbers") << with(doc, "scopes_supported", QJsonArray{1}) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("iss flag string") << with(doc, "authorization_response_iss_parameter_supported", QStringLiteral("true")) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("http PAR endpoint (RFC 9126 §5)") << with(doc, "pushed_authorization_request_endpoint", QStringLiteral("http://op.example/request")) << issuer << false << int(Error::Code::InsecureEndpoint);
        QTest::newRow("PAR endpoint number") << with(doc, "pushed_authorization_request_endpoint", 1) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("require PAR flag string") << with(doc, "require_pushed_authorization_requests", QStringLiteral("true")) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("require PAR flag number") << with(doc, "require_pushed_authorization_requests", 1) << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("not json") << QByteArray("<html/>") << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("array") << QByteArray("[]") << issuer << false << int(Error::Code::MalformedResponse);
        QTest::newRow("duplicate issuer") << QByteArray("{\"issuer\":\"https:/" "/evil.example\",\"issuer\":\"https:/" "/op.example\",\"authorization_endpoint\":\"https:/" "/op.example/a\",\"token_endpoint\":\"https:/" "/op.example/t\"}")
                                          << issuer << false << int(Error::Code::DuplicateParameter);
    }

    void rejects()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, expectedIssuer);
        QFETCH(bool, allowInsecureLoopback);
        QFETCH(int, expectedCode);
        TransportOptions options;
        options.setAllowInsecureLoopbackForDevelopment(allowInsecureLoopback);
        Error error;
        const auto config = ProviderConfiguration::fromJson(body, QUrl(expectedIssuer), options, &error);
        QCOMPARE(int(error.code()), expectedCode);
        QVERIFY(config.isNull());
    }

    void allowsLoopbackHttpOnlyWithOptIn_data()
    {
        QTest::addColumn<QString>("issuer");
        QTest::newRow("127.0.0.1") << QStringLiteral("http://127.0.0.1:8080");
        QTest::newRow("127.5.6.7") << QStringLiteral("http://127.5.6.7:8080");
        QTest::newRow("localhost") << QStringLiteral("http://localhost:8080");
        QTest::newRow("::1") << QStringLiteral("http://[::1]:8080");
    }
    void allowsLoopbackHttpOnlyWithOptIn()
    {
        QFETCH(QString, issuer);
        const QByteArray body = json(document(issuer));
        Error error;
        ProviderConfiguration::fromJson(body, QUrl(issuer), {}, &error);
        QCOMPARE(error.code(), Error::Code::InsecureEndpoint);

        TransportOptions options;
        options.setAllowInsecureLoopbackForDevelopment(true);
        const auto config = ProviderConfiguration::fromJson(body, QUrl(issuer), options, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QCOMPARE(config.tokenEndpoint(), QUrl(issuer + QStringLiteral("/token")));
    }

    void loopbackHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("loopback");
        QTest::newRow("127.0.0.1") << "127.0.0.1" << true;
        QTest::newRow("127.255.255.254") << "127.255.255.254" << true;
        QTest::newRow("::1") << "::1" << true;
        QTest::newRow("localhost") << "localhost" << true;
        QTest::newRow("LOCALHOST") << "LOCALHOST" << true;
        QTest::newRow("128.0.0.1") << "128.0.0.1" << false;
        QTest::newRow("0.0.0.0") << "0.0.0.0" << false;
        QTest::newRow("localhost.evil.com") << "localhost.evil.com" << false;
        QTest::newRow("127.0.0.1.nip.io") << "127.0.0.1.nip.io" << false;
        QTest::newRow("example.com") << "example.com" << false;
    }
    void loopbackHosts()
    {
        QFETCH(QString, host);
        QFETCH(bool, loopback);
        QCOMPARE(isLoopbackHost(host), loopback);
    }

    void manualConfigurationValidates()
    {
        ProviderConfiguration github;
        QVERIFY(github.isNull());
        github.setIssuer(QUrl(QStringLiteral("https://github.com")));
        github.setAuthorizationEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/authorize")));
        QCOMPARE(github.validate({}).code(), Error::Code::InvalidConfiguration); // no token endpoint
        github.setTokenEndpoint(QUrl(QStringLiteral("https://github.com/login/oauth/access_token")));
        QVERIFY(!github.validate({}));
        QVERIFY(!github.isNull());
        QVERIFY(!github.isOpenIdProvider());
        QVERIFY(!github.supportsOfflineAccess());
        github.setUserInfoEndpoint(QUrl(QStringLiteral("http://api.github.com/user")));
        QCOMPARE(github.validate({}).code(), Error::Code::InsecureEndpoint);
    }

    // RFC 9126 §5: both members are optional; require_pushed_authorization_requests defaults to
    // false. A provider that requires PAR without an endpoint still parses (it can refresh and
    // revoke); SignIn refuses to sign in with it.
    void pushedAuthorizationMembersAreOptional()
    {
        QJsonObject doc = document();
        doc.remove(QStringLiteral("pushed_authorization_request_endpoint"));
        doc.remove(QStringLiteral("require_pushed_authorization_requests"));
        Error error;
        auto config = ProviderConfiguration::fromJson(json(doc), QUrl(QStringLiteral("https://op.example")), {}, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(config.pushedAuthorizationRequestEndpoint().isEmpty());
        QVERIFY(!config.requiresPushedAuthorizationRequests());
        QVERIFY(!config.toJson().contains("pushed_authorization"));

        doc.insert(QStringLiteral("require_pushed_authorization_requests"), true);
        config = ProviderConfiguration::fromJson(json(doc), QUrl(QStringLiteral("https://op.example")), {}, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(config.requiresPushedAuthorizationRequests());
        QVERIFY(config.pushedAuthorizationRequestEndpoint().isEmpty());

        ProviderConfiguration manual = config;
        manual.setPushedAuthorizationRequestEndpoint(QUrl(QStringLiteral("http://op.example/request")));
        QCOMPARE(manual.validate({}).code(), Error::Code::InsecureEndpoint); // checked like every endpoint
        manual.setRequiresPushedAuthorizationRequests(false);
        QVERIFY(manual != config);
    }

    void valueSemantics()
    {
        Error error;
        const auto a = ProviderConfiguration::fromJson(json(document()), QUrl(QStringLiteral("https://op.example")), {}, &error);
        ProviderConfiguration b = a;
        QVERIFY(a == b);
        b.setTokenEndpoint(QUrl(QStringLiteral("https://op.example/other")));
        QVERIFY(a != b);
        QCOMPARE(a.tokenEndpoint(), QUrl(QStringLiteral("https://op.example/token")));
    }

    void toJsonRoundTrips()
    {
        Error error;
        const auto a = ProviderConfiguration::fromJson(json(document()), QUrl(QStringLiteral("https://op.example")), {}, &error);
        QVERIFY(!error);
        const auto b = ProviderConfiguration::fromJson(a.toJson(), a.issuer(), {}, &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(a == b);
    }
};

QTEST_GUILESS_MAIN(tst_ProviderConfiguration)
#include "tst_providerconfiguration.moc"
