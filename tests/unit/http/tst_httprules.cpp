// SPDX-License-Identifier: MIT
// The pure rules of the HTTP client: where a credential may go (API locations), what a
// WWW-Authenticate challenge says (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9470 §3) and which
// redirects are followed (RFC 9110 §15.4).
#include "http/apilocation_p.h"
#include "http/redirectpolicy_p.h"
#include "http/wwwauthenticate_p.h"

#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

class tst_HttpRules : public QObject
{
    Q_OBJECT

    static TransportOptions devOptions()
    {
        TransportOptions o;
        o.setAllowInsecureLoopbackForDevelopment(true);
        return o;
    }

private Q_SLOTS:
    // ---- API locations ------------------------------------------------------------------

    void locationMatchesWholeSegments_data()
    {
        QTest::addColumn<QString>("location");
        QTest::addColumn<QString>("request");
        QTest::addColumn<bool>("matches");
        const QString api = QStringLiteral("https://api.example.com/api");
        QTest::newRow("the prefix itself") << api << "https://api.example.com/api" << true;
        QTest::newRow("below it") << api << "https://api.example.com/api/items?x=1" << true;
        QTest::newRow("with a trailing slash") << api << "https://api.example.com/api/" << true;
        QTest::newRow("a longer segment") << api << "https://api.example.com/apix" << false;
        QTest::newRow("a sibling") << api << "https://api.example.com/admin" << false;
        QTest::newRow("another host") << api << "https://evil.example.com/api/items" << false;
        QTest::newRow("a subdomain") << api << "https://x.api.example.com/api" << false;
        QTest::newRow("another port") << api << "https://api.example.com:8443/api" << false;
        QTest::newRow("the default port spelled out") << api << "https://api.example.com:443/api/x" << true;
        QTest::newRow("plain http") << api << "http://api.example.com/api" << false;
        QTest::newRow("host case") << api << "https://API.Example.COM/api/x" << true;
        QTest::newRow("path case") << api << "https://api.example.com/API" << false;
        QTest::newRow("dot segments leaving it") << api << "https://api.example.com/api/../admin" << false;
        QTest::newRow("dot segments staying") << api << "https://api.example.com/api/x/../y" << true;
        QTest::newRow("encoded dot segments") << api << "https://api.example.com/api/%2e%2e/admin" << false;
        QTest::newRow("location with trailing slash")
            << "https://api.example.com/api/" << "https://api.example.com/api/items" << true;
        QTest::newRow("root location") << "https://api.example.com" << "https://api.example.com/anything" << true;
        QTest::newRow("root location, other origin") << "https://api.example.com/" << "https://api.example.org/" << false;
        QTest::newRow("loopback http (dev)") << "http://127.0.0.1:8080/v1" << "http://127.0.0.1:8080/v1/me" << true;
        QTest::newRow("loopback http, another port") << "http://127.0.0.1:8080/v1" << "http://127.0.0.1:8081/v1/me" << false;
    }
    void locationMatchesWholeSegments()
    {
        QFETCH(QString, location);
        QFETCH(QString, request);
        QFETCH(bool, matches);
        Error error;
        const ApiLocation l = ApiLocation::fromUrl(QUrl(location), devOptions(), &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QCOMPARE(l.contains(ApiLocation::normalizedRequestUrl(QUrl(request))), matches);
    }

    void locationsThatAreRefused_data()
    {
        QTest::addColumn<QString>("location");
        QTest::addColumn<bool>("devOptIn");
        QTest::newRow("plain http") << "http://api.example.com/api" << true;
        QTest::newRow("loopback http without the opt-in") << "http://127.0.0.1:8080/api" << false;
        QTest::newRow("relative") << "/api" << true;
        QTest::newRow("no host") << "https:///api" << true;
        QTest::newRow("user info") << "https://user@api.example.com/api" << true;
        QTest::newRow("query") << "https://api.example.com/api?x=1" << true;
        QTest::newRow("fragment") << "https://api.example.com/api#x" << true;
        QTest::newRow("another scheme") << "ftp://api.example.com/api" << true;
        QTest::newRow("dot segments") << "https://api.example.com/api/../x" << true;
        // The resource indicator names the API to the provider; a URN is no location.
        QTest::newRow("a resource URN") << "urn:example:api" << true;
    }
    void locationsThatAreRefused()
    {
        QFETCH(QString, location);
        QFETCH(bool, devOptIn);
        Error error;
        const ApiLocation l = ApiLocation::fromUrl(QUrl(location), devOptIn ? devOptions() : TransportOptions(), &error);
        QVERIFY(!l.isValid());
        QCOMPARE(error.code(), Error::Code::CredentialNotAllowed);
        QVERIFY(!error.message().contains(QStringLiteral("?x=1")));
    }

    void moreSpecificLocationsHaveLongerPrefixes()
    {
        Error error;
        const ApiLocation root = ApiLocation::fromUrl(QUrl(QStringLiteral("https://a.example/")), {}, &error);
        const ApiLocation v1 = ApiLocation::fromUrl(QUrl(QStringLiteral("https://a.example/v1")), {}, &error);
        QVERIFY(v1.specificity() > root.specificity());
    }

    void sameOriginComparesSchemeHostAndPort()
    {
        const auto u = [](const char *s) { return QUrl(QString::fromLatin1(s)); };
        QVERIFY(ApiLocation::sameOrigin(u("https://a.example/x"), u("https://a.example:443/y")));
        QVERIFY(ApiLocation::sameOrigin(u("https://A.example/x"), u("https://a.example/y")));
        QVERIFY(!ApiLocation::sameOrigin(u("https://a.example/x"), u("http://a.example/x")));
        QVERIFY(!ApiLocation::sameOrigin(u("https://a.example/x"), u("https://a.example:8443/x")));
        QVERIFY(!ApiLocation::sameOrigin(u("https://a.example/x"), u("https://b.example/x")));
    }

    // ---- WWW-Authenticate ---------------------------------------------------------------

    void parsesTheChallengeList()
    {
        // RFC 9110 §11.6.1's example: two challenges in one field, one with an escaped quote.
        const QList<AuthChallenge> c = parseWwwAuthenticate(
            "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"");
        QCOMPARE(c.size(), 2);
        QCOMPARE(c.at(0).scheme, QByteArray("newauth"));
        QCOMPARE(c.at(0).param("realm"), QByteArray("apps"));
        QCOMPARE(c.at(0).param("type"), QByteArray("1"));
        QCOMPARE(c.at(0).param("title"), QByteArray("Login to \"apps\""));
        QCOMPARE(c.at(1).scheme, QByteArray("basic"));
        QCOMPARE(c.at(1).param("realm"), QByteArray("simple"));
    }

    void parsesToken68AndBareSchemes()
    {
        const QList<AuthChallenge> c = parseWwwAuthenticate("Negotiate abc+/=, Bearer, Basic realm=x");
        QCOMPARE(c.size(), 3);
        QCOMPARE(c.at(0).token68, QByteArray("abc+/="));
        QCOMPARE(c.at(1).scheme, QByteArray("bearer"));
        QVERIFY(c.at(1).params.isEmpty());
        QCOMPARE(c.at(2).param("realm"), QByteArray("x"));
    }

    void malformedChallengesStopTheParse_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<int>("challenges");
        QTest::newRow("empty") << QByteArray() << 0;
        QTest::newRow("unterminated quote") << QByteArray("Bearer error=\"invalid_token") << 1;
        QTest::newRow("missing value") << QByteArray("Bearer error=") << 1;
        QTest::newRow("no comma between params") << QByteArray("Bearer a=\"1\" b=\"2\"") << 1;
        QTest::newRow("garbage") << QByteArray("\"\"\"") << 0;
        QTest::newRow("control characters") << QByteArray("\x01\x02") << 0;
    }
    void malformedChallengesStopTheParse()
    {
        QFETCH(QByteArray, value);
        QFETCH(int, challenges);
        QCOMPARE(parseWwwAuthenticate(value).size(), challenges);
    }

    void readsTheBearerChallenge_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<bool>("present");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QStringList>("scopes");
        QTest::addColumn<QStringList>("acrValues");
        QTest::addColumn<int>("maxAge"); // -1: none
        QTest::newRow("RFC 6750 §3 invalid_token")
            << QByteArray("Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"")
            << true << "invalid_token" << QStringList() << QStringList() << -1;
        QTest::newRow("RFC 6750 §3.1 insufficient_scope")
            << QByteArray("Bearer error=\"insufficient_scope\", scope=\"api:write files:read\"") << true
            << "insufficient_scope" << QStringList{QStringLiteral("api:write"), QStringLiteral("files:read")}
            << QStringList() << -1;
        QTest::newRow("RFC 9470 §3 step-up")
            << QByteArray("Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"myACR phr\", max_age=\"5\"")
            << true << "insufficient_user_authentication" << QStringList()
            << QStringList{QStringLiteral("myACR"), QStringLiteral("phr")} << 5;
        QTest::newRow("bare") << QByteArray("Bearer realm=\"x\"") << true << QString() << QStringList()
                              << QStringList() << -1;
        QTest::newRow("after another scheme")
            << QByteArray("Basic realm=\"x\", Bearer error=invalid_token") << true << "invalid_token"
            << QStringList() << QStringList() << -1;
        QTest::newRow("no Bearer") << QByteArray("Basic realm=\"x\"") << false << QString() << QStringList()
                                   << QStringList() << -1;
        QTest::newRow("duplicate error is ignored")
            << QByteArray("Bearer error=\"invalid_token\", error=\"insufficient_scope\"") << true << QString()
            << QStringList() << QStringList() << -1;
        QTest::newRow("error with a quote is ignored") << QByteArray("Bearer error=\"a\\\"b\"") << true << QString()
                                                       << QStringList() << QStringList() << -1;
        QTest::newRow("max_age not a number") << QByteArray("Bearer error=\"insufficient_user_authentication\", max_age=\"-1\"")
                                              << true << "insufficient_user_authentication" << QStringList()
                                              << QStringList() << -1;
        QTest::newRow("scope with a control character dropped")
            << QByteArray("Bearer error=\"insufficient_scope\", scope=\"a\x01 b\"") << true << "insufficient_scope"
            << QStringList{QStringLiteral("b")} << QStringList() << -1;
    }
    void readsTheBearerChallenge()
    {
        QFETCH(QByteArray, value);
        QFETCH(bool, present);
        QFETCH(QString, error);
        QFETCH(QStringList, scopes);
        QFETCH(QStringList, acrValues);
        QFETCH(int, maxAge);
        const BearerChallenge b = bearerChallenge(value);
        QCOMPARE(b.present, present);
        QCOMPARE(b.error, error);
        QCOMPARE(b.scopes, scopes);
        QCOMPARE(b.acrValues, acrValues);
        QCOMPARE(b.maxAge.has_value(), maxAge >= 0);
        if (b.maxAge)
            QCOMPARE(int(b.maxAge->count()), maxAge);
    }

    void challengeParsingIsBounded()
    {
        QByteArray many;
        for (int i = 0; i < 1000; ++i)
            many += "Basic realm=x, ";
        QCOMPARE(parseWwwAuthenticate(many).size(), 16);
        QByteArray params = "Bearer ";
        for (int i = 0; i < 1000; ++i)
            params += "p" + QByteArray::number(i) + "=v, ";
        const QList<AuthChallenge> c = parseWwwAuthenticate(params);
        QCOMPARE(c.size(), 1);
        QCOMPARE(c.first().params.size(), 32);
    }

    // ---- Redirects ----------------------------------------------------------------------

    void followsOnlyRedirectsItMay_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("location");
        QTest::addColumn<QString>("from");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("redirectsSoFar");
        QTest::addColumn<bool>("follow");
        QTest::addColumn<bool>("refused");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("newMethod");
        QTest::addColumn<bool>("keepBody");
        QTest::addColumn<bool>("crossOrigin");
        const QString from = QStringLiteral("https://api.example.com/v1/items");
        QTest::newRow("302 relative") << 302 << QByteArray("/v1/other") << from << QByteArray("GET") << 0 << true
                                      << false << "https://api.example.com/v1/other" << QByteArray("GET") << true << false;
        QTest::newRow("307 keeps POST and body") << 307 << QByteArray("/v2/items") << from << QByteArray("POST") << 0
                                                 << true << false << "https://api.example.com/v2/items"
                                                 << QByteArray("POST") << true << false;
        QTest::newRow("308 keeps PUT") << 308 << QByteArray("items2") << from << QByteArray("PUT") << 0 << true << false
                                       << "https://api.example.com/v1/items2" << QByteArray("PUT") << true << false;
        QTest::newRow("303 makes a GET") << 303 << QByteArray("/done") << from << QByteArray("POST") << 0 << true
                                         << false << "https://api.example.com/done" << QByteArray("GET") << false << false;
        QTest::newRow("303 keeps HEAD") << 303 << QByteArray("/done") << from << QByteArray("HEAD") << 0 << true
                                        << false << "https://api.example.com/done" << QByteArray("HEAD") << true << false;
        QTest::newRow("301 POST becomes GET") << 301 << QByteArray("/x") << from << QByteArray("POST") << 0 << true
                                              << false << "https://api.example.com/x" << QByteArray("GET") << false << false;
        QTest::newRow("302 keeps DELETE") << 302 << QByteArray("/x") << from << QByteArray("DELETE") << 0 << true
                                          << false << "https://api.example.com/x" << QByteArray("DELETE") << true << false;
        QTest::newRow("another origin") << 302 << QByteArray("https://cdn.example.net/blob") << from
                                        << QByteArray("GET") << 0 << true << false << "https://cdn.example.net/blob"
                                        << QByteArray("GET") << true << true;
        QTest::newRow("another port is another origin") << 302 << QByteArray("https://api.example.com:8443/v1") << from
                                                        << QByteArray("GET") << 0 << true << false
                                                        << "https://api.example.com:8443/v1" << QByteArray("GET") << true << true;
        QTest::newRow("fragment dropped") << 302 << QByteArray("/x#frag") << from << QByteArray("GET") << 0 << true
                                          << false << "https://api.example.com/x" << QByteArray("GET") << true << false;
        QTest::newRow("https to http") << 302 << QByteArray("http://api.example.com/v1/items") << from
                                       << QByteArray("GET") << 0 << false << true << QString() << QByteArray() << true << false;
        QTest::newRow("https to loopback http") << 302 << QByteArray("http://127.0.0.1:8080/x") << from
                                                << QByteArray("GET") << 0 << false << true << QString() << QByteArray()
                                                << true << false;
        QTest::newRow("to another scheme") << 302 << QByteArray("ftp://api.example.com/x") << from << QByteArray("GET")
                                           << 0 << false << true << QString() << QByteArray() << true << false;
        QTest::newRow("the sixth") << 302 << QByteArray("/x") << from << QByteArray("GET") << 5 << false << true
                                   << QString() << QByteArray() << true << false;
        QTest::newRow("the fifth") << 302 << QByteArray("/x") << from << QByteArray("GET") << 4 << true << false
                                   << "https://api.example.com/x" << QByteArray("GET") << true << false;
        QTest::newRow("no Location") << 302 << QByteArray() << from << QByteArray("GET") << 0 << false << false
                                     << QString() << QByteArray() << true << false;
        QTest::newRow("304 is final") << 304 << QByteArray("/x") << from << QByteArray("GET") << 0 << false << false
                                      << QString() << QByteArray() << true << false;
        QTest::newRow("300 is final") << 300 << QByteArray("/x") << from << QByteArray("GET") << 0 << false << false
                                      << QString() << QByteArray() << true << false;
        QTest::newRow("invalid Location") << 302 << QByteArray("http://[::1") << from << QByteArray("GET") << 0 << false
                                          << true << QString() << QByteArray() << true << false;
        QTest::newRow("user info") << 302 << QByteArray("https://u:p@api.example.com/") << from << QByteArray("GET")
                                   << 0 << false << true << QString() << QByteArray() << true << false;
    }
    void followsOnlyRedirectsItMay()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, location);
        QFETCH(QString, from);
        QFETCH(QByteArray, method);
        QFETCH(int, redirectsSoFar);
        QFETCH(bool, follow);
        QFETCH(bool, refused);
        QFETCH(QString, target);
        QFETCH(QByteArray, newMethod);
        QFETCH(bool, keepBody);
        QFETCH(bool, crossOrigin);
        const RedirectStep step = nextRedirect(status, location, QUrl(from), method, redirectsSoFar, devOptions());
        QCOMPARE(step.follow, follow);
        QCOMPARE(bool(step.error), refused);
        if (refused) {
            QCOMPARE(step.error.code(), Error::Code::UnexpectedRedirect);
            QCOMPARE(step.error.httpStatus(), status);
            QVERIFY(!step.error.message().contains(QString::fromLatin1(location)) || location.isEmpty());
        }
        if (follow) {
            QCOMPARE(step.target, QUrl(target));
            QCOMPARE(step.method, newMethod);
            QCOMPARE(step.keepBody, keepBody);
            QCOMPARE(step.crossOrigin, crossOrigin);
        }
    }
};

QTEST_GUILESS_MAIN(tst_HttpRules)
#include "tst_httprules.moc"
