// SPDX-License-Identifier: MIT
#include <keyloop/tokenclient.h>

#include "testhttpserver.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
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
const QByteArray kDpopTokens = R"({"access_token":"AT","token_type":"DPoP","expires_in":60,"refresh_token":"RT2"})";

std::shared_ptr<Outcome> observeWithKey(TokenJob *job, const DpopKey &key)
{
    job->setDpopKey(key);
    return observe(job);
}

// The claims of a DPoP proof (the signature is tst_dpopkey's business).
QJsonObject proofClaims(const QByteArray &jwt)
{
    const QList<QByteArray> parts = jwt.split('.');
    if (parts.size() != 3)
        return {};
    return QJsonDocument::fromJson(QByteArray::fromBase64(parts.at(1), QByteArray::Base64UrlEncoding)).object();
}

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

    // RFC 9449 §5: a proof on the token request; the answer must be a DPoP token.
    void dpopProofOnTheTokenRequest()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kDpopTokens); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        const DpopKey key = DpopKey::generate();
        auto outcome = observeWithKey(tokens.refresh(provider(server), client(), "RT"), key);
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QCOMPARE(outcome->response.tokenType(), QStringLiteral("DPoP"));
        QCOMPARE(outcome->response.dpopKey(), key);
        QCOMPARE(server.requests().size(), 1);
        const QJsonObject claims = proofClaims(server.requests().first().header("DPoP"));
        QCOMPARE(claims.value(QStringLiteral("htm")).toString(), QStringLiteral("POST"));
        QCOMPARE(claims.value(QStringLiteral("htu")).toString(), server.url(QStringLiteral("/token")));
        QVERIFY(!claims.contains(QStringLiteral("ath"))); // no access token is presented (§4.2)
        QVERIFY(!claims.contains(QStringLiteral("nonce")));
    }

    void bearerAnswerToADpopRequestIsAnError()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return json(200, kTokens); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto outcome = observeWithKey(tokens.refresh(provider(server), client(), "RT"), DpopKey::generate());
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::UnsupportedTokenType);
        QVERIFY(outcome->error.message().contains(QStringLiteral("DPoP")));
        QVERIFY(outcome->response.isNull());
        // And the other way round: a DPoP token for a request without a proof.
        server.setHandler([](const HttpRequest &) { return json(200, kDpopTokens); });
        auto plain = observe(tokens.refresh(provider(server), client(), "RT"));
        QTRY_VERIFY(plain->done);
        QCOMPARE(plain->error.code(), Error::Code::UnsupportedTokenType);
        QVERIFY(!server.requests().last().hasHeader("DPoP"));
    }

    // RFC 9449 §8: use_dpop_nonce with a DPoP-Nonce is retried once, with the nonce, and the
    // same form; the nonce is kept for the next proofs (§8.2).
    void useDpopNonceIsRetriedOnce()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &request) {
            if (proofClaims(request.header("DPoP")).value(QStringLiteral("nonce")).toString() == QLatin1String("n1"))
                return HttpResponse{200, kDpopTokens, {{"Content-Type", "application/json"}, {"DPoP-Nonce", "n2"}}, false, false};
            return HttpResponse{400, R"({"error":"use_dpop_nonce"})", {{"Content-Type", "application/json"}, {"DPoP-Nonce", "n1"}}, false, false};
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        const DpopKey key = DpopKey::generate();
        auto outcome = observeWithKey(tokens.refresh(provider(server), client(), "RT-secret"), key);
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QCOMPARE(outcome->count, 1);
        QCOMPARE(server.requests().size(), 2);
        QCOMPARE(server.requests().at(1).body, server.requests().at(0).body);
        QVERIFY(form(server.requests().at(1).body).value("refresh_token") == "RT-secret");
        QVERIFY(proofClaims(server.requests().at(0).header("DPoP")).value(QStringLiteral("jti"))
                != proofClaims(server.requests().at(1).header("DPoP")).value(QStringLiteral("jti")));
        QCOMPARE(key.nonce(QUrl(server.url(QStringLiteral("/token")))), QByteArrayLiteral("n2"));

        // Only once: a provider that keeps asking gets its error back.
        server.setHandler([](const HttpRequest &) {
            return HttpResponse{400, R"({"error":"use_dpop_nonce"})", {{"Content-Type", "application/json"}, {"DPoP-Nonce", "n3"}}, false, false};
        });
        auto again = observeWithKey(tokens.refresh(provider(server), client(), "RT"), key);
        QTRY_VERIFY(again->done);
        QCOMPARE(again->error.code(), Error::Code::OAuthError);
        QCOMPARE(again->error.oauthError(), QStringLiteral("use_dpop_nonce"));
        QCOMPARE(server.requests().size(), 4);
        QCOMPARE(proofClaims(server.requests().at(2).header("DPoP")).value(QStringLiteral("nonce")).toString(), QStringLiteral("n2"));
        // Without a new nonce there is nothing to retry with.
        server.setHandler([](const HttpRequest &) { return json(400, R"({"error":"use_dpop_nonce"})"); });
        auto noNonce = observeWithKey(tokens.refresh(provider(server), client(), "RT"), DpopKey::generate());
        QTRY_VERIFY(noNonce->done);
        QCOMPARE(noNonce->error.oauthError(), QStringLiteral("use_dpop_nonce"));
        QCOMPARE(server.requests().size(), 5);
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
