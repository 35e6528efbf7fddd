// SPDX-License-Identifier: MIT
// HttpClient against a fault-injecting loopback server of our own (issue 11): where a credential
// goes and where it never goes, redirects, a 401 replayed once, step-up and insufficient_scope,
// Retry-After, timeouts, broken responses, replayable bodies, cancellation — with a test
// credential whose values are counted. Waits on signals only.
#include <keyloop/credential.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>

#include "../session/fakeprovider.h"
#include "testtls.h"

#include <QtCore/QBuffer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>

#include <memory>
#include <optional>

using namespace Keyloop;
using namespace KeyloopSessionTest;
using namespace KeyloopHttpTest;
using namespace std::chrono_literals;

namespace {

// Gives "Bearer token-N"; a rejection of the current value moves to N+1 (as a session would
// after a refresh). Counts everything.
class TestCredential : public Credential
{
public:
    int generation = 1;
    int authorizations = 0;
    QList<QByteArray> rejected;
    Error failWith;
    QByteArray headerName = "Authorization";
    QByteArray overrideValue;
    std::optional<QByteArray> forcedValue; // sent as it is, even empty
    bool silent = false; // never answers

    QByteArray current() const
    {
        if (forcedValue)
            return *forcedValue;
        return overrideValue.isEmpty() ? "Bearer token-" + QByteArray::number(generation) : overrideValue;
    }

    void authorize(QObject *context, AuthorizeCallback callback) override
    {
        ++authorizations;
        if (silent)
            return;
        deliverLater(context, std::move(callback), failWith ? QByteArray() : headerName,
                     failWith ? QByteArray() : current(), failWith);
    }
    void reject(const QByteArray &value) override
    {
        rejected.append(value);
        if (value == current())
            ++generation;
    }
};

struct Outcome
{
    Error error;
    int status = 0;
    QByteArray body;
    QByteArray method;
    QUrl url;
    QJsonValue json;
    Error jsonError;
    bool finished = false;
    int finishedCount = 0;
};

QByteArray header(const Request &r, const QByteArray &name)
{
    for (const auto &h : r.headers)
        if (h.first == name.toLower())
            return h.second;
    return {};
}

bool hasHeader(const Request &r, const QByteArray &name)
{
    for (const auto &h : r.headers)
        if (h.first == name.toLower())
            return true;
    return false;
}

QByteArray bearer(const QByteArray &attributes)
{
    return "WWW-Authenticate: Bearer " + attributes;
}

// Every log line of the test, to prove that no token value ever reaches one.
QStringList *g_log = nullptr;
QtMessageHandler g_previousHandler = nullptr;
void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (g_log)
        g_log->append(QString::fromLatin1(context.category ? context.category : "") + QLatin1Char(' ') + message);
    if (g_previousHandler)
        g_previousHandler(type, context, message);
}

} // namespace

class tst_HttpClient : public QObject
{
    Q_OBJECT

    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    std::unique_ptr<HttpClient> m_http;
    std::unique_ptr<TestCredential> m_credential;

    static TransportOptions devOptions(std::chrono::milliseconds timeout = 5s)
    {
        TransportOptions o;
        o.setAllowInsecureLoopbackForDevelopment(true);
        o.setRequestTimeout(timeout);
        return o;
    }

    QUrl url(const char *path) const { return m_server->url(QString::fromLatin1(path)); }
    static QNetworkRequest request(const QUrl &u) { return QNetworkRequest(u); }

    // Waits for \a reply (already started by the client) and collects what it says.
    static Outcome wait(HttpReply *reply, int timeoutMs = 10000)
    {
        Outcome o;
        reply->setAutoDelete(false);
        QObject::connect(reply, &Job::finished, reply, [&o, reply] {
            o.finished = true;
            ++o.finishedCount;
            o.error = reply->error();
            o.status = reply->statusCode();
            o.body = reply->body();
            o.method = reply->method();
            o.url = reply->url();
            o.json = reply->json(&o.jsonError);
        });
        if (!QTest::qWaitFor([&o] { return o.finished; }, timeoutMs))
            o.error = Error(Error::Code::Timeout, QStringLiteral("the reply never finished"));
        delete reply;
        return o;
    }

    void serve(const QByteArray &path, int status, const QByteArray &body = QByteArray(),
               const QList<QByteArray> &headers = {})
    {
        m_server->setHandler(path, [=](const Request &, QTcpSocket *socket) {
            FakeServer::reply(socket, httpResponse(status, body, "application/json", headers));
        });
    }

    // Answers \a path with each response in turn, then repeats the last one.
    void serveSequence(const QByteArray &path, const QList<QByteArray> &responses)
    {
        auto next = std::make_shared<int>(0);
        m_server->setHandler(path, [=](const Request &, QTcpSocket *socket) {
            const int i = std::min<int>(*next, int(responses.size()) - 1);
            ++*next;
            FakeServer::reply(socket, responses.at(i));
        });
    }

    void bindApi()
    {
        const Error e = m_http->addCredential(m_credential.get(), {url("/api")});
        QVERIFY2(!e, qPrintable(e.toString()));
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_nam = std::make_unique<QNetworkAccessManager>();
        m_http = std::make_unique<HttpClient>(m_nam.get(), devOptions());
        m_credential = std::make_unique<TestCredential>();
    }

    void cleanup()
    {
        m_http.reset();
        m_credential.reset();
        m_nam.reset();
        m_server.reset();
    }

    // ---- Where the credential goes -----------------------------------------------------

    void credentialGoesOnlyToItsLocations_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("withCredential");
        QTest::newRow("the location") << QByteArray("/api") << true;
        QTest::newRow("below it") << QByteArray("/api/items") << true;
        QTest::newRow("a longer segment") << QByteArray("/apix") << false;
        QTest::newRow("elsewhere on the host") << QByteArray("/public") << false;
    }
    void credentialGoesOnlyToItsLocations()
    {
        QFETCH(QByteArray, path);
        QFETCH(bool, withCredential);
        bindApi();
        serve(path, 200, "{}");
        const Outcome o = wait(m_http->get(request(url(path.constData()))));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(o.status, 200);
        const Request r = m_server->requests(path).value(0);
        QCOMPARE(hasHeader(r, "Authorization"), withCredential);
        if (withCredential)
            QVERIFY(header(r, "Authorization") == "Bearer token-1");
        QCOMPARE(m_credential->authorizations, withCredential ? 1 : 0);
        QVERIFY(!r.target.contains("token")); // RFC 6750 §2.3 is never used: never in the URL
    }

    void theMostSpecificLocationWins()
    {
        TestCredential admin;
        admin.overrideValue = "Bearer admin";
        QVERIFY(!m_http->addCredential(m_credential.get(), {url("/")}));
        QVERIFY(!m_http->addCredential(&admin, {url("/api/admin")}));
        QCOMPARE(m_http->credentialFor(url("/api/admin/users")), &admin);
        QCOMPARE(m_http->credentialFor(url("/api/items")), m_credential.get());
        QCOMPARE(m_http->credentialFor(url("/api/administrators")), m_credential.get());
        serve("/api/admin/users", 200);
        QVERIFY(!wait(m_http->get(request(url("/api/admin/users")))).error);
        QVERIFY(header(m_server->requests("/api/admin/users").value(0), "Authorization") == "Bearer admin");
    }

    void removedAndDestroyedCredentialsAreNotSent()
    {
        bindApi();
        serve("/api/x", 200);
        m_http->removeCredential(m_credential.get());
        QCOMPARE(m_http->credentialFor(url("/api/x")), nullptr);
        QVERIFY(!wait(m_http->get(request(url("/api/x")))).error);
        QVERIFY(!hasHeader(m_server->requests("/api/x").value(0), "Authorization"));

        auto *temporary = new TestCredential;
        QVERIFY(!m_http->addCredential(temporary, {url("/api")}));
        QCOMPARE(m_http->credentialFor(url("/api/x")), temporary);
        delete temporary;
        QCOMPARE(m_http->credentialFor(url("/api/x")), nullptr);
    }

    void requestsKeepTheBindingsTheyWereMadeWith()
    {
        // Unbound while the request runs: its replay still carries the credential; a new
        // request does not.
        bindApi();
        auto calls = std::make_shared<int>(0);
        m_server->setHandler("/api/x", [this, calls](const Request &, QTcpSocket *socket) {
            if ((*calls)++ == 0) {
                m_http->removeCredential(m_credential.get());
                FakeServer::reply(socket, httpResponse(401, "{}", "application/json", {bearer("error=\"invalid_token\"")}));
                return;
            }
            FakeServer::reply(socket, httpResponse(200, "{}"));
        });
        QVERIFY(!wait(m_http->get(request(url("/api/x")))).error);
        QVERIFY(header(m_server->requests("/api/x").value(1), "Authorization") == "Bearer token-2");
        QVERIFY(!wait(m_http->get(request(url("/api/x")))).error);
        QVERIFY(!hasHeader(m_server->requests("/api/x").value(2), "Authorization"));
    }

    void locationsMustBeSecure()
    {
        HttpClient strict(m_nam.get(), TransportOptions());
        // Loopback http without the development opt-in, and http anywhere else even with it.
        QCOMPARE(strict.addCredential(m_credential.get(), {url("/api")}).code(), Error::Code::CredentialNotAllowed);
        QCOMPARE(m_http->addCredential(m_credential.get(), {QUrl(QStringLiteral("http://api.example.com/"))}).code(),
                 Error::Code::CredentialNotAllowed);
        // A resource indicator is no location.
        QCOMPARE(m_http->addCredential(m_credential.get(), {QUrl(QStringLiteral("urn:example:api"))}).code(),
                 Error::Code::CredentialNotAllowed);
        QCOMPARE(m_http->addCredential(m_credential.get(), {}).code(), Error::Code::CredentialNotAllowed);
        // One bad location binds nothing.
        QCOMPARE(m_http->addCredential(m_credential.get(), {url("/api"), QUrl(QStringLiteral("http://x.example/"))}).code(),
                 Error::Code::CredentialNotAllowed);
        QCOMPARE(m_http->credentialFor(url("/api")), nullptr);
    }

    void plainHttpRequestsAreRefused()
    {
        HttpClient strict(m_nam.get(), TransportOptions());
        serve("/api", 200);
        const Outcome o = wait(strict.get(request(url("/api"))));
        QCOMPARE(o.error.code(), Error::Code::InsecureEndpoint);
        QCOMPARE(o.status, 0);
        const Outcome elsewhere = wait(m_http->get(request(QUrl(QStringLiteral("http://api.example.com/x")))));
        QCOMPARE(elsewhere.error.code(), Error::Code::InsecureEndpoint);
        QCOMPARE(m_server->count("/api"), 0);
    }

    // ---- Plain answers -------------------------------------------------------------------

    void statusesAboveFourHundredAreTypedErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("challenge");
        QTest::addColumn<bool>("transient");
        QTest::addColumn<QString>("oauthError");
        QTest::newRow("500") << 500 << QByteArray() << true << QString();
        QTest::newRow("502") << 502 << QByteArray() << true << QString();
        QTest::newRow("404") << 404 << QByteArray() << false << QString();
        QTest::newRow("408") << 408 << QByteArray() << true << QString();
        QTest::newRow("400 invalid_request") << 400 << bearer("error=\"invalid_request\"") << false << "invalid_request";
        QTest::newRow("403 without a challenge") << 403 << QByteArray() << false << QString();
    }
    void statusesAboveFourHundredAreTypedErrors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, challenge);
        QFETCH(bool, transient);
        QFETCH(QString, oauthError);
        bindApi();
        serve("/api/x", status, "{\"detail\":\"kept\"}", challenge.isEmpty() ? QList<QByteArray>() : QList<QByteArray>{challenge});
        const Outcome o = wait(m_http->get(request(url("/api/x"))));
        QCOMPARE(o.error.code(), Error::Code::HttpError);
        QCOMPARE(o.error.httpStatus(), status);
        QCOMPARE(o.status, status);
        QCOMPARE(o.error.isTransient(), transient);
        QCOMPARE(o.error.oauthError(), oauthError);
        QCOMPARE(o.body, QByteArray("{\"detail\":\"kept\"}")); // the body is still there
        QCOMPARE(m_server->count("/api/x"), 1);                 // never retried without Retry-After
        QVERIFY(m_credential->rejected.isEmpty());
    }

    void jsonIsParsedStrictly_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("object") << QByteArray("{\"a\":1}") << Error::Code::NoError;
        QTest::newRow("array") << QByteArray("[1,2]") << Error::Code::NoError;
        QTest::newRow("duplicate member") << QByteArray("{\"a\":1,\"a\":2}") << Error::Code::DuplicateParameter;
        QTest::newRow("truncated") << QByteArray("{\"a\":") << Error::Code::MalformedResponse;
        QTest::newRow("trailing text") << QByteArray("{} x") << Error::Code::MalformedResponse;
        QTest::newRow("empty") << QByteArray() << Error::Code::MalformedResponse;
    }
    void jsonIsParsedStrictly()
    {
        QFETCH(QByteArray, body);
        QFETCH(Error::Code, code);
        serve("/data", 200, body);
        const Outcome o = wait(m_http->get(request(url("/data"))));
        QVERIFY(!o.error); // a 200 is a success whatever its body
        QCOMPARE(o.jsonError.code(), code);
        QCOMPARE(o.json.isUndefined(), code != Error::Code::NoError);
    }

    void aSilentServerTimesOut()
    {
        m_http->setTransportOptions(devOptions(300ms));
        m_server->setHandler("/slow", [](const Request &, QTcpSocket *) { /* never answers */ });
        const Outcome o = wait(m_http->get(request(url("/slow"))));
        QCOMPARE(o.error.code(), Error::Code::Timeout);
        QVERIFY(o.error.isTransient());
        QCOMPARE(m_server->count("/slow"), 1);
    }

    void aConnectionDroppedMidResponseIsANetworkError()
    {
        m_server->setHandler("/drop", [](const Request &, QTcpSocket *socket) {
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"partial\":");
            socket->flush();
            socket->abort();
        });
        const Outcome o = wait(m_http->get(request(url("/drop"))));
        QCOMPARE(o.error.code(), Error::Code::NetworkError);
        QVERIFY(o.error.isTransient());
    }

    void aResponseOverTheLimitIsRefused()
    {
        TransportOptions small = devOptions();
        small.setMaxResponseSize(64);
        m_http->setTransportOptions(small);
        serve("/big", 200, QByteArray(1000, 'x'));
        QCOMPARE(wait(m_http->get(request(url("/big")))).error.code(), Error::Code::ResponseTooLarge);
    }

    // ---- 401, step-up, insufficient_scope ------------------------------------------------

    void a401IsReplayedOnceWithAFreshValueAndTheSameBody_data()
    {
        QTest::addColumn<QByteArray>("challenge");
        QTest::newRow("invalid_token") << bearer("error=\"invalid_token\", error_description=\"expired\"");
        QTest::newRow("bare Bearer") << bearer("realm=\"api\"");
        QTest::newRow("no challenge at all") << QByteArray();
        QTest::newRow("another scheme") << QByteArray("WWW-Authenticate: Basic realm=\"x\"");
    }
    void a401IsReplayedOnceWithAFreshValueAndTheSameBody()
    {
        QFETCH(QByteArray, challenge);
        bindApi();
        const QList<QByteArray> headers = challenge.isEmpty() ? QList<QByteArray>() : QList<QByteArray>{challenge};
        serveSequence("/api/items", {httpResponse(401, "{}", "application/json", headers), httpResponse(201, "{\"ok\":true}")});
        static const char raw[] = "\x00\x01" "binary \r\n body" "\xff";
        const QByteArray body(raw, sizeof raw - 1); // NUL, CR LF and a non-UTF-8 byte, intact
        QNetworkRequest r = request(url("/api/items"));
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        const Outcome o = wait(m_http->post(r, body));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(o.status, 201);
        const QList<Request> seen = m_server->requests("/api/items");
        QCOMPARE(seen.size(), 2);
        QVERIFY(header(seen.at(0), "Authorization") == "Bearer token-1");
        QVERIFY(header(seen.at(1), "Authorization") == "Bearer token-2");
        QCOMPARE(seen.at(0).method, QByteArray("POST"));
        QCOMPARE(seen.at(1).method, QByteArray("POST"));
        QCOMPARE(seen.at(0).body, body); // POST bodies are replayed intact
        QCOMPARE(seen.at(1).body, body);
        QCOMPARE(m_credential->rejected.size(), 1);
        QVERIFY(m_credential->rejected.first() == "Bearer token-1");
    }

    void a401AlwaysGoesBackToTheCallerAfterOneReplay()
    {
        bindApi();
        serve("/api/x", 401, "{}", {bearer("error=\"invalid_token\"")});
        const Outcome o = wait(m_http->get(request(url("/api/x"))));
        QCOMPARE(o.error.code(), Error::Code::HttpError);
        QCOMPARE(o.error.httpStatus(), 401);
        QCOMPARE(o.error.oauthError(), QStringLiteral("invalid_token"));
        QVERIFY(!o.error.isTransient());
        QCOMPARE(m_server->count("/api/x"), 2); // never a loop
        QCOMPARE(m_credential->rejected.size(), 1);
    }

    void a401WithoutACredentialIsNotReplayed()
    {
        bindApi();
        serve("/public", 401);
        QCOMPARE(wait(m_http->get(request(url("/public")))).error.httpStatus(), 401);
        QCOMPARE(m_server->count("/public"), 1);
        QCOMPARE(m_credential->authorizations, 0);
    }

    void stepUpIsTypedAndNeverRefreshedOrReplayed()
    {
        bindApi();
        serve("/api/transfer", 401, "{}",
              {bearer("error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", "
                      "acr_values=\"urn:example:mfa phr\", max_age=\"300\"")});
        const Outcome o = wait(m_http->post(request(url("/api/transfer")), QByteArray("{}")));
        QCOMPARE(o.error.code(), Error::Code::StepUpRequired);
        QCOMPARE(o.error.httpStatus(), 401);
        QCOMPARE(o.error.requiredAcrValues(), (QStringList{QStringLiteral("urn:example:mfa"), QStringLiteral("phr")}));
        QVERIFY(o.error.requiredMaxAge().has_value());
        QCOMPARE(o.error.requiredMaxAge()->count(), 300);
        QVERIFY(!o.error.requiresSignIn()); // the session stays; a new sign-in with acr_values is the app's call
        QVERIFY(!o.error.isTransient());
        QCOMPARE(m_server->count("/api/transfer"), 1);
        QVERIFY(m_credential->rejected.isEmpty());
        QCOMPARE(m_credential->authorizations, 1);
    }

    void insufficientScopeIsTypedAndNotReplayed()
    {
        bindApi();
        serve("/api/items", 403, "{\"error\":\"insufficient_scope\"}",
              {bearer("error=\"insufficient_scope\", error_description=\"requires api:write\", scope=\"api:write\"")});
        const Outcome o = wait(m_http->post(request(url("/api/items")), QByteArray("{}")));
        QCOMPARE(o.error.code(), Error::Code::InsufficientScope);
        QCOMPARE(o.error.httpStatus(), 403);
        QCOMPARE(o.error.requiredScopes(), QStringList{QStringLiteral("api:write")});
        QCOMPARE(o.error.oauthErrorDescription(), QStringLiteral("requires api:write"));
        QCOMPARE(o.status, 403);
        QCOMPARE(m_server->count("/api/items"), 1);
        QVERIFY(m_credential->rejected.isEmpty());
    }

    // ---- Retry-After ---------------------------------------------------------------------

    void retryAfterIsHonouredOnceForIdempotentMethods_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("retryAfter"); // empty: no header
        QTest::addColumn<bool>("recovers");        // the second answer is a 200
        QTest::addColumn<int>("requests");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<int>("errorRetryAfter");
        QTest::newRow("GET 503, 0 s") << QByteArray("GET") << 503 << QByteArray("0") << true << 2 << Error::Code::NoError << 0;
        QTest::newRow("GET 429, 1 s") << QByteArray("GET") << 429 << QByteArray("1") << true << 2 << Error::Code::NoError << 0;
        QTest::newRow("PUT 503, 0 s") << QByteArray("PUT") << 503 << QByteArray("0") << true << 2 << Error::Code::NoError << 0;
        QTest::newRow("DELETE 429, 0 s") << QByteArray("DELETE") << 429 << QByteArray("0") << true << 2 << Error::Code::NoError << 0;
        QTest::newRow("GET 503 always: bounded") << QByteArray("GET") << 503 << QByteArray("0") << false << 2
                                                 << Error::Code::HttpError << 0;
        QTest::newRow("POST is not repeated") << QByteArray("POST") << 503 << QByteArray("0") << true << 1
                                              << Error::Code::HttpError << 0;
        QTest::newRow("PATCH is not repeated") << QByteArray("PATCH") << 429 << QByteArray("2") << true << 1
                                               << Error::Code::HttpError << 2;
        QTest::newRow("longer than 30 s") << QByteArray("GET") << 503 << QByteArray("31") << true << 1
                                          << Error::Code::HttpError << 31;
        QTest::newRow("no Retry-After") << QByteArray("GET") << 503 << QByteArray() << true << 1
                                        << Error::Code::HttpError << 0;
        QTest::newRow("malformed Retry-After") << QByteArray("GET") << 429 << QByteArray("soon") << true << 1
                                               << Error::Code::HttpError << 0;
    }
    void retryAfterIsHonouredOnceForIdempotentMethods()
    {
        QFETCH(QByteArray, method);
        QFETCH(int, status);
        QFETCH(QByteArray, retryAfter);
        QFETCH(bool, recovers);
        QFETCH(int, requests);
        QFETCH(Error::Code, code);
        QFETCH(int, errorRetryAfter);
        bindApi();
        const QList<QByteArray> headers = retryAfter.isEmpty() ? QList<QByteArray>() : QList<QByteArray>{"Retry-After: " + retryAfter};
        const QByteArray busy = httpResponse(status, "{}", "application/json", headers);
        serveSequence("/api/x", recovers ? QList<QByteArray>{busy, httpResponse(200, "{}")} : QList<QByteArray>{busy});
        QElapsedTimer elapsed;
        elapsed.start();
        const Outcome o = wait(m_http->sendCustomRequest(request(url("/api/x")), method,
                                                         method == "GET" || method == "DELETE" ? HttpBody() : HttpBody("body")));
        QCOMPARE(o.error.code(), code);
        QCOMPARE(m_server->count("/api/x"), requests);
        if (o.error) {
            QCOMPARE(o.error.httpStatus(), status);
            QVERIFY(o.error.isTransient());
            QCOMPARE(int(o.error.retryAfter().count()), errorRetryAfter);
        }
        if (requests == 2 && retryAfter == "1")
            QVERIFY(elapsed.elapsed() >= 900); // the delay was honoured
    }

    // ---- Redirects ------------------------------------------------------------------------

    void aSameOriginRedirectKeepsTheCredentialInsideTheLocation()
    {
        bindApi();
        serve("/api/old", 308, QByteArray(), {"Location: /api/new"});
        serve("/api/new", 201, "{}");
        const Outcome o = wait(m_http->put(request(url("/api/old")), QByteArray("payload")));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(o.url, url("/api/new"));
        const Request r = m_server->requests("/api/new").value(0);
        QCOMPARE(r.method, QByteArray("PUT"));
        QCOMPARE(r.body, QByteArray("payload"));
        QVERIFY(header(r, "Authorization") == "Bearer token-1");
    }

    void aRedirectOutOfTheLocationDropsTheCredential()
    {
        bindApi();
        serve("/api/download", 302, QByteArray(), {"Location: /files/blob"});
        serve("/files/blob", 200, "blob");
        const Outcome o = wait(m_http->get(request(url("/api/download"))));
        QVERIFY(!o.error);
        QCOMPARE(o.body, QByteArray("blob"));
        QVERIFY(!hasHeader(m_server->requests("/files/blob").value(0), "Authorization"));
    }

    void aCrossOriginRedirectNeverCarriesCredentials()
    {
        // The other origin records every header it receives. It is even bound to the same
        // credential: a redirect still never carries it there, nor back.
        FakeServer other;
        QVERIFY(other.listen());
        bindApi();
        QVERIFY(!m_http->addCredential(m_credential.get(), {other.url(QStringLiteral("/"))}));
        serve("/api/start", 307, QByteArray(), {"Location: " + other.url(QStringLiteral("/collect?x=1")).toEncoded()});
        other.setHandler("/collect", [this](const Request &, QTcpSocket *socket) {
            FakeServer::reply(socket, httpResponse(302, QByteArray(), "application/json",
                                                   {"Location: " + url("/api/back").toEncoded()}));
        });
        serve("/api/back", 200, "{}");
        QNetworkRequest r = request(url("/api/start"));
        r.setRawHeader("Cookie", "session=secret-cookie");
        r.setRawHeader("X-Request-Id", "42");
        const Outcome o = wait(m_http->post(r, QByteArray("data")));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(o.url, url("/api/back"));

        QVERIFY(header(m_server->requests("/api/start").value(0), "Authorization") == "Bearer token-1");
        const Request there = other.requests("/collect").value(0);
        QCOMPARE(there.method, QByteArray("POST"));       // 307: method and body kept
        QCOMPARE(there.body, QByteArray("data"));
        QVERIFY(!hasHeader(there, "Authorization"));       // the credential stays home
        QVERIFY(!hasHeader(there, "Cookie"));              // and so does the caller's cookie
        QCOMPARE(header(there, "X-Request-Id"), QByteArray("42"));
        QVERIFY(!hasHeader(m_server->requests("/api/back").value(0), "Authorization")); // not even back home
        QCOMPARE(m_credential->authorizations, 1);
    }

    void aRedirectFromHttpsToHttpIsRefused()
    {
        const TestTls tls = TestTls::create();
        QVERIFY(tls.isValid());
        FakeServer secure;
        QVERIFY(secure.listenTls(tls.server));
        TransportOptions options = devOptions();
        options.setExtraCaCertificates({tls.certificate});
        m_http->setTransportOptions(options);
        QVERIFY(!m_http->addCredential(m_credential.get(), {secure.url(QStringLiteral("/api"))}));
        const QUrl plain = url("/api/x"); // http on loopback: allowed by the opt-in, but not after https
        secure.setHandler("/api/x", [plain](const Request &, QTcpSocket *socket) {
            FakeServer::reply(socket, httpResponse(302, QByteArray(), "application/json", {"Location: " + plain.toEncoded()}));
        });
        serve("/api/x", 200);
        const Outcome o = wait(m_http->get(request(secure.url(QStringLiteral("/api/x")))));
        QCOMPARE(o.error.code(), Error::Code::UnexpectedRedirect);
        QCOMPARE(o.status, 302);
        QCOMPARE(secure.count("/api/x"), 1);
        QVERIFY(header(secure.requests("/api/x").value(0), "Authorization") == "Bearer token-1"); // TLS worked
        QCOMPARE(m_server->count("/api/x"), 0);
    }

    void redirectsAreBounded()
    {
        bindApi();
        serve("/api/loop", 302, QByteArray(), {"Location: /api/loop"});
        const Outcome o = wait(m_http->get(request(url("/api/loop"))));
        QCOMPARE(o.error.code(), Error::Code::UnexpectedRedirect);
        QCOMPARE(m_server->count("/api/loop"), 6); // the request and 5 redirects
    }

    void a303TurnsAPostIntoAGetWithoutBody()
    {
        bindApi();
        serve("/api/orders", 303, QByteArray(), {"Location: /api/orders/7"});
        serve("/api/orders/7", 200, "{\"id\":7}");
        QNetworkRequest r = request(url("/api/orders"));
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        const Outcome o = wait(m_http->post(r, QByteArray("{\"item\":1}")));
        QVERIFY(!o.error);
        QCOMPARE(o.method, QByteArray("GET"));
        QCOMPARE(o.json.toObject().value(QStringLiteral("id")).toInt(), 7);
        const Request got = m_server->requests("/api/orders/7").value(0);
        QCOMPARE(got.method, QByteArray("GET"));
        QVERIFY(got.body.isEmpty());
        QVERIFY(!hasHeader(got, "Content-Type"));
    }

    // ---- Bodies and methods ----------------------------------------------------------------

    void deviceBodiesAreBufferedAndReplayed()
    {
        bindApi();
        serveSequence("/api/upload", {httpResponse(401, "{}", "application/json", {bearer("error=\"invalid_token\"")}),
                                      httpResponse(200, "{}")});
        const QByteArray content = QByteArray(5000, 'a') + "end";
        auto *buffer = new QBuffer;
        buffer->setData(content);
        QVERIFY(buffer->open(QIODevice::ReadOnly));
        HttpReply *reply = m_http->put(request(url("/api/upload")), HttpBody::fromDevice(buffer));
        delete buffer; // read when the request was made
        const Outcome o = wait(reply);
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        const QList<Request> seen = m_server->requests("/api/upload");
        QCOMPARE(seen.size(), 2);
        QCOMPARE(seen.at(0).body, content);
        QCOMPARE(seen.at(1).body, content);
        QCOMPARE(header(seen.at(0), "Content-Type"), QByteArray("application/octet-stream"));
    }

    void deviceBodiesOverTheLimitAreRefused()
    {
        m_http->setMaxRequestBodySize(10);
        QBuffer buffer;
        buffer.setData(QByteArray(11, 'x'));
        QVERIFY(buffer.open(QIODevice::ReadOnly));
        serve("/api/upload", 200);
        const Outcome o = wait(m_http->post(request(url("/api/upload")), HttpBody::fromDevice(&buffer)));
        QCOMPARE(o.error.code(), Error::Code::RequestBodyTooLarge);
        QCOMPARE(m_server->count("/api/upload"), 0);
        QBuffer closed;
        QCOMPARE(wait(m_http->post(request(url("/api/upload")), HttpBody::fromDevice(&closed))).error.code(),
                 Error::Code::InvalidConfiguration);
        // Exactly the limit is fine.
        QBuffer fits;
        fits.setData(QByteArray(10, 'x'));
        QVERIFY(fits.open(QIODevice::ReadOnly));
        QVERIFY(!wait(m_http->post(request(url("/api/upload")), HttpBody::fromDevice(&fits))).error);
        QCOMPARE(m_server->requests("/api/upload").value(0).body, QByteArray(10, 'x'));
    }

    void everyMethodIsSent_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("PATCH") << QByteArray("PATCH") << QByteArray("{\"op\":\"x\"}");
        QTest::newRow("DELETE") << QByteArray("DELETE") << QByteArray();
        QTest::newRow("OPTIONS") << QByteArray("OPTIONS") << QByteArray();
        QTest::newRow("HEAD") << QByteArray("HEAD") << QByteArray();
    }
    void everyMethodIsSent()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, body);
        bindApi();
        m_server->setHandler("/api/r", [](const Request &request, QTcpSocket *socket) {
            // HEAD: the length of what a GET would return, and no body.
            const QByteArray headOrNot = request.method == "HEAD" ? QByteArray() : QByteArray("{}");
            FakeServer::reply(socket, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n" + headOrNot);
        });
        const QNetworkRequest r = request(url("/api/r"));
        HttpReply *reply = method == "PATCH" ? m_http->patch(r, body)
            : method == "DELETE"             ? m_http->deleteResource(r)
                                             : m_http->sendCustomRequest(r, method);
        const Outcome o = wait(reply);
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        const Request got = m_server->requests("/api/r").value(0);
        QCOMPARE(got.method, method);
        QCOMPARE(got.body, body);
        QVERIFY(header(got, "Authorization") == "Bearer token-1");
    }

    void aMethodMustBeAToken()
    {
        QCOMPARE(wait(m_http->sendCustomRequest(request(url("/x")), "GET /evil HTTP/1.1\r\n")).error.code(),
                 Error::Code::InvalidConfiguration);
        QCOMPARE(m_server->count("/x"), 0);
    }

    // ---- The credential's answers -------------------------------------------------------

    void aCredentialErrorComesBackAndNothingIsSent()
    {
        bindApi();
        m_credential->failWith = Error(Error::Code::SignInRequired, QStringLiteral("signed out"));
        serve("/api/x", 200);
        const Outcome o = wait(m_http->get(request(url("/api/x"))));
        QCOMPARE(o.error.code(), Error::Code::SignInRequired);
        QVERIFY(o.error.requiresSignIn());
        QCOMPARE(m_server->count("/api/x"), 0);
    }

    void aMalformedCredentialHeaderIsNeverSent_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("CRLF in the value") << QByteArray("Authorization") << QByteArray("Bearer x\r\nX-Injected: 1");
        QTest::newRow("NUL in the value") << QByteArray("Authorization") << QByteArray("Bearer x\0y", 10);
        QTest::newRow("empty value") << QByteArray("Authorization") << QByteArray();
        QTest::newRow("space in the name") << QByteArray("Auth orization") << QByteArray("Bearer x");
    }
    void aMalformedCredentialHeaderIsNeverSent()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        bindApi();
        m_credential->headerName = name;
        m_credential->forcedValue = value;
        serve("/api/x", 200);
        const Outcome o = wait(m_http->get(request(url("/api/x"))));
        QCOMPARE(o.error.code(), Error::Code::InvalidConfiguration);
        QCOMPARE(m_server->count("/api/x"), 0);
    }

    void aCredentialDestroyedBeforeItAnswersCancelsTheRequest()
    {
        auto *credential = new TestCredential;
        credential->silent = true;
        QVERIFY(!m_http->addCredential(credential, {url("/api")}));
        HttpReply *reply = m_http->get(request(url("/api/x")));
        QTRY_COMPARE(credential->authorizations, 1);
        delete credential;
        const Outcome o = wait(reply);
        QCOMPARE(o.error.code(), Error::Code::Cancelled);
        QCOMPARE(o.finishedCount, 1);
    }

    // ---- The job contract --------------------------------------------------------------

    void cancelStopsTheRequestAndFinishesOnce()
    {
        bindApi();
        m_server->setHandler("/api/slow", [](const Request &, QTcpSocket *) {});
        HttpReply *reply = m_http->get(request(url("/api/slow")));
        reply->setAutoDelete(false);
        QSignalSpy finished(reply, &Job::finished);
        QTRY_COMPARE(m_server->count("/api/slow"), 1);
        reply->cancel();
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(reply->error().code(), Error::Code::Cancelled);
        // Anything still queued arrives before a marker posted now: nothing more may come.
        bool marker = false;
        QMetaObject::invokeMethod(this, [&marker] { marker = true; }, Qt::QueuedConnection);
        QTRY_VERIFY(marker);
        QCOMPARE(finished.count(), 1);
        delete reply;
    }

    void aRetryWaitingForRetryAfterCanBeCancelled()
    {
        serve("/busy", 503, "{}", {"Retry-After: 20"});
        HttpReply *reply = m_http->get(request(url("/busy")));
        reply->setAutoDelete(false);
        QSignalSpy finished(reply, &Job::finished);
        QTRY_COMPARE(m_server->count("/busy"), 1);
        QVERIFY(!finished.wait(200)); // waiting for the retry
        reply->cancel();
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(reply->error().code(), Error::Code::Cancelled);
        delete reply;
        QCOMPARE(m_server->count("/busy"), 1);
    }

    void destroyingTheClientCancelsItsReplies()
    {
        m_server->setHandler("/slow", [](const Request &, QTcpSocket *) {});
        HttpReply *reply = m_http->get(request(url("/slow")));
        reply->setAutoDelete(false);
        QSignalSpy finished(reply, &Job::finished);
        QTRY_COMPARE(m_server->count("/slow"), 1);
        m_http.reset();
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(reply->error().code(), Error::Code::Cancelled);
        delete reply;
    }

    // ---- Secrets -------------------------------------------------------------------------

    void noTokenReachesAUrlOrALog()
    {
        QStringList log;
        g_log = &log;
        g_previousHandler = qInstallMessageHandler(captureMessage);
        QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*.debug=true"));
        bindApi();
        serve("/api/a", 302, QByteArray(), {"Location: /api/b?q=secret-query"});
        serveSequence("/api/b", {httpResponse(401, "{}", "application/json", {bearer("error=\"invalid_token\"")}),
                                 httpResponse(500, "{\"error\":\"token-1 echoed\"}")});
        const Outcome o = wait(m_http->get(request(url("/api/a"))));
        QLoggingCategory::setFilterRules(QString());
        qInstallMessageHandler(g_previousHandler);
        g_log = nullptr;
        QCOMPARE(o.error.httpStatus(), 500);
        QVERIFY(!log.isEmpty()); // debug logging was on
        for (const QString &line : std::as_const(log)) {
            QVERIFY2(!line.contains(QStringLiteral("token-")), qPrintable(line));
            QVERIFY2(!line.contains(QStringLiteral("secret-query")), qPrintable(line));
        }
        QVERIFY(!o.error.message().contains(QStringLiteral("token-")));
        QVERIFY(!o.error.message().contains(QStringLiteral("secret-query")));
        for (const QByteArray &path : {QByteArray("/api/a"), QByteArray("/api/b")})
            for (const Request &r : m_server->requests(path))
                QVERIFY(!r.target.contains("token"));
    }
};

QTEST_GUILESS_MAIN(tst_HttpClient)
#include "tst_httpclient.moc"
