// SPDX-License-Identifier: MIT
#include <keyloop/tokenclient.h>

#include "testhttpserver.h"

#include <QtCore/QLocale>
#include <QtTest/QtTest>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>

using namespace Keyloop;
using namespace KeyloopTest;

namespace {

TransportOptions loopbackOptions()
{
    TransportOptions options;
    options.setAllowInsecureLoopbackForDevelopment(true);
    return options;
}

ProviderConfiguration provider(const TestHttpServer &server)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(server.url(QString())));
    p.setAuthorizationEndpoint(QUrl(server.url(QStringLiteral("/auth"))));
    p.setTokenEndpoint(QUrl(server.url(QStringLiteral("/token"))));
    return p;
}

ClientConfiguration client()
{
    ClientConfiguration c;
    c.setClientId(QStringLiteral("my app"));
    return c;
}

// Decodes a form body into name → values.
QMultiMap<QByteArray, QByteArray> form(const QByteArray &body)
{
    QMultiMap<QByteArray, QByteArray> out;
    for (QByteArray pair : body.split('&')) {
        pair.replace('+', ' ');
        const qsizetype eq = pair.indexOf('=');
        out.insert(QByteArray::fromPercentEncoding(pair.left(eq)), QByteArray::fromPercentEncoding(pair.mid(eq + 1)));
    }
    return out;
}

struct Outcome
{
    bool done = false;
    int count = 0;
    Error error;
    TokenResponse response;
};

std::shared_ptr<Outcome> observe(TokenJob *job)
{
    auto outcome = std::make_shared<Outcome>();
    QObject::connect(job, &Job::finished, job, [job, outcome] {
        ++outcome->count;
        outcome->done = true;
        outcome->error = job->error();
        outcome->response = job->response();
    });
    job->start();
    return outcome;
}

HttpResponse json(int status, const QByteArray &body)
{
    return HttpResponse{status, body, {{"Content-Type", "application/json"}}, false, false};
}

const QByteArray kTokens = R"({"access_token":"AT","token_type":"Bearer","expires_in":60,"refresh_token":"RT2","id_token":"a.b.c"})";

} // namespace

class tst_TokenClient : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void exchangesCodeAsPublicClient()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kTokens); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.exchangeCode(provider(server), client(), "the+code", "VERIFIER",
                                                   QUrl(QStringLiteral("http://127.0.0.1:9/callback")),
                                                   QStringLiteral("https://api.example/")));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QVERIFY(outcome->response.accessToken() == "AT");
        QVERIFY(outcome->response.refreshToken() == "RT2");
        QVERIFY(outcome->response.expiresAt().isValid());

        QCOMPARE(server.requests().size(), 1);
        const HttpRequest request = server.requests().first();
        QCOMPARE(request.method, QByteArray("POST"));
        QCOMPARE(request.target, QByteArray("/token"));
        QVERIFY(!request.hasHeader("Authorization"));
        const auto f = form(request.body);
        QCOMPARE(f.value("grant_type"), QByteArray("authorization_code"));
        QVERIFY(f.value("code") == "the+code");
        QVERIFY(f.value("code_verifier") == "VERIFIER");
        QCOMPARE(f.value("redirect_uri"), QByteArray("http://127.0.0.1:9/callback"));
        QCOMPARE(f.value("client_id"), QByteArray("my app"));
        QCOMPARE(f.value("resource"), QByteArray("https://api.example/"));
        QVERIFY(!f.contains("client_secret"));
        QVERIFY(!f.contains("scope"));
    }

    void codeExchangeWithOpenIdRequiresIdToken()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) {
            return json(200, R"({"access_token":"AT","token_type":"Bearer"})");
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.exchangeCode(provider(server), client(), "c", "v",
                                                   QUrl(QStringLiteral("http://127.0.0.1:9/callback"))));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::MissingParameter);

        ClientConfiguration plain = client();
        plain.setScopes({QStringLiteral("repo")});
        auto plainOutcome = observe(tokens.exchangeCode(provider(server), plain, "c", "v",
                                                        QUrl(QStringLiteral("http://127.0.0.1:9/callback"))));
        QTRY_VERIFY(plainOutcome->done);
        QVERIFY(!plainOutcome->error);
        QCOMPARE(plainOutcome->response.scopes(), QStringList{QStringLiteral("repo")});
    }

    void exchangeFromAuthorizationRequest()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kTokens); });
        const ProviderConfiguration p = provider(server);
        ClientConfiguration c = client();
        c.setTransport(loopbackOptions());
        Error error;
        const AuthorizationRequest request = AuthorizationRequest::create(
            c, p, QUrl(QStringLiteral("http://127.0.0.1:9/callback")), &error);
        QVERIFY(!error);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.exchangeCode(p, c, request, "code"));
        QTRY_VERIFY(outcome->done);
        QVERIFY(!outcome->error);
        const auto f = form(server.requests().first().body);
        QVERIFY(f.value("code_verifier") == request.codeVerifier());
        QCOMPARE(f.value("redirect_uri"), QByteArray("http://127.0.0.1:9/callback"));
        QCOMPARE(outcome->response.scopes(), request.scopes());
    }

    void authenticatesWithClientSecretBasic()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kTokens); });
        ClientConfiguration c = client();
        c.setClientSecret(QStringLiteral("s3cr:t+/"));
        c.setClientAuthMethod(ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.refresh(provider(server), c, "RT"));
        QTRY_VERIFY(outcome->done);
        QVERIFY(!outcome->error);
        const HttpRequest request = server.requests().first();
        // RFC 6749 §2.3.1: form-urlencode id and secret, then Basic.
        const QByteArray expected = "Basic " + QByteArray("my+app:s3cr%3At%2B%2F").toBase64();
        QVERIFY(request.header("Authorization") == expected);
        const auto f = form(request.body);
        QVERIFY(!f.contains("client_secret"));
        QVERIFY(!f.contains("client_id"));
    }

    void authenticatesWithClientSecretPost()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kTokens); });
        ClientConfiguration c = client();
        c.setClientSecret(QStringLiteral("secret"));
        c.setClientAuthMethod(ClientConfiguration::ClientAuthMethod::ClientSecretPost);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.refresh(provider(server), c, "RT"));
        QTRY_VERIFY(outcome->done);
        const HttpRequest request = server.requests().first();
        QVERIFY(!request.hasHeader("Authorization"));
        const auto f = form(request.body);
        QCOMPARE(f.value("client_id"), QByteArray("my app"));
        QVERIFY(f.value("client_secret") == "secret");
    }

    void refreshSendsScopeAndResource()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) {
            return json(200, R"({"access_token":"AT2","token_type":"bearer"})");
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.refresh(provider(server), client(), "RT",
                                              {QStringLiteral("openid"), QStringLiteral("api.read")},
                                              QStringLiteral("https://api.example/")));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString())); // no id_token needed (OIDC Core §12.2)
        QVERIFY(!outcome->response.hasRefreshToken());
        QCOMPARE(outcome->response.scopes(), (QStringList{QStringLiteral("openid"), QStringLiteral("api.read")}));
        const auto f = form(server.requests().first().body);
        QCOMPARE(f.value("grant_type"), QByteArray("refresh_token"));
        QVERIFY(f.value("refresh_token") == "RT");
        QCOMPARE(f.value("scope"), QByteArray("openid api.read"));
        QCOMPARE(f.value("resource"), QByteArray("https://api.example/"));
        QCOMPARE(f.value("client_id"), QByteArray("my app"));
    }

    void refreshErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("code");
        QTest::addColumn<bool>("requiresSignIn");
        QTest::addColumn<bool>("transient");
        QTest::newRow("invalid_grant") << 400 << QByteArray(R"({"error":"invalid_grant"})") << int(Error::Code::OAuthError) << true << false;
        QTest::newRow("bare 401") << 401 << QByteArray() << int(Error::Code::HttpError) << false << false;
        QTest::newRow("503") << 503 << QByteArray("busy") << int(Error::Code::HttpError) << false << true;
        QTest::newRow("redirect") << 307 << QByteArray() << int(Error::Code::UnexpectedRedirect) << false << false;
        // RFC 6749 §5.2: the client was refused, not the grant.
        QTest::newRow("invalid_client") << 401 << QByteArray(R"({"error":"invalid_client"})")
                                        << int(Error::Code::ClientAuthenticationFailed) << false << false;
        QTest::newRow("unauthorized_client") << 400 << QByteArray(R"({"error":"unauthorized_client"})")
                                             << int(Error::Code::ClientAuthenticationFailed) << false << false;
    }

    // RFC 9110 §10.2.3: Retry-After on a 429/503 is kept in the error, as seconds or an HTTP date,
    // capped at 300 s; a malformed value is ignored.
    void retryAfterIsKept_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<int>("seconds");
        // "date+N": an HTTP-date N seconds after the moment the server answers.
        QTest::newRow("503, delta-seconds") << 503 << QByteArray("120") << 120;
        QTest::newRow("429, delta-seconds") << 429 << QByteArray("5") << 5;
        QTest::newRow("503, HTTP-date") << 503 << QByteArray("date+90") << 90;
        QTest::newRow("503, a date in the past") << 503 << QByteArray("date-90") << 0;
        QTest::newRow("503, capped at 300 s") << 503 << QByteArray("86400") << 300;
        QTest::newRow("503, malformed") << 503 << QByteArray("soon") << 0;
        QTest::newRow("400 ignores it") << 400 << QByteArray("60") << 0;
    }
    void retryAfterIsKept()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, retryAfter);
        QFETCH(int, seconds);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([status, retryAfter](const HttpRequest &) {
            QByteArray value = retryAfter;
            if (value.startsWith("date")) // formatted now, so the test measures no time of its own
                value = QLocale::c()
                            .toString(QDateTime::currentDateTimeUtc().addSecs(value.mid(4).toInt()),
                                      QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                            .toLatin1();
            return HttpResponse{status, QByteArray(R"({"error":"temporarily_unavailable"})"),
                                {{"Content-Type", "application/json"}, {"Retry-After", value}}, false, false};
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.refresh(provider(server), client(), "RT"));
        QTRY_VERIFY(outcome->done);
        QVERIFY(outcome->error);
        // An HTTP date has whole seconds and is measured at receipt: allow one second.
        QVERIFY2(std::abs(int(outcome->error.retryAfter().count()) - seconds) <= 1,
                 qPrintable(QString::number(outcome->error.retryAfter().count())));
    }
    void refreshErrors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(int, code);
        QFETCH(bool, requiresSignIn);
        QFETCH(bool, transient);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([status, body](const HttpRequest &) {
            return HttpResponse{status, body, {{"Content-Type", "application/json"}, {"Location", "http://127.0.0.1:1/x"}}, false, false};
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observe(tokens.refresh(provider(server), client(), "RT"));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(int(outcome->error.code()), code);
        QCOMPARE(outcome->error.httpStatus(), status);
        QCOMPARE(outcome->error.requiresSignIn(), requiresSignIn);
        QCOMPARE(outcome->error.isTransient(), transient);
        QCOMPARE(server.requests().size(), 1);
    }

    void insecureTokenEndpointFailsAsynchronously()
    {
        ProviderConfiguration p;
        p.setIssuer(QUrl(QStringLiteral("https://op.example")));
        p.setTokenEndpoint(QUrl(QStringLiteral("http://op.example/token")));
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        TokenJob *job = tokens.refresh(p, client(), "RT");
        QPointer<TokenJob> guard(job);
        auto outcome = observe(job);
        QVERIFY(!outcome->done);
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::InsecureEndpoint);
        QTRY_VERIFY(guard.isNull());
        QCOMPARE(outcome->count, 1);
    }

    void missingSecretFailsAsynchronously()
    {
        ClientConfiguration c = client();
        c.setClientAuthMethod(ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        TestHttpServer server;
        QVERIFY(server.listen());
        auto outcome = observe(tokens.refresh(provider(server), c, "RT"));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::InvalidConfiguration);
        QCOMPARE(server.requests().size(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_TokenClient)
#include "tst_tokenclient.moc"
