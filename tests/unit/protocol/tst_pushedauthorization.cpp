// SPDX-License-Identifier: MIT
// Pushed authorization requests (RFC 9126) against an in-process HTTP server on 127.0.0.1: the
// push (§2.1: every authorization parameter in a form POST, the client authenticated as at the
// token endpoint), the URL that follows it (§4: client_id and request_uri only), and how each
// answer is read (§2.2: 201 with request_uri and expires_in; §2.3: typed errors).
#include <keyloop/authorizationrequest.h>
#include <keyloop/pushedauthorizationjob.h>
#include <keyloop/pushedauthorizationresponse.h>
#include <keyloop/tokenclient.h>

#include "testhttpserver.h"

#include <QtNetwork/QNetworkAccessManager>
#include <QtTest/QtTest>

#include <memory>

Q_DECLARE_METATYPE(KeyloopTest::HttpResponse)

using namespace Keyloop;
using namespace KeyloopTest;
using namespace std::chrono_literals;

namespace {

const QByteArray kRequestUri = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c";

TransportOptions loopbackOptions(std::chrono::milliseconds timeout = 5s)
{
    TransportOptions options;
    options.setAllowInsecureLoopbackForDevelopment(true);
    options.setRequestTimeout(timeout);
    return options;
}

ProviderConfiguration provider(const QString &origin, const QString &parEndpoint)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(origin));
    // The endpoint's own query is kept in both URLs (RFC 6749 §3.1).
    p.setAuthorizationEndpoint(QUrl(origin + QStringLiteral("/auth?tenant=t1")));
    p.setTokenEndpoint(QUrl(origin + QStringLiteral("/token")));
    p.setScopesSupported({QStringLiteral("openid"), QStringLiteral("offline_access")});
    if (!parEndpoint.isEmpty())
        p.setPushedAuthorizationRequestEndpoint(QUrl(parEndpoint));
    return p;
}

// A client asking for everything an authorization request can carry.
ClientConfiguration richClient()
{
    ClientConfiguration c;
    c.setClientId(QStringLiteral("my app"));
    c.setScopes({QStringLiteral("openid"), QStringLiteral("profile")});
    c.setResources({QStringLiteral("https://api.example/"), QStringLiteral("https://files.example/")});
    c.setPrompt(QStringLiteral("login consent"));
    c.setLoginHint(QStringLiteral("alice@example.com"));
    c.setMaxAge(std::chrono::seconds(600));
    c.setAcrValues({QStringLiteral("urn:mace:incommon:iap:silver")});
    c.setAdditionalParameters({{QStringLiteral("ui_locales"), QStringLiteral("de en")}});
    c.setTransport(loopbackOptions()); // the in-process provider is on http://127.0.0.1
    return c;
}

AuthorizationRequest build(const ClientConfiguration &client, const ProviderConfiguration &p)
{
    Error e;
    const AuthorizationRequest request =
        AuthorizationRequest::create(client, p, QUrl(QStringLiteral("http://127.0.0.1:49152/callback")), &e);
    if (e)
        qWarning() << e;
    return request;
}

// Decodes a form body into (name, value) pairs in order.
QList<QPair<QString, QString>> form(const QByteArray &body)
{
    QList<QPair<QString, QString>> out;
    for (QByteArray pair : body.split('&')) {
        pair.replace('+', ' ');
        const qsizetype eq = pair.indexOf('=');
        out.append({QString::fromUtf8(QByteArray::fromPercentEncoding(pair.left(eq))),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(pair.mid(eq + 1)))});
    }
    return out;
}

QPair<QString, QString> field(const QString &name, const QString &value) { return {name, value}; }

QStringList names(const QList<QPair<QString, QString>> &fields)
{
    QStringList out;
    for (const auto &field : fields)
        out << field.first;
    return out;
}

HttpResponse answer(int status, const QByteArray &body, QList<QPair<QByteArray, QByteArray>> headers = {})
{
    if (!body.isEmpty())
        headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    return HttpResponse{status, body, headers, false, false};
}

HttpResponse created() { return answer(201, "{\"request_uri\":\"" + kRequestUri + "\",\"expires_in\":60}"); }

struct Result
{
    int count = 0;
    Error error;
    PushedAuthorizationResponse response;
};

std::shared_ptr<Result> observe(PushedAuthorizationJob *job)
{
    auto result = std::make_shared<Result>();
    QObject::connect(job, &Job::finished, job, [job, result] {
        ++result->count;
        result->error = job->error();
        result->response = job->response();
    });
    job->start();
    return result;
}

} // namespace

class tst_PushedAuthorization : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // ---- the push (RFC 9126 §2.1) and the URL after it (§4) ----

    void pushCarriesEveryParameterAndTheUrlOnlyClientIdAndRequestUri()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return created(); });
        const ProviderConfiguration p = provider(server.url(QString()), server.url(QStringLiteral("/request")));
        const AuthorizationRequest request = build(richClient(), p);
        QVERIFY(!request.isNull());

        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.pushAuthorizationRequest(p, richClient(), request));
        QTRY_COMPARE(result->count, 1);
        QVERIFY2(!result->error, qPrintable(result->error.toString()));
        QVERIFY(result->response.requestUri() == kRequestUri);
        QCOMPARE(result->response.expiresIn(), 60s);

        QCOMPARE(server.requests().size(), 1);
        const HttpRequest pushed = server.requests().constFirst();
        QCOMPARE(pushed.method, QByteArray("POST"));
        QCOMPARE(pushed.target, QByteArray("/request"));
        QCOMPARE(pushed.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY(!pushed.hasHeader("Authorization")); // a public client: client_id in the body (RFC 6749 §3.2.1)

        // The body is exactly the request's parameters: client_id once, nothing added or dropped.
        const auto body = form(pushed.body);
        QVERIFY(body == request.parameters());
        const QStringList sent = names(body);
        for (const char *name : {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                                 "code_challenge_method", "prompt", "login_hint", "max_age", "acr_values", "resource",
                                 "ui_locales"})
            QVERIFY2(sent.contains(QLatin1String(name)), name);
        QCOMPARE(sent.count(QStringLiteral("client_id")), 1);
        QCOMPARE(sent.count(QStringLiteral("resource")), 2); // RFC 8707 §2: one per resource
        QVERIFY(!sent.contains(QStringLiteral("request_uri")));
        QVERIFY(!sent.contains(QStringLiteral("tenant"))); // the endpoint's own query is not a parameter
        QVERIFY(body.contains(field(QStringLiteral("state"), QString::fromLatin1(request.state()))));
        QVERIFY(body.contains(field(QStringLiteral("code_challenge"), QString::fromLatin1(request.codeChallenge()))));
        QVERIFY(body.contains(field(QStringLiteral("nonce"), QString::fromLatin1(request.nonce()))));
        QVERIFY(!pushed.body.contains(request.codeVerifier())); // the verifier never leaves the app

        // RFC 9126 §4: the URL carries client_id and request_uri, and the endpoint's own query.
        const QUrl url = request.urlWithRequestUri(result->response.requestUri());
        QCOMPARE(url.path(), QStringLiteral("/auth"));
        const QUrlQuery query(url);
        QCOMPARE(query.queryItems(QUrl::FullyDecoded).size(), 3);
        QCOMPARE(query.queryItemValue(QStringLiteral("tenant")), QStringLiteral("t1"));
        // application/x-www-form-urlencoded: a space is '+' (RFC 6749 Appendix B)
        QCOMPARE(query.queryItemValue(QStringLiteral("client_id"), QUrl::FullyDecoded), QStringLiteral("my+app"));
        QCOMPARE(query.queryItemValue(QStringLiteral("request_uri"), QUrl::FullyDecoded), QString::fromLatin1(kRequestUri));
        const QByteArray encoded = url.toEncoded();
        for (const QByteArray &secret : {request.state(), request.nonce(), request.codeChallenge()})
            QVERIFY(!encoded.contains(secret));

        // The normal URL has the same parameters after the endpoint's own query.
        const QList<QPair<QString, QString>> inUrl = QUrlQuery(request.url()).queryItems(QUrl::FullyDecoded);
        QCOMPARE(inUrl.size(), request.parameters().size() + 1);
        QCOMPARE(inUrl.first().first, QStringLiteral("tenant"));
    }

    void urlWithRequestUriNeedsARequestAndAUri()
    {
        const ProviderConfiguration p = provider(QStringLiteral("https://idp.example"), QString());
        QVERIFY(AuthorizationRequest().urlWithRequestUri(kRequestUri).isEmpty());
        const AuthorizationRequest request = build(richClient(), p);
        QVERIFY(request.urlWithRequestUri(QByteArray()).isEmpty());
        QVERIFY(AuthorizationRequest().parameters().isEmpty());
    }

    // RFC 9126 §2.1: the client authenticates as at the token endpoint (the same code).
    void authenticatesLikeTheTokenRequests_data()
    {
        QTest::addColumn<ClientConfiguration::ClientAuthMethod>("method");
        QTest::newRow("client_secret_basic") << ClientConfiguration::ClientAuthMethod::ClientSecretBasic;
        QTest::newRow("client_secret_post") << ClientConfiguration::ClientAuthMethod::ClientSecretPost;
    }

    void authenticatesLikeTheTokenRequests()
    {
        QFETCH(ClientConfiguration::ClientAuthMethod, method);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return created(); });
        const ProviderConfiguration p = provider(server.url(QString()), server.url(QStringLiteral("/request")));
        ClientConfiguration c = richClient();
        c.setClientSecret(QStringLiteral("s3cr:et"));
        c.setClientAuthMethod(method);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.pushAuthorizationRequest(p, c, build(c, p)));
        QTRY_COMPARE(result->count, 1);
        QVERIFY2(!result->error, qPrintable(result->error.toString()));
        const HttpRequest pushed = server.requests().constFirst();
        const QStringList sent = names(form(pushed.body));
        // client_id is an authorization parameter: in the body once, with every method (§2.1's example).
        QCOMPARE(sent.count(QStringLiteral("client_id")), 1);
        if (method == ClientConfiguration::ClientAuthMethod::ClientSecretBasic) {
            QCOMPARE(pushed.header("Authorization"), "Basic " + QByteArray("my+app:s3cr%3Aet").toBase64());
            QVERIFY(!sent.contains(QStringLiteral("client_secret")));
        } else {
            QVERIFY(!pushed.hasHeader("Authorization"));
            QVERIFY(form(pushed.body).contains(field(QStringLiteral("client_secret"), QStringLiteral("s3cr:et"))));
        }
    }

    void refusesWhatCannotBePushed_data()
    {
        QTest::addColumn<bool>("endpoint");
        QTest::addColumn<QString>("additional");
        QTest::addColumn<bool>("otherClient");
        QTest::addColumn<QString>("message");
        QTest::newRow("no endpoint") << false << QString() << false
                                     << QStringLiteral("the provider has no pushed_authorization_request_endpoint (RFC 9126 §5)");
        QTest::newRow("request_uri as an additional parameter (§2.1)")
            << true << QStringLiteral("request_uri") << false
            << QStringLiteral("the additional parameter request_uri cannot be pushed (RFC 9126 §2.1)");
        QTest::newRow("a request of another client") << true << QString() << true
                                                     << QStringLiteral("the authorization request was built for another client id");
    }

    void refusesWhatCannotBePushed()
    {
        QFETCH(bool, endpoint);
        QFETCH(QString, additional);
        QFETCH(bool, otherClient);
        QFETCH(QString, message);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return created(); });
        const ProviderConfiguration p =
            provider(server.url(QString()), endpoint ? server.url(QStringLiteral("/request")) : QString());
        ClientConfiguration c = richClient();
        if (!additional.isEmpty())
            c.setAdditionalParameters({{additional, QStringLiteral("urn:x")}});
        const AuthorizationRequest request = build(c, p);
        QVERIFY(!request.isNull());
        if (otherClient)
            c.setClientId(QStringLiteral("another app"));
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.pushAuthorizationRequest(p, c, request));
        QTRY_COMPARE(result->count, 1);
        QCOMPARE(result->error.code(), Error::Code::InvalidConfiguration);
        QCOMPARE(result->error.message(), message);
        QVERIFY(result->response.isNull());
        QVERIFY(server.requests().isEmpty()); // nothing was sent
    }

    // ---- the answer (RFC 9126 §2.2, §2.3) ----

    void readsTheAnswer_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<QString>("oauthError");
        QTest::addColumn<bool>("transient");
        using C = Error::Code;
        const QByteArray ok = "{\"request_uri\":\"" + kRequestUri + "\",\"expires_in\":60}";
        QTest::newRow("201 (§2.2)") << 201 << ok << C::NoError << QString() << false;
        QTest::newRow("201, unknown members ignored")
            << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":5,\"extra\":{\"a\":[1]}}") << C::NoError << QString() << false;
        QTest::newRow("200 is not 201") << 200 << ok << C::HttpError << QString() << false;
        QTest::newRow("202 is not 201") << 202 << ok << C::HttpError << QString() << false;
        QTest::newRow("201, no request_uri") << 201 << QByteArray("{\"expires_in\":60}") << C::MissingParameter << QString() << false;
        QTest::newRow("201, no expires_in") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\"}") << C::MissingParameter << QString() << false;
        QTest::newRow("201, request_uri a number") << 201 << QByteArray("{\"request_uri\":1,\"expires_in\":60}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, request_uri empty") << 201 << QByteArray("{\"request_uri\":\"\",\"expires_in\":60}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, request_uri relative") << 201 << QByteArray("{\"request_uri\":\"abc/def\",\"expires_in\":60}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, request_uri with a space") << 201 << QByteArray("{\"request_uri\":\"urn:a b\",\"expires_in\":60}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, expires_in a string") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":\"60\"}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, expires_in zero") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":0}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, expires_in negative") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":-5}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, expires_in a fraction") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":1.5}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, expires_in huge") << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"expires_in\":1e300}") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, duplicate request_uri")
            << 201 << QByteArray("{\"request_uri\":\"urn:x:1\",\"request_uri\":\"urn:x:2\",\"expires_in\":60}") << C::DuplicateParameter << QString() << false;
        QTest::newRow("201, not JSON") << 201 << QByteArray("<html>created</html>") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, an array") << 201 << QByteArray("[]") << C::MalformedResponse << QString() << false;
        QTest::newRow("201, empty") << 201 << QByteArray() << C::MalformedResponse << QString() << false;
        QTest::newRow("400 invalid_target (§2.3)")
            << 400 << QByteArray("{\"error\":\"invalid_target\",\"error_description\":\"resource indicator is missing, or unknown\"}")
            << C::OAuthError << QStringLiteral("invalid_target") << false;
        QTest::newRow("400 invalid_request") << 400 << QByteArray("{\"error\":\"invalid_request\"}") << C::OAuthError << QStringLiteral("invalid_request") << false;
        QTest::newRow("401 invalid_client") << 401 << QByteArray("{\"error\":\"invalid_client\"}") << C::ClientAuthenticationFailed << QStringLiteral("invalid_client") << false;
        QTest::newRow("400 unauthorized_client") << 400 << QByteArray("{\"error\":\"unauthorized_client\"}") << C::ClientAuthenticationFailed << QStringLiteral("unauthorized_client") << false;
        QTest::newRow("400 temporarily_unavailable") << 400 << QByteArray("{\"error\":\"temporarily_unavailable\"}") << C::OAuthError << QStringLiteral("temporarily_unavailable") << true;
        QTest::newRow("400 without an error object") << 400 << QByteArray("bad") << C::HttpError << QString() << false;
        QTest::newRow("405 (§2.3)") << 405 << QByteArray() << C::HttpError << QString() << false;
        QTest::newRow("413 (§2.3)") << 413 << QByteArray() << C::HttpError << QString() << false;
        QTest::newRow("429 (§2.3)") << 429 << QByteArray() << C::HttpError << QString() << true;
        QTest::newRow("500") << 500 << QByteArray("{\"error\":\"server_error\"}") << C::HttpError << QString() << true;
        QTest::newRow("503") << 503 << QByteArray() << C::HttpError << QString() << true;
    }

    void readsTheAnswer()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Code, code);
        QFETCH(QString, oauthError);
        QFETCH(bool, transient);
        Error e;
        const PushedAuthorizationResponse response = PushedAuthorizationResponse::parse(status, body, &e);
        QCOMPARE(e.code(), code);
        QCOMPARE(e.oauthError(), oauthError);
        QCOMPARE(e.isTransient(), transient);
        QCOMPARE(response.isNull(), code != Error::Code::NoError);
        if (e) {
            QVERIFY(response.requestUri().isEmpty());
            QVERIFY(!e.message().contains(QLatin1String("urn:x")));
            QVERIFY(!e.message().contains(QString::fromLatin1(kRequestUri)));
            QVERIFY(!e.message().contains(QLatin1String("<html>")));
            if (code == Error::Code::HttpError || code == Error::Code::OAuthError || code == Error::Code::ClientAuthenticationFailed)
                QCOMPARE(e.httpStatus(), status);
        } else {
            QVERIFY(response.expiresIn() > 0s);
        }
    }

    void oauthErrorsSayTheyCameFromThePush()
    {
        Error e;
        PushedAuthorizationResponse::parse(400, "{\"error\":\"invalid_target\",\"error_description\":\"unknown resource\"}", &e);
        QCOMPARE(e.message(), QStringLiteral("the pushed authorization request was refused (RFC 9126 §2.3): the server "
                                             "answered with OAuth error \"invalid_target\": unknown resource"));
        QCOMPARE(e.oauthErrorDescription(), QStringLiteral("unknown resource"));
        PushedAuthorizationResponse::parse(200, "{}", &e);
        QCOMPARE(e.message(), QStringLiteral("the pushed authorization request endpoint answered HTTP 200, not 201 "
                                             "Created with a request_uri (RFC 9126 §2.2)"));
    }

    void theJobReportsErrorsTyped_data()
    {
        QTest::addColumn<HttpResponse>("response");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<bool>("transient");
        QTest::addColumn<qint64>("retryAfter");
        QTest::newRow("invalid_target")
            << answer(400, "{\"error\":\"invalid_target\"}") << Error::Code::OAuthError << false << qint64(0);
        QTest::newRow("429 with Retry-After")
            << answer(429, QByteArray(), {{"Retry-After", "7"}}) << Error::Code::HttpError << true << qint64(7);
        QTest::newRow("503 with Retry-After")
            << answer(503, QByteArray(), {{"Retry-After", "3"}}) << Error::Code::HttpError << true << qint64(3);
        QTest::newRow("a redirect is never followed")
            << answer(302, QByteArray(), {{"Location", "https://elsewhere.example/request"}}) << Error::Code::UnexpectedRedirect
            << false << qint64(0);
        QTest::newRow("no answer in time") << HttpResponse{200, {}, {}, true, false} << Error::Code::Timeout << true << qint64(0);
    }

    void theJobReportsErrorsTyped()
    {
        QFETCH(HttpResponse, response);
        QFETCH(Error::Code, code);
        QFETCH(bool, transient);
        QFETCH(qint64, retryAfter);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([response](const HttpRequest &) { return response; });
        const ProviderConfiguration p = provider(server.url(QString()), server.url(QStringLiteral("/request")));
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions(500ms));
        auto result = observe(tokens.pushAuthorizationRequest(p, richClient(), build(richClient(), p)));
        QTRY_COMPARE_WITH_TIMEOUT(result->count, 1, 5000);
        QCOMPARE(result->error.code(), code);
        QCOMPARE(result->error.isTransient(), transient);
        QCOMPARE(qint64(result->error.retryAfter().count()), retryAfter);
        QVERIFY(result->response.isNull());
    }

    void theNetworkFailingIsTransient()
    {
        quint16 port = 0;
        {
            TestHttpServer gone;
            QVERIFY(gone.listen());
            port = gone.port();
        }
        const QString origin = QStringLiteral("http://127.0.0.1:%1").arg(port);
        const ProviderConfiguration p = provider(origin, origin + QStringLiteral("/request"));
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.pushAuthorizationRequest(p, richClient(), build(richClient(), p)));
        QTRY_COMPARE(result->count, 1);
        QCOMPARE(result->error.code(), Error::Code::NetworkError);
        QVERIFY(result->error.isTransient());
    }

    void anInsecureEndpointIsNamedAndNothingIsSent()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return created(); });
        const ProviderConfiguration p = provider(server.url(QString()), server.url(QStringLiteral("/request")));
        const AuthorizationRequest request = build(richClient(), p);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, TransportOptions()); // no development opt-in: http is refused
        auto result = observe(tokens.pushAuthorizationRequest(p, richClient(), request));
        QTRY_COMPARE(result->count, 1);
        QCOMPARE(result->error.code(), Error::Code::InsecureEndpoint);
        QVERIFY(result->error.message().startsWith(QLatin1String("pushed_authorization_request_endpoint: ")));
        QVERIFY(server.requests().isEmpty());
    }

    void cancelStopsThePush()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return HttpResponse{201, {}, {}, true, false}; });
        const ProviderConfiguration p = provider(server.url(QString()), server.url(QStringLiteral("/request")));
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        PushedAuthorizationJob *job = tokens.pushAuthorizationRequest(p, richClient(), build(richClient(), p));
        auto result = observe(job);
        QTRY_COMPARE(server.requests().size(), 1);
        job->cancel();
        QTRY_COMPARE(result->count, 1);
        QCOMPARE(result->error.code(), Error::Code::Cancelled);
    }

    void printsTheRequestUriRedacted()
    {
        Error e;
        const PushedAuthorizationResponse response = PushedAuthorizationResponse::parse(
            201, "{\"request_uri\":\"" + kRequestUri + "\",\"expires_in\":90}", &e);
        QVERIFY(!e);
        QString printed;
        QDebug(&printed) << response;
        QVERIFY(!printed.contains(QString::fromLatin1(kRequestUri)));
        QVERIFY(printed.contains(QLatin1String("<redacted>")));
        QVERIFY(printed.contains(QLatin1String("90")));
        // Copies share the value (implicitly shared, immutable).
        const PushedAuthorizationResponse copy = response;
        QVERIFY(copy.requestUri() == kRequestUri);
        QCOMPARE(copy.expiresIn(), 90s);
        QVERIFY(PushedAuthorizationResponse().isNull());
    }
};

QTEST_GUILESS_MAIN(tst_PushedAuthorization)
#include "tst_pushedauthorization.moc"
