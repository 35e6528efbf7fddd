// SPDX-License-Identifier: MIT
// Session refresh against a fake token endpoint: the faults a real provider will not produce on
// demand (issue 6 "Refresh failures"), freshness and lead time, one access token per resource
// (RFC 8707 §2.2), rotation persisted before use (RFC 9700 §4.14), and validation of ID tokens
// returned by a refresh (OIDC Core §12.2). Tokens go stale through an injected clock, never sleeps.
#include <keyloop/jwkscache.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/session.h>
#include <keyloop/tokenresponse.h>

#include "fakeprovider.h"
#include "store/processlock_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonArray>
#include <QtNetwork/QNetworkAccessManager>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopSessionTest;
using namespace std::chrono_literals;

namespace {

const QString kClientId = QStringLiteral("keyloop-test-app");
const QString kApi = QStringLiteral("https://api.example.test");

// A frozen wall clock that tests move by hand.
class TestClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override { return t; }
    qint64 seconds() const { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }
    QDateTime dateTime() const
    {
        return QDateTime::fromMSecsSinceEpoch(
            std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(), Qt::UTC);
    }
    void advance(std::chrono::milliseconds by) { t += by; }
    std::chrono::system_clock::time_point t = std::chrono::system_clock::time_point(std::chrono::seconds(1893456000)); // 2030-01-01
};

// MemoryTokenStore that counts operations and remembers what was committed, synchronously,
// so that a callback can check what the store holds at that very moment.
class CountingStore : public MemoryTokenStore
{
public:
    using MemoryTokenStore::MemoryTokenStore;
    int reads = 0;
    int writes = 0;
    bool failReads = false;
    bool failWrites = false;
    int removes = 0;
    QHash<QString, SessionRecord> committed;
    QList<QByteArray> writtenRefreshTokens;

    void resetCounters() { reads = writes = removes = 0; }

    // Writes wait (not committed, not finished) until releaseWrites(): a save held in flight.
    bool holdWrites = false;
    QList<QPointer<TokenStoreJob>> heldWrites;
    void releaseWrites()
    {
        holdWrites = false;
        const auto held = std::exchange(heldWrites, {});
        for (const QPointer<TokenStoreJob> &job : held)
            if (job)
                startJob(job);
    }

protected:
    void startJob(TokenStoreJob *job) override
    {
        if (holdWrites && job->operation() == TokenStoreJob::Operation::Write) {
            heldWrites.append(job);
            return;
        }
        if (failReads && job->operation() == TokenStoreJob::Operation::Read) {
            finishJob(job, Error(Error::Code::StorageFailed, QStringLiteral("injected read failure")));
            return;
        }
        if (failWrites && job->operation() == TokenStoreJob::Operation::Write) {
            finishJob(job, Error(Error::Code::StorageFailed, QStringLiteral("injected write failure")));
            return;
        }
        switch (job->operation()) {
        case TokenStoreJob::Operation::Read: ++reads; break;
        case TokenStoreJob::Operation::Write:
            ++writes;
            committed.insert(job->key(), job->record());
            writtenRefreshTokens.append(job->record().refreshToken());
            break;
        case TokenStoreJob::Operation::Remove:
            ++removes;
            committed.remove(job->key());
            break;
        case TokenStoreJob::Operation::Probe: break;
        }
        MemoryTokenStore::startJob(job);
    }
};

struct Result
{
    QByteArray token;
    Error error;
    bool called = false;
    int calls = 0;
};

QByteArray tokenJson(const QByteArray &accessToken, const QByteArray &refreshToken, const QByteArray &idToken, int expiresIn)
{
    QJsonObject o{{QStringLiteral("access_token"), QString::fromLatin1(accessToken)},
                  {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                  {QStringLiteral("expires_in"), expiresIn}};
    if (!refreshToken.isEmpty())
        o[QStringLiteral("refresh_token")] = QString::fromLatin1(refreshToken);
    if (!idToken.isEmpty())
        o[QStringLiteral("id_token")] = QString::fromLatin1(idToken);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray noStore() { return QByteArrayLiteral("Cache-Control: no-store"); }

} // namespace

class TestSessionRefresh : public QObject
{
    Q_OBJECT

    std::unique_ptr<SigningKey> m_key;
    std::unique_ptr<SigningKey> m_otherKey; // same kid, different key: a forged signature
    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<CountingStore> m_store;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    TestClock m_clock;
    int m_issued = 0; // tokens issued by the fake endpoint: at-N / rt-N
    double m_authTimeFraction = 0; // added to the original auth_time (RFC 7519 §2: may be non-integer)

    QString issuer() const { return m_server->url(QString()).toString(); }
    QString appId() const { return QStringLiteral("org.keyloop.test.sessionrefresh.%1").arg(QCoreApplication::applicationPid()); }

    QJsonObject originalClaims() const
    {
        return {{QStringLiteral("iss"), issuer()},
                {QStringLiteral("sub"), QStringLiteral("alice")},
                {QStringLiteral("aud"), kClientId},
                {QStringLiteral("iat"), m_clock.seconds()},
                {QStringLiteral("exp"), m_clock.seconds() + 3600},
                {QStringLiteral("auth_time"), double(m_clock.seconds() - 10) + m_authTimeFraction},
                {QStringLiteral("nonce"), QStringLiteral("n-0")}};
    }

    // What a well-behaved provider returns on refresh (OIDC Core §12.2): same iss, sub, aud,
    // auth_time; new iat/exp; no nonce.
    QJsonObject refreshedClaims(const QJsonObject &original) const
    {
        QJsonObject c = original;
        c.remove(QStringLiteral("nonce"));
        c[QStringLiteral("iat")] = m_clock.seconds();
        c[QStringLiteral("exp")] = m_clock.seconds() + 3600;
        return c;
    }

    Session *newSession(std::chrono::milliseconds timeout = 5s)
    {
        ClientConfiguration client;
        client.setIssuer(QUrl(issuer()));
        client.setClientId(kClientId);
        client.setScopes({QStringLiteral("openid"), QStringLiteral("offline_access")});
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        transport.setRequestTimeout(timeout);
        client.setTransport(transport);
        ProviderConfiguration provider;
        provider.setIssuer(QUrl(issuer()));
        provider.setAuthorizationEndpoint(m_server->url(QStringLiteral("/authorize")));
        provider.setTokenEndpoint(m_server->url(QStringLiteral("/token")));
        provider.setJwksUri(m_server->url(QStringLiteral("/jwks")));
        provider.setIdTokenSigningAlgValuesSupported({QStringLiteral("RS256")});
        auto *s = new Session(client, provider, m_store.get(), m_nam.get(), this);
        s->setClock(&m_clock);
        s->setAccount(QStringLiteral("alice"));
        return s;
    }

    static Error runJob(SessionJob *job)
    {
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        const Error e = spy.wait(5000) ? job->error() : Error(Error::Code::Timeout, QStringLiteral("session job hung"));
        delete job;
        return e;
    }

    // A signed-in, stored session: access token at-0 for \a resource with \a lifetime, refresh
    // token rt-0, and an ID token with originalClaims().
    bool signIn(Session *s, std::chrono::seconds lifetime = 60s, const QString &resource = QString())
    {
        TokenResponse r;
        r.setAccessToken("at-0");
        r.setTokenType(QStringLiteral("Bearer"));
        r.setExpiresIn(lifetime);
        r.setReceivedAt(m_clock.dateTime());
        r.setRefreshToken("rt-0");
        const QJsonObject claims = originalClaims();
        r.setIdToken(m_key->sign(claims));
        const Error e = runJob(s->adoptSignIn(r, claims, resource));
        if (e)
            qWarning() << "adoptSignIn:" << e;
        m_store->resetCounters();
        m_server->clearRequests();
        return !e && s->isPersistent();
    }

    static Result fresh(Session *s, const QString &resource = QString())
    {
        Result r;
        QObject context;
        s->freshAccessToken(resource, &context, [&r](const QByteArray &token, const Error &e) {
            r.token = token;
            r.error = e;
            r.called = true;
        });
        if (!QTest::qWaitFor([&] { return r.called; }, 10000))
            r.error = Error(Error::Code::Cancelled, QStringLiteral("freshAccessToken never called back"));
        return r;
    }

    static Result freshId(Session *s)
    {
        Result r;
        QObject context;
        s->freshIdToken(&context, [&r](const QByteArray &token, const Error &e) {
            r.token = token;
            r.error = e;
            r.called = true;
            ++r.calls;
        });
        if (!QTest::qWaitFor([&] { return r.called; }, 10000))
            r.error = Error(Error::Code::Cancelled, QStringLiteral("freshIdToken never called back"));
        return r;
    }

    // Asks for an ID token without waiting for it.
    std::shared_ptr<Result> freshIdLater(Session *s)
    {
        auto r = std::make_shared<Result>();
        s->freshIdToken(this, [r](const QByteArray &token, const Error &e) {
            r->token = token;
            r->error = e;
            r->called = true;
            ++r->calls;
        });
        return r;
    }

    // Asks for a token without waiting for it.
    std::shared_ptr<Result> freshLater(Session *s, const QString &resource = QString())
    {
        auto r = std::make_shared<Result>();
        s->freshAccessToken(resource, this, [r](const QByteArray &token, const Error &e) {
            r->token = token;
            r->error = e;
            r->called = true;
            ++r->calls;
        });
        return r;
    }

    // A token response for user \a sub: a new sign-in (another grant).
    std::pair<TokenResponse, QJsonObject> signInResponse(const QString &sub, const QByteArray &suffix)
    {
        TokenResponse r;
        r.setAccessToken("at-" + suffix);
        r.setTokenType(QStringLiteral("Bearer"));
        r.setExpiresIn(60s);
        r.setReceivedAt(m_clock.dateTime());
        r.setRefreshToken("rt-" + suffix);
        QJsonObject claims = originalClaims();
        claims[QStringLiteral("sub")] = sub;
        r.setIdToken(m_key->sign(claims));
        return {r, claims};
    }

    // Holds the answers to \a path: the sockets wait in the returned list until answered.
    std::shared_ptr<QList<QPointer<QTcpSocket>>> holdAnswers(const QByteArray &path)
    {
        auto held = std::make_shared<QList<QPointer<QTcpSocket>>>();
        m_server->setHandler(path, [held](const Request &, QTcpSocket *socket) { held->append(socket); });
        return held;
    }

    // True when no operation of \a s holds its account lock.
    bool lockIsFree(Session *s)
    {
        ProcessLock probe(appId(), s->storeKey());
        QSignalSpy acquired(&probe, &ProcessLock::acquired);
        probe.acquire(std::chrono::milliseconds(500));
        const bool ok = acquired.wait(2000);
        probe.release();
        return ok;
    }

    std::pair<Error, SessionRecord> stored(Session *s)
    {
        TokenStoreJob *job = m_store->read(s->storeKey());
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        std::pair<Error, SessionRecord> out{Error(Error::Code::Timeout, QStringLiteral("store read hung")), SessionRecord()};
        if (spy.wait(5000))
            out = {job->error(), job->record()};
        delete job;
        return out;
    }

    bool writeStored(Session *s, const SessionRecord &record)
    {
        TokenStoreJob *job = m_store->write(s->storeKey(), record);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        return spy.wait(5000);
    }

    // The endpoint answers every refresh with at-N (and rt-N when \a rotate), with an ID token
    // made by \a idToken when given.
    void answerTokens(bool rotate = true, std::function<QByteArray()> idToken = {}, int expiresIn = 60)
    {
        m_server->setHandler("/token", [this, rotate, idToken, expiresIn](const Request &, QTcpSocket *socket) {
            const QByteArray n = QByteArray::number(++m_issued);
            FakeServer::reply(socket, httpResponse(200, tokenJson("at-" + n, rotate ? "rt-" + n : QByteArray(),
                                                                  idToken ? idToken() : QByteArray(), expiresIn),
                                                   "application/json", {noStore()}));
        });
    }

    void serveJwks()
    {
        m_server->setHandler("/jwks", [this](const Request &, QTcpSocket *socket) {
            const QJsonObject jwks{{QStringLiteral("keys"), QJsonArray{m_key->publicJwk()}}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(jwks).toJson(QJsonDocument::Compact),
                                                   "application/json", {"Cache-Control: max-age=3600"}));
        });
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = std::make_unique<SigningKey>(QStringLiteral("key-1"));
        m_otherKey = std::make_unique<SigningKey>(QStringLiteral("key-1"));
        QVERIFY(m_key->isValid());
        QVERIFY(m_otherKey->isValid());
    }

    void init()
    {
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_server->pinPort();
        m_store = std::make_unique<CountingStore>(appId());
        m_nam = std::make_unique<QNetworkAccessManager>();
        m_issued = 0;
        m_authTimeFraction = 0;
        answerTokens();
        serveJwks();
    }

    void cleanup()
    {
        qDeleteAll(findChildren<Session *>(Qt::FindDirectChildrenOnly));
        m_nam.reset();
        m_store.reset();
        m_server.reset();
    }

    // ---- freshness and lead time --------------------------------------------------------

    void freshTokenIsHandedOutWithoutRequest()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        bool called = false;
        QByteArray token;
        s->freshAccessToken(QString(), this, [&](const QByteArray &t, const Error &e) {
            QVERIFY(!e);
            token = t;
            called = true;
        });
        QVERIFY2(!called, "the callback must be queued, never called from inside freshAccessToken()");
        QTRY_VERIFY(called);
        QVERIFY(token == "at-0");
        QCOMPARE(m_server->count("/token"), 0);
        QCOMPARE(m_store->reads, 0); // a fresh token costs no keychain read
    }

    void staleTokenIsRefreshedOnceForManyCallers()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        m_clock.advance(120s);
        constexpr int callers = 100;
        int done = 0;
        int good = 0;
        QObject context;
        for (int i = 0; i < callers; ++i)
            s->freshAccessToken(QString(), &context, [&](const QByteArray &t, const Error &e) {
                ++done;
                if (!e && t == "at-1")
                    ++good;
            });
        QTRY_COMPARE(done, callers);
        QCOMPARE(good, callers);
        QCOMPARE(m_server->count("/token"), 1);
        QVERIFY(m_server->requests("/token").at(0).field(QStringLiteral("grant_type")) == "refresh_token");
        QVERIFY(m_server->requests("/token").at(0).field(QStringLiteral("refresh_token")) == "rt-0");
    }

    void leadTimeIsCappedAtHalfTheLifetime_data()
    {
        QTest::addColumn<int>("lifetime");   // s
        QTest::addColumn<int>("leadTime");   // s
        QTest::addColumn<int>("elapsed");    // ms after issue
        QTest::addColumn<bool>("refreshed");
        QTest::newRow("2 s token at birth, 60 s lead") << 2 << 60 << 0 << false;
        QTest::newRow("2 s token after 0.9 s") << 2 << 60 << 900 << false;
        QTest::newRow("2 s token after 1.1 s") << 2 << 60 << 1100 << true;
        QTest::newRow("300 s token, 60 s lead, 239 s") << 300 << 60 << 239000 << false;
        QTest::newRow("300 s token, 60 s lead, 241 s") << 300 << 60 << 241000 << true;
        QTest::newRow("300 s token, 10 s lead, 289 s") << 300 << 10 << 289000 << false;
        QTest::newRow("300 s token, 10 s lead, 291 s") << 300 << 10 << 291000 << true;
        QTest::newRow("300 s token, no lead, 299.9 s") << 300 << 0 << 299900 << false;
        QTest::newRow("300 s token, no lead, expired") << 300 << 0 << 300000 << true;
    }

    void leadTimeIsCappedAtHalfTheLifetime()
    {
        QFETCH(int, lifetime);
        QFETCH(int, leadTime);
        QFETCH(int, elapsed);
        QFETCH(bool, refreshed);
        Session *s = newSession();
        s->setRefreshLeadTime(std::chrono::seconds(leadTime));
        QVERIFY(signIn(s, std::chrono::seconds(lifetime)));
        m_clock.advance(std::chrono::milliseconds(elapsed));
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QCOMPARE(m_server->count("/token"), refreshed ? 1 : 0);
        QVERIFY(r.token == (refreshed ? QByteArray("at-1") : QByteArray("at-0")));
    }

    // ---- one access token per resource (RFC 8707 §2.2) ---------------------------------

    void keepsOneAccessTokenPerResource()
    {
        Session *s = newSession();
        QVERIFY(signIn(s)); // at-0 is the provider's token (no resource)

        const Result api = fresh(s, kApi);
        QVERIFY2(!api.error, qPrintable(api.error.toString()));
        QVERIFY(api.token == "at-1");
        QCOMPARE(m_server->count("/token"), 1);
        const Request first = m_server->requests("/token").at(0);
        QCOMPARE(first.form().allQueryItemValues(QStringLiteral("resource"), QUrl::FullyDecoded), QStringList{kApi});

        const Result provider = fresh(s);
        QVERIFY(!provider.error);
        QVERIFY(provider.token == "at-0"); // still fresh, kept apart from the API's token
        QCOMPARE(m_server->count("/token"), 1);
        QVERIFY(s->record().accessToken(QString()).token == "at-0");
        QVERIFY(s->record().accessToken(kApi).token == "at-1");
        QVERIFY(stored(s).second.accessToken(kApi).token == "at-1");

        // Both stale: the provider's token is refreshed without a resource indicator.
        m_clock.advance(120s);
        const Result again = fresh(s);
        QVERIFY(!again.error);
        QVERIFY(again.token == "at-2");
        QCOMPARE(m_server->count("/token"), 2);
        QVERIFY(!m_server->requests("/token").at(1).hasField(QStringLiteral("resource")));
        QVERIFY(m_server->requests("/token").at(1).field(QStringLiteral("refresh_token")) == "rt-1");
        QVERIFY(s->record().accessToken(kApi).token == "at-1");
    }

    void concurrentCallersForTwoResourcesGetOneRefreshEach()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        m_clock.advance(120s);
        Result provider, api;
        QObject context;
        s->freshAccessToken(QString(), &context, [&](const QByteArray &t, const Error &e) { provider = {t, e, true}; });
        s->freshAccessToken(kApi, &context, [&](const QByteArray &t, const Error &e) { api = {t, e, true}; });
        s->freshAccessToken(kApi, &context, [&](const QByteArray &, const Error &) {});
        QTRY_VERIFY(provider.called && api.called);
        QVERIFY(!provider.error && !api.error);
        QVERIFY(provider.token != api.token);
        QCOMPARE(m_server->count("/token"), 2);
        // Sequential: the second refresh spends the token the first one rotated in.
        QVERIFY(m_server->requests("/token").at(1).field(QStringLiteral("refresh_token")) == "rt-1");
        int withResource = 0;
        for (const Request &r : m_server->requests("/token"))
            withResource += r.hasField(QStringLiteral("resource")) ? 1 : 0;
        QCOMPARE(withResource, 1);
    }

    // ---- rotation (RFC 9700 §4.14, RFC 6749 §6) ----------------------------------------

    void rotatedRefreshTokenIsStoredBeforeTheCallback()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        m_clock.advance(120s);
        bool called = false;
        bool storedFirst = false;
        const QString key = s->storeKey();
        s->freshAccessToken(QString(), this, [&](const QByteArray &t, const Error &e) {
            called = true;
            // What the store holds right now, before the new access token is used.
            storedFirst = !e && t == "at-1" && m_store->committed.value(key).refreshToken() == "rt-1"
                && m_store->committed.value(key).accessToken(QString()).token == "at-1";
        });
        QTRY_VERIFY(called);
        QVERIFY(storedFirst);
        QVERIFY(s->record().refreshToken() == "rt-1");
        QVERIFY(s->isPersistent());
    }

    void responseWithoutRefreshTokenKeepsTheOldOne()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        answerTokens(/*rotate*/ false);
        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(r.token == "at-1");
        QVERIFY(s->record().refreshToken() == "rt-0");
        const auto [error, record] = stored(s);
        QVERIFY(!error);
        QVERIFY(record.refreshToken() == "rt-0");
        QVERIFY(record.accessToken(QString()).token == "at-1");
        QVERIFY(s->isPersistent());
    }

    // ---- transient failures keep everything ---------------------------------------------

    void transientFailureKeepsTheSession_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("503 with Retry-After") << QStringLiteral("503") << Error::Code::HttpError;
        QTest::newRow("500 with a JSON body") << QStringLiteral("500") << Error::Code::HttpError;
        QTest::newRow("502 HTML") << QStringLiteral("502") << Error::Code::HttpError;
        QTest::newRow("429 Too Many Requests") << QStringLiteral("429") << Error::Code::HttpError;
        QTest::newRow("408 Request Timeout") << QStringLiteral("408") << Error::Code::HttpError;
        QTest::newRow("400 temporarily_unavailable") << QStringLiteral("temporarily_unavailable") << Error::Code::OAuthError;
        QTest::newRow("dropped mid-response") << QStringLiteral("drop") << Error::Code::NetworkError;
        QTest::newRow("closed before any answer") << QStringLiteral("close") << Error::Code::NetworkError;
        QTest::newRow("connection refused") << QStringLiteral("refused") << Error::Code::NetworkError;
        QTest::newRow("timeout") << QStringLiteral("silence") << Error::Code::Timeout;
    }

    void transientFailureKeepsTheSession()
    {
        QFETCH(QString, fault);
        QFETCH(Error::Code, code);
        Session *s = newSession(fault == QLatin1String("silence") ? 300ms : 5000ms);
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const SessionRecord before = stored(s).second;
        QVERIFY(!before.isNull());
        m_store->resetCounters();

        FakeServer::Handler handler;
        if (fault == QLatin1String("503")) {
            handler = [](const Request &, QTcpSocket *sock) {
                FakeServer::reply(sock, httpResponse(503, "{\"error\":\"server_error\"}", "application/json", {"Retry-After: 120"}));
            };
        } else if (fault == QLatin1String("500")) {
            handler = [](const Request &, QTcpSocket *sock) {
                FakeServer::reply(sock, httpResponse(500, "{\"error\":\"invalid_grant\"}"));
            };
        } else if (fault == QLatin1String("502")) {
            handler = [](const Request &, QTcpSocket *sock) {
                FakeServer::reply(sock, httpResponse(502, "<html>Bad Gateway</html>", "text/html"));
            };
        } else if (fault == QLatin1String("429")) {
            handler = [](const Request &, QTcpSocket *sock) {
                FakeServer::reply(sock, httpResponse(429, QByteArray(), QByteArray(), {"Retry-After: 5"}));
            };
        } else if (fault == QLatin1String("408")) {
            handler = [](const Request &, QTcpSocket *sock) { FakeServer::reply(sock, httpResponse(408)); };
        } else if (fault == QLatin1String("temporarily_unavailable")) {
            handler = [](const Request &, QTcpSocket *sock) {
                FakeServer::reply(sock, httpResponse(400, "{\"error\":\"temporarily_unavailable\"}"));
            };
        } else if (fault == QLatin1String("drop")) {
            handler = [](const Request &, QTcpSocket *sock) {
                // Headers promise 400 bytes; the connection ends after a few.
                sock->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"access_token\":\"at-");
                sock->flush();
                sock->disconnectFromHost();
            };
        } else if (fault == QLatin1String("close")) {
            handler = [](const Request &, QTcpSocket *sock) { sock->disconnectFromHost(); };
        } else if (fault == QLatin1String("silence")) {
            handler = [](const Request &, QTcpSocket *) {}; // accepts, reads, never answers
        } else if (fault == QLatin1String("refused")) {
            m_server->close();
        }
        if (handler)
            m_server->setHandler("/token", handler);

        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY(r.called);
        // A connection dropped after the status line: Qt reports RemoteHostClosedError with
        // status 200; HttpExchange turns that into a transient network error.
        QCOMPARE(r.error.code(), code);
        QVERIFY(r.error.isTransient());
        QVERIFY(!r.error.requiresSignIn());
        QVERIFY(r.token.isEmpty());
        QVERIFY(!r.error.message().contains(QLatin1String("rt-0")));
        QVERIFY(!r.error.message().contains(QLatin1String("at-")));
        if (fault == QLatin1String("refused"))
            QCOMPARE(m_server->count("/token"), 0);
        else if (fault == QLatin1String("close"))
            QVERIFY(m_server->count("/token") >= 1); // Qt may resend once on a connection closed unanswered
        else
            QCOMPARE(m_server->count("/token"), 1);

        // Everything kept: memory, store, no sign-in asked for.
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(s->isPersistent());
        QVERIFY(s->record().refreshToken() == "rt-0");
        QVERIFY(s->record().accessToken(QString()).token == "at-0");
        QCOMPARE(m_store->writes, 0);
        QCOMPARE(m_store->removes, 0);
        const auto [error, after] = stored(s);
        QVERIFY(!error);
        QVERIFY(after == before);

        // RFC 9110 §10.2.3: Retry-After is kept in the error and honoured: until then, callers
        // get the error again without a request.
        const std::chrono::seconds retryAfter = fault == QLatin1String("503") ? 120s
            : fault == QLatin1String("429")                                   ? 5s
                                                                              : 0s;
        QCOMPARE(r.error.retryAfter(), retryAfter);
        m_server->clearRequests();
        if (retryAfter.count() > 0) {
            m_clock.advance(retryAfter / 2);
            const Result early = fresh(s);
            QCOMPARE(early.error.code(), code);
            QVERIFY(early.error.isTransient());
            QVERIFY(early.error.retryAfter().count() > 0);
            QVERIFY(early.error.retryAfter() <= retryAfter / 2 + 1s);
            QCOMPARE(m_server->count("/token"), 0);
            m_clock.advance(retryAfter / 2 + 1s);
        }

        // The provider recovers: the next call refreshes with the kept token.
        if (fault == QLatin1String("refused"))
            QVERIFY(m_server->listen(m_server->port()));
        answerTokens();
        const Result later = fresh(s);
        QVERIFY2(!later.error, qPrintable(later.error.toString()));
        QVERIFY(later.token == "at-1");
        QCOMPARE(m_server->count("/token"), 1);
        QVERIFY(m_server->requests("/token").at(0).field(QStringLiteral("refresh_token")) == "rt-0");
        QCOMPARE(signInRequired.count(), 0);
    }

    // ---- the grant is gone: after one re-read, sign in again ---------------------------

    void rejectedGrantRequiresSignIn_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        // RFC 6749 §5.2: only invalid_grant — and a bare 400 without a JSON body, how e.g.
        // glewlwyd answers a dead refresh token — says the grant is gone.
        QTest::newRow("bare 400") << 400 << QByteArray();
        QTest::newRow("400 invalid_grant") << 400 << QByteArray("{\"error\":\"invalid_grant\",\"error_description\":\"grant revoked\"}");
        QTest::newRow("400 unparseable JSON") << 400 << QByteArray("{\"error\":");
    }

    void rejectedGrantRequiresSignIn()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        m_server->setHandler("/token", [status, body](const Request &, QTcpSocket *sock) {
            FakeServer::reply(sock, httpResponse(status, body, body.startsWith('{') ? "application/json" : "text/html"));
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QCOMPARE(r.error.code(), Error::Code::SignInRequired);
        QVERIFY(r.error.requiresSignIn());
        QVERIFY(r.token.isEmpty());
        QCOMPARE(m_server->count("/token"), 1);
        // One read under the lock before the refresh, one re-read before giving up.
        QCOMPARE(m_store->reads, 2);
        QCOMPARE(m_store->removes, 1);
        QCOMPARE(signInRequired.count(), 1);
        QVERIFY(!s->isSignedIn());
        QVERIFY(!s->isPersistent());
        QCOMPARE(stored(s).first.code(), Error::Code::NotFound);
        QVERIFY(m_store->keys().isEmpty());

        // Later calls fail at once, without a request.
        const Result again = fresh(s);
        QCOMPARE(again.error.code(), Error::Code::SignInRequired);
        QCOMPARE(m_server->count("/token"), 1);
    }

    // ---- the client or the path is wrong, not the grant: keep the session --------------

    void otherAnswersKeepTheSession_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("401 invalid_client (a stale secret)")
            << 401 << QByteArray("{\"error\":\"invalid_client\"}") << Error::Code::ClientAuthenticationFailed;
        QTest::newRow("400 unauthorized_client")
            << 400 << QByteArray("{\"error\":\"unauthorized_client\"}") << Error::Code::ClientAuthenticationFailed;
        QTest::newRow("bare 401") << 401 << QByteArray() << Error::Code::UnexpectedTokenResponse;
        QTest::newRow("403 page from a firewall") << 403 << QByteArray("<html>Forbidden</html>") << Error::Code::UnexpectedTokenResponse;
        QTest::newRow("404 misrouted endpoint") << 404 << QByteArray("<html>Not Found</html>") << Error::Code::UnexpectedTokenResponse;
        QTest::newRow("403 with an unknown OAuth error")
            << 403 << QByteArray("{\"error\":\"access_denied\"}") << Error::Code::UnexpectedTokenResponse;
    }

    void otherAnswersKeepTheSession()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Code, code);
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const SessionRecord before = stored(s).second;
        m_server->setHandler("/token", [status, body](const Request &, QTcpSocket *sock) {
            FakeServer::reply(sock, httpResponse(status, body, body.startsWith('{') ? "application/json" : "text/html"));
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QCOMPARE(r.error.code(), code);
        QCOMPARE(r.error.httpStatus(), status);
        QVERIFY(!r.error.requiresSignIn());
        QVERIFY(!r.error.isTransient());
        QCOMPARE(m_server->count("/token"), 1); // not retried automatically
        QCOMPARE(signInRequired.count(), 0);
        QCOMPARE(m_store->removes, 0);
        QCOMPARE(m_store->writes, 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(stored(s).second == before);

        // The next call tries again with the same refresh token.
        answerTokens();
        const Result later = fresh(s);
        QVERIFY2(!later.error, qPrintable(later.error.toString()));
        QVERIFY(m_server->requests("/token").at(1).field(QStringLiteral("refresh_token")) == "rt-0");
    }

    // ---- one operation at a time; stale results are dropped (issue 10) ----------------

    void refreshReturningAfterAnAccountSwitchIsDropped_data()
    {
        QTest::addColumn<QByteArray>("heldPath");
        QTest::newRow("token response held") << QByteArray("/token");
        QTest::newRow("ID token keys held") << QByteArray("/jwks");
    }

    void refreshReturningAfterAnAccountSwitchIsDropped()
    {
        QFETCH(QByteArray, heldPath);
        Session *s = newSession();
        QVERIFY(signIn(s)); // alice, rt-0
        const QByteArray aliceGrant = s->record().grantId();
        QVERIFY(!aliceGrant.isEmpty());
        auto held = holdAnswers(heldPath);
        if (heldPath == "/jwks") // the refresh returns a rotated token with an ID token to check
            answerTokens(true, [this, original = originalClaims()] { return m_key->sign(refreshedClaims(original)); });
        m_clock.advance(120s);
        auto early = freshLater(s);
        QTRY_COMPARE(held->size(), 1); // alice's refresh is in flight

        // The app switches to bob meanwhile.
        const auto [bobTokens, bobClaims] = signInResponse(QStringLiteral("bob"), "bob");
        SessionJob *adopt = s->adoptSignIn(bobTokens, bobClaims);
        adopt->setAutoDelete(false);
        QSignalSpy adopted(adopt, &Job::finished);
        adopt->start();
        if (heldPath == "/jwks") {
            // The refresh holds the lock while it checks the ID token; now alice's result comes back.
            for (const auto &socket : *held)
                if (socket)
                    FakeServer::reply(socket, httpResponse(200, QJsonDocument(QJsonObject{{QStringLiteral("keys"),
                                                                 QJsonArray{m_key->publicJwk()}}}).toJson(), "application/json"));
        }
        QTRY_COMPARE(adopted.count(), 1);
        QVERIFY2(!adopt->error(), qPrintable(adopt->error().toString()));
        delete adopt;
        if (heldPath == "/token") // alice's answer arrives after the switch
            for (const auto &socket : *held)
                if (socket)
                    FakeServer::reply(socket, httpResponse(200, tokenJson("at-late", "rt-late", QByteArray(), 60)));

        // Bob's identity with bob's tokens, in memory and in the store; alice's late result is nowhere.
        QTRY_VERIFY(early->called);
        QVERIFY(early->token == "at-bob");
        QCOMPARE(s->record().subject(), QStringLiteral("bob"));
        QVERIFY(s->record().refreshToken() == "rt-bob");
        QVERIFY(s->record().grantId() != aliceGrant);
        const auto [error, inStore] = stored(s);
        QVERIFY(!error);
        QCOMPARE(inStore.subject(), QStringLiteral("bob"));
        QVERIFY(inStore.refreshToken() == "rt-bob");
        QVERIFY(inStore.grantId() == s->record().grantId());
        QVERIFY(!m_store->writtenRefreshTokens.contains("rt-late"));
        QVERIFY(lockIsFree(s));
    }

    void refreshReturningAfterSignOutWritesNothing_data()
    {
        QTest::addColumn<QByteArray>("heldPath");
        QTest::newRow("token response held") << QByteArray("/token");
        QTest::newRow("ID token keys held") << QByteArray("/jwks");
    }

    void refreshReturningAfterSignOutWritesNothing()
    {
        QFETCH(QByteArray, heldPath);
        Session *s = newSession();
        QVERIFY(signIn(s));
        auto held = holdAnswers(heldPath);
        if (heldPath == "/jwks")
            answerTokens(true, [this, original = originalClaims()] { return m_key->sign(refreshedClaims(original)); });
        m_clock.advance(120s);
        auto waiting = freshLater(s);
        QTRY_COMPARE(held->size(), 1);

        SessionJob *signOut = s->signOut();
        signOut->setAutoDelete(false);
        QSignalSpy signedOut(signOut, &Job::finished);
        signOut->start();
        QTRY_VERIFY(waiting->called); // the waiting caller hears at once
        QCOMPARE(waiting->error.code(), Error::Code::SignInRequired);
        QVERIFY(!s->isSignedIn());
        // The refresh's answer comes back afterwards.
        for (const auto &socket : *held)
            if (socket)
                FakeServer::reply(socket, heldPath == "/token"
                                              ? httpResponse(200, tokenJson("at-late", "rt-late", QByteArray(), 60))
                                              : httpResponse(200, QJsonDocument(QJsonObject{{QStringLiteral("keys"),
                                                                     QJsonArray{m_key->publicJwk()}}}).toJson(), "application/json"));
        QTRY_COMPARE(signedOut.count(), 1);
        QVERIFY2(!signOut->error(), qPrintable(signOut->error().toString()));
        delete signOut;

        // Nothing brought the session back: not in memory, not in the store.
        QCOMPARE(stored(s).first.code(), Error::Code::NotFound);
        QVERIFY(m_store->keys().isEmpty());
        QCOMPARE(m_store->writes, 0);
        QVERIFY(!s->isSignedIn());
        QCOMPARE(waiting->calls, 1);
        QVERIFY(lockIsFree(s));
        const Result after = fresh(s);
        QCOMPARE(after.error.code(), Error::Code::SignInRequired);
    }

    void saveAndRefreshOverlapInBothOrders_data()
    {
        QTest::addColumn<bool>("adoptFirst");
        QTest::newRow("a refresh asked for while a sign-in is being saved") << true;
        QTest::newRow("a sign-in adopted while a refresh is being saved") << false;
    }

    void saveAndRefreshOverlapInBothOrders()
    {
        QFETCH(bool, adoptFirst);
        const QString api = QStringLiteral("https://api.example");
        Session *s = newSession();
        QVERIFY(signIn(s)); // alice
        if (!adoptFirst)
            m_clock.advance(120s); // alice's token is stale: her refresh runs first
        const auto [bobTokens, bobClaims] = signInResponse(QStringLiteral("bob"), "bob");
        std::shared_ptr<Result> token;
        m_store->holdWrites = true;
        SessionJob *adopt = nullptr;
        if (adoptFirst) {
            adopt = s->adoptSignIn(bobTokens, bobClaims);
            adopt->setAutoDelete(false);
            adopt->start();
            QTRY_COMPARE(m_store->heldWrites.size(), 1); // bob's save is in flight, under the lock
            token = freshLater(s, api);                  // needs a refresh (another resource)
        } else {
            token = freshLater(s);
            QTRY_COMPARE(m_store->heldWrites.size(), 1); // alice's rotated tokens being saved
            adopt = s->adoptSignIn(bobTokens, bobClaims);
            adopt->setAutoDelete(false);
            adopt->start();
        }
        QSignalSpy adopted(adopt, &Job::finished);
        m_store->releaseWrites(); // later writes are not held either
        QTRY_VERIFY(token->called);
        QVERIFY(adopted.count() == 1 || adopted.wait());
        QVERIFY2(!adopt->error(), qPrintable(adopt->error().toString()));
        delete adopt;
        QVERIFY2(!token->error, qPrintable(token->error.toString()));
        if (adoptFirst)
            QVERIFY(token->token.startsWith("at-")); // bob's refresh for the API
        else
            QVERIFY2(token->token == "at-bob", token->token.constData()); // alice's late result is not handed out

        // The store ends with bob's grant, written last; no lock is left held.
        QTRY_VERIFY(!s->isSaving());
        const auto [error, inStore] = stored(s);
        QVERIFY(!error);
        QCOMPARE(inStore.subject(), QStringLiteral("bob"));
        QVERIFY(inStore.grantId() == s->record().grantId());
        QCOMPARE(s->record().subject(), QStringLiteral("bob"));
        QVERIFY(lockIsFree(s));
    }

    void signOutWaitsForAnotherProcessesLockThenReportsBusy()
    {
        qputenv("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS", "300");
        Session *s = newSession();
        QVERIFY(signIn(s));
        // Another process is refreshing: it holds the account lock.
        ProcessLock other(appId(), s->storeKey());
        QSignalSpy acquired(&other, &ProcessLock::acquired);
        other.acquire();
        QVERIFY(acquired.wait());
        SessionJob *job = s->signOut();
        job->setAutoDelete(false);
        QSignalSpy finished(job, &Job::finished);
        job->start();
        // With test hooks the wait is 300 ms; without them (the sanitizer tree) the real 10 s.
        QVERIFY(finished.wait(15000));
        qunsetenv("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS");
        QCOMPARE(job->error().code(), Error::Code::SessionBusy);
        QCOMPARE(job->error().domain(), Error::Domain::Storage);
        delete job;
        QCOMPARE(m_store->removes, 0); // nothing deleted without the lock
        other.release();
        // Tried again once the other process is done: removed.
        QVERIFY(!runJob(s->signOut()));
        QCOMPARE(stored(s).first.code(), Error::Code::NotFound);
    }

    void restoreRejectsAnotherSessionsRecord()
    {
        Session *s = newSession();
        SessionRecord r;
        r.setIssuer(issuer());
        r.setClientId(QStringLiteral("another-client"));
        r.setRefreshToken("rt-x");
        QCOMPARE(runJob(s->restore(r)).code(), Error::Code::InvalidConfiguration);
        QVERIFY(!s->isSignedIn());
        r.setClientId(kClientId);
        r.setAccount(QStringLiteral("bob"));
        QCOMPARE(runJob(s->restore(r)).code(), Error::Code::InvalidConfiguration);
        r.setAccount(QStringLiteral("alice"));
        QVERIFY(!runJob(s->restore(r)));
        QVERIFY(s->isSignedIn());
    }

    void unconfirmableStoreNeverSpendsTheRefreshToken()
    {
        Session *s = newSession();
        QVERIFY(signIn(s)); // saved: other processes may hold (and rotate) this token
        m_store->failReads = true;
        m_clock.advance(120s);
        const Result r = fresh(s);
        m_store->failReads = false;
        QCOMPARE(r.error.domain(), Error::Domain::Storage);
        QVERIFY(r.error.isTransient());
        QCOMPARE(m_server->count("/token"), 0); // never spent
        QVERIFY(s->isSignedIn());
        const Result later = fresh(s);
        QVERIFY2(!later.error, qPrintable(later.error.toString()));
    }

    void failedSaveIsRetriedAtTheNextUse()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy storageFailed(s, &Session::storageFailed);
        m_store->failWrites = true;
        m_clock.advance(120s);
        const Result r = fresh(s); // rotates to rt-1; the save fails
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(r.token == "at-1");
        QCOMPARE(storageFailed.count(), 1);
        QVERIFY(!s->isPersistent());
        QVERIFY(stored(s).second.refreshToken() == "rt-0");

        m_store->failWrites = false;
        m_clock.advance(2s); // past the first backoff; the token is still fresh
        const Result again = fresh(s);
        QVERIFY(again.token == "at-1");
        QTRY_VERIFY(s->isPersistent());
        QVERIFY(stored(s).second.refreshToken() == "rt-1");
        QCOMPARE(m_server->count("/token"), 1);
    }

    void failedSaveIsNotRetriedOverAnotherProcessesWrite()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        m_store->failWrites = true;
        m_clock.advance(120s);
        QVERIFY(!fresh(s).error); // rt-1 in memory only
        m_store->failWrites = false;
        // Another process writes the store meanwhile.
        SessionRecord theirs = stored(s).second;
        theirs.setRefreshToken("rt-theirs");
        QVERIFY(writeStored(s, theirs));
        m_clock.advance(2s);
        const int readsBefore = m_store->reads;
        QVERIFY(!fresh(s).error);
        QTRY_VERIFY(m_store->reads > readsBefore); // the retry read the store (a write would follow it)
        QVERIFY(stored(s).second.refreshToken() == "rt-theirs"); // not overwritten
    }

    // ---- the request was wrong, not the grant: keep the session ------------------------

    void requestErrorsKeepTheSession_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("oauthError");
        QTest::newRow("invalid_target (RFC 8707)") << QByteArray("{\"error\":\"invalid_target\"}") << QStringLiteral("invalid_target");
        QTest::newRow("invalid_scope") << QByteArray("{\"error\":\"invalid_scope\"}") << QStringLiteral("invalid_scope");
        QTest::newRow("invalid_request") << QByteArray("{\"error\":\"invalid_request\"}") << QStringLiteral("invalid_request");
    }

    void requestErrorsKeepTheSession()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, oauthError);
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const SessionRecord before = stored(s).second;
        m_server->setHandler("/token", [body](const Request &, QTcpSocket *sock) {
            FakeServer::reply(sock, httpResponse(400, body));
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QCOMPARE(r.error.code(), Error::Code::OAuthError);
        QCOMPARE(r.error.oauthError(), oauthError);
        QVERIFY(!r.error.requiresSignIn());
        QCOMPARE(signInRequired.count(), 0);
        QCOMPARE(m_store->removes, 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(stored(s).second.refreshToken() == before.refreshToken());
    }

    void invalidGrantAfterRotationElsewhereRetriesWithTheStoredToken()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const SessionRecord mine = stored(s).second;
        m_server->setHandler("/token", [this, s, mine](const Request &request, QTcpSocket *sock) {
            if (request.field(QStringLiteral("refresh_token")) == "rt-0") {
                // Meanwhile another process (not sharing our lock) rotated the token and saved
                // its (already stale) result; our rt-0 is spent.
                SessionRecord other = mine;
                other.setRefreshToken("rt-other");
                SessionAccessToken stale = other.accessToken(QString());
                stale.token = "at-other";
                other.setAccessToken(QString(), stale);
                QPointer<QTcpSocket> socket(sock);
                TokenStoreJob *job = m_store->write(s->storeKey(), other);
                connect(job, &Job::finished, this, [socket] {
                    if (socket)
                        FakeServer::reply(socket, httpResponse(400, "{\"error\":\"invalid_grant\"}"));
                });
                job->start();
                return;
            }
            if (request.field(QStringLiteral("refresh_token")) == "rt-other") {
                FakeServer::reply(sock, httpResponse(200, tokenJson("at-new", "rt-new", QByteArray(), 60), "application/json", {noStore()}));
                return;
            }
            FakeServer::reply(sock, httpResponse(400, "{\"error\":\"invalid_grant\"}"));
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(r.token == "at-new");
        QCOMPARE(m_server->count("/token"), 2);
        QVERIFY(m_server->requests("/token").at(1).field(QStringLiteral("refresh_token")) == "rt-other");
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(s->record().refreshToken() == "rt-new");
        QVERIFY(stored(s).second.refreshToken() == "rt-new");
    }

    void invalidGrantAfterFreshRotationElsewhereAdoptsItsTokens()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const SessionRecord mine = stored(s).second;
        m_clock.advance(120s);
        m_server->setHandler("/token", [this, s, mine](const Request &, QTcpSocket *sock) {
            SessionRecord other = mine;
            other.setRefreshToken("rt-other");
            SessionAccessToken token;
            token.token = "at-other";
            token.issuedAt = m_clock.dateTime();
            token.expiresAt = m_clock.dateTime().addSecs(60);
            other.setAccessToken(QString(), token);
            QPointer<QTcpSocket> socket(sock);
            TokenStoreJob *job = m_store->write(s->storeKey(), other);
            connect(job, &Job::finished, this, [socket] {
                if (socket)
                    FakeServer::reply(socket, httpResponse(400, "{\"error\":\"invalid_grant\"}"));
            });
            job->start();
        });
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(r.token == "at-other");
        QCOMPARE(m_server->count("/token"), 1);
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->record().refreshToken() == "rt-other");
    }

    // accessTokenValidFor(): an early refresh (SessionCredential's) that finds, under the lock,
    // a token another process refreshed meanwhile with enough left takes it without a request;
    // a caller content with the lead time is not held up by it.
    void anEarlyRefreshTakesATokenAnotherProcessRefreshedMeanwhile()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        s->setRefreshLeadTime(5s);
        const SessionRecord mine = stored(s).second;
        m_clock.advance(35s); // 25 s left: fresh for the lead time, not for 28 s
        SessionRecord other = mine;
        other.setRefreshToken("rt-other");
        SessionAccessToken token;
        token.token = "at-other";
        token.issuedAt = m_clock.dateTime();
        token.expiresAt = m_clock.dateTime().addSecs(60);
        other.setAccessToken(QString(), token);
        TokenStoreJob *write = m_store->write(s->storeKey(), other);
        QSignalSpy written(write, &Job::finished);
        write->start();
        QVERIFY(written.wait(5000));

        Result early, plain;
        QObject context;
        s->accessTokenValidFor(QString(), 28s, &context, [&early](const QByteArray &t, const Error &e) {
            early.token = t;
            early.error = e;
            early.called = true;
        });
        s->freshAccessToken(QString(), &context, [&plain](const QByteArray &t, const Error &e) {
            plain.token = t;
            plain.error = e;
            plain.called = true;
        });
        QTRY_VERIFY(early.called && plain.called);
        QVERIFY(!early.error && !plain.error);
        QVERIFY(plain.token == "at-0"); // handed out at once: fresh for the lead time
        QVERIFY(early.token == "at-other");
        QCOMPARE(m_server->count("/token"), 0);
        QVERIFY(s->record().refreshToken() == "rt-other");
    }

    // ---- ID tokens returned by a refresh (OIDC Core §12.2) -----------------------------

    void absentIdTokenKeepsTheOriginal()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        const QByteArray original = s->record().idToken();
        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(s->record().idToken() == original);
        QCOMPARE(m_server->count("/jwks"), 0);
    }

    void refreshedIdTokenIsValidatedAndAdopted_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::newRow("same claims, no nonce") << QStringLiteral("plain");
        QTest::newRow("original nonce repeated") << QStringLiteral("nonce");
        QTest::newRow("aud as a one-element array") << QStringLiteral("aud-array");
        QTest::newRow("matching at_hash") << QStringLiteral("at_hash");
        QTest::newRow("fractional auth_time kept") << QStringLiteral("fractional-auth_time");
    }

    void refreshedIdTokenIsValidatedAndAdopted()
    {
        QFETCH(QString, variant);
        if (variant == QLatin1String("fractional-auth_time"))
            m_authTimeFraction = 0.25;
        Session *s = newSession();
        QVERIFY(signIn(s));
        const QJsonObject original = originalClaims();
        QByteArray issued;
        answerTokens(true, [&, this] {
            QJsonObject c = refreshedClaims(original);
            if (variant == QLatin1String("nonce"))
                c[QStringLiteral("nonce")] = original.value(QStringLiteral("nonce"));
            if (variant == QLatin1String("aud-array"))
                c[QStringLiteral("aud")] = QJsonArray{kClientId};
            if (variant == QLatin1String("at_hash")) {
                const QByteArray at = "at-" + QByteArray::number(m_issued);
                c[QStringLiteral("at_hash")] = QString::fromLatin1(b64url(QCryptographicHash::hash(at, QCryptographicHash::Sha256).left(16)));
            }
            issued = m_key->sign(c);
            return issued;
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(r.token == "at-1");
        QVERIFY(!issued.isEmpty());
        QVERIFY(s->record().idToken() == issued);
        QVERIFY(stored(s).second.idToken() == issued);
        QCOMPARE(m_server->count("/jwks"), 1);

        // The keys are cached: the next refreshed ID token costs no JWKS fetch.
        m_clock.advance(120s);
        const Result again = fresh(s);
        QVERIFY2(!again.error, qPrintable(again.error.toString()));
        QCOMPARE(m_server->count("/jwks"), 1);
        QCOMPARE(m_server->count("/token"), 2);
    }

    void refreshedIdTokenIsRejected_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("sub changed") << QStringLiteral("sub") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("iss changed") << QStringLiteral("iss") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("aud changed") << QStringLiteral("aud") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("aud widened") << QStringLiteral("aud+") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("azp added") << QStringLiteral("azp") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("auth_time changed") << QStringLiteral("auth_time") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("fractional auth_time changed") << QStringLiteral("auth_time-fraction") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("nonce changed") << QStringLiteral("nonce") << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("forged signature") << QStringLiteral("signature") << Error::Code::JoseInvalidSignature;
        QTest::newRow("expired") << QStringLiteral("exp") << Error::Code::IdTokenExpired;
        QTest::newRow("wrong at_hash") << QStringLiteral("at_hash") << Error::Code::IdTokenInvalidAccessTokenHash;
        QTest::newRow("unknown kid") << QStringLiteral("kid") << Error::Code::JoseKeyNotFound;
        QTest::newRow("not a JWS") << QStringLiteral("garbage") << Error::Code::JoseMalformed;
    }

    void refreshedIdTokenIsRejected()
    {
        QFETCH(QString, change);
        QFETCH(Error::Code, code);
        if (change == QLatin1String("auth_time-fraction"))
            m_authTimeFraction = 0.25;
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const QJsonObject original = originalClaims();
        answerTokens(true, [&, this] {
            QJsonObject c = refreshedClaims(original);
            QString kid;
            const SigningKey *key = m_key.get();
            if (change == QLatin1String("sub"))
                c[QStringLiteral("sub")] = QStringLiteral("mallory");
            else if (change == QLatin1String("iss"))
                c[QStringLiteral("iss")] = issuer() + QStringLiteral("/other");
            else if (change == QLatin1String("aud"))
                c[QStringLiteral("aud")] = QStringLiteral("another-client");
            else if (change == QLatin1String("aud+"))
                c[QStringLiteral("aud")] = QJsonArray{kClientId, QStringLiteral("another-client")};
            else if (change == QLatin1String("azp"))
                c[QStringLiteral("azp")] = kClientId;
            else if (change == QLatin1String("auth_time"))
                c[QStringLiteral("auth_time")] = m_clock.seconds();
            else if (change == QLatin1String("auth_time-fraction"))
                c[QStringLiteral("auth_time")] = original.value(QStringLiteral("auth_time")).toDouble() + 0.5;
            else if (change == QLatin1String("nonce"))
                c[QStringLiteral("nonce")] = QStringLiteral("a-different-nonce");
            else if (change == QLatin1String("signature"))
                key = m_otherKey.get();
            else if (change == QLatin1String("exp"))
                c[QStringLiteral("exp")] = m_clock.seconds() - 600;
            else if (change == QLatin1String("at_hash"))
                c[QStringLiteral("at_hash")] = QStringLiteral("AAAAAAAAAAAAAAAAAAAAAA");
            else if (change == QLatin1String("kid"))
                kid = QStringLiteral("key-unknown");
            else if (change == QLatin1String("garbage"))
                return QByteArray("not-a-jws");
            return key->sign(c, kid);
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QCOMPARE(r.error.code(), code);
        QVERIFY(r.token.isEmpty());
        // Nothing of the response was adopted: neither its access token nor its refresh token
        // ever reached the store, and the session is over.
        QVERIFY(!m_store->writtenRefreshTokens.contains("rt-1"));
        QVERIFY(s->record().accessToken(QString()).token != "at-1");
        QVERIFY(s->record().refreshToken() != "rt-1");
        QCOMPARE(signInRequired.count(), 1);
        QVERIFY(!s->isSignedIn());
        QCOMPARE(stored(s).first.code(), Error::Code::NotFound);
        QVERIFY(!r.error.message().contains(QLatin1String("mallory")));
    }

    void idTokenOnAPlainOAuthSessionIsStillVerified_data()
    {
        QTest::addColumn<bool>("forged");
        QTest::newRow("signed by the provider") << false;
        QTest::newRow("forged signature") << true;
    }

    void idTokenOnAPlainOAuthSessionIsStillVerified()
    {
        QFETCH(bool, forged);
        Session *s = newSession();
        // Signed in without an ID token (plain OAuth 2.0): nothing to compare with, but an ID
        // token that turns up on refresh is verified all the same before it is kept.
        TokenResponse response;
        response.setAccessToken("at-0");
        response.setTokenType(QStringLiteral("Bearer"));
        response.setExpiresIn(60s);
        response.setReceivedAt(m_clock.dateTime());
        response.setRefreshToken("rt-0");
        QVERIFY(!runJob(s->adoptSignIn(response, QJsonObject())));
        const QJsonObject claims = originalClaims();
        answerTokens(true, [&, this] { return (forged ? m_otherKey : m_key)->sign(refreshedClaims(claims)); });
        m_clock.advance(120s);
        const Result r = fresh(s);
        if (forged) {
            QCOMPARE(r.error.code(), Error::Code::JoseInvalidSignature);
            QVERIFY(s->record().idToken().isEmpty());
            QVERIFY(!s->isSignedIn());
        } else {
            QVERIFY2(!r.error, qPrintable(r.error.toString()));
            QVERIFY(r.token == "at-1");
            QVERIFY(!s->record().idToken().isEmpty());
        }
        QCOMPARE(m_server->count("/jwks"), 1);
    }

    void unreachableKeysKeepTheSessionAndTheRotatedToken()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        const QJsonObject original = originalClaims();
        answerTokens(true, [&, this] { return m_key->sign(refreshedClaims(original)); });
        m_server->setHandler("/jwks", [](const Request &, QTcpSocket *sock) {
            FakeServer::reply(sock, httpResponse(503, QByteArray(), QByteArray(), {"Retry-After: 1"}));
        });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QCOMPARE(r.error.code(), Error::Code::HttpError);
        QVERIFY(r.error.isTransient());
        QVERIFY(r.token.isEmpty());
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->isSignedIn());
        // rt-0 is spent (rotation): the new refresh token is kept and saved, the unverified
        // access token is not handed out.
        QVERIFY(s->record().refreshToken() == "rt-1");
        QVERIFY(stored(s).second.refreshToken() == "rt-1");
        QVERIFY(s->record().accessToken(QString()).token == "at-0");

        serveJwks();
        const Result later = fresh(s);
        QVERIFY2(!later.error, qPrintable(later.error.toString()));
        QVERIFY(later.token == "at-2");
        QVERIFY(m_server->requests("/token").at(1).field(QStringLiteral("refresh_token")) == "rt-1");
        QCOMPARE(signInRequired.count(), 0);
    }

    // ---- fresh ID tokens (Session::freshIdToken()) ------------------------------------

    void freshIdTokenIsHandedOutWithoutRequest()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        const auto r = freshIdLater(s);
        QVERIFY2(!r->called, "the callback must be queued, never called from inside freshIdToken()");
        QTRY_VERIFY(r->called);
        QVERIFY2(!r->error, qPrintable(r->error.toString()));
        QVERIFY(r->token == s->record().idToken());
        QCOMPARE(r->calls, 1);
        QCOMPARE(m_server->count("/token"), 0);
        QCOMPARE(m_store->reads, 0);
    }

    // The ID token expires within the lead time: one refresh, without a resource (the provider's
    // own access token comes along), for every caller of either kind; the refreshed ID token is
    // validated (the keys are fetched) and stored before anyone gets it.
    void staleIdTokenIsRefreshedOnceForAllCallers()
    {
        Session *s = newSession();
        QVERIFY(signIn(s, 7200s)); // the access token outlives the ID token (3600 s)
        const QByteArray original = s->record().idToken();
        const QJsonObject claims = originalClaims();
        QByteArray issued;
        answerTokens(true, [&, this] { return issued = m_key->sign(refreshedClaims(claims)); });
        m_clock.advance(3600s - 59s); // 59 s left: inside the 60 s lead time

        QList<std::shared_ptr<Result>> ids;
        for (int i = 0; i < 20; ++i)
            ids << freshIdLater(s);
        const auto access = freshLater(s);
        QTRY_VERIFY(std::all_of(ids.cbegin(), ids.cend(), [](const auto &r) { return r->called; }));
        QTRY_VERIFY(access->called);
        QCOMPARE(m_server->count("/token"), 1);
        const Request request = m_server->requests("/token").at(0);
        QVERIFY(request.field(QStringLiteral("grant_type")) == "refresh_token");
        QVERIFY(!request.hasField(QStringLiteral("resource")));
        QCOMPARE(m_server->count("/jwks"), 1);
        QVERIFY(!issued.isEmpty() && issued != original);
        for (const auto &r : std::as_const(ids)) {
            QVERIFY2(!r->error, qPrintable(r->error.toString()));
            QVERIFY(r->token == issued);
            QCOMPARE(r->calls, 1);
        }
        // The access token was still fresh: handed out at once, and replaced by the refresh.
        QVERIFY(access->token == "at-0");
        QVERIFY(s->record().accessToken(QString()).token == "at-1");
        QVERIFY(stored(s).second.idToken() == issued);
        QVERIFY(stored(s).second.refreshToken() == "rt-1");

        // Fresh now: no second refresh.
        const Result again = freshId(s);
        QVERIFY(again.token == issued);
        QCOMPARE(m_server->count("/token"), 1);
    }

    // A refresh already running for another resource is shared: its ID token answers too.
    void idTokenCallersJoinARefreshForAnotherResource()
    {
        Session *s = newSession();
        QVERIFY(signIn(s, 7200s));
        const QJsonObject claims = originalClaims();
        QByteArray issued;
        answerTokens(true, [&, this] { return issued = m_key->sign(refreshedClaims(claims)); });
        m_clock.advance(3600s - 30s);
        const auto api = freshLater(s, kApi); // no token for the API yet: a refresh with its resource
        const auto id = freshIdLater(s);
        QTRY_VERIFY(api->called && id->called);
        QVERIFY2(!id->error, qPrintable(id->error.toString()));
        QVERIFY(id->token == issued);
        QVERIFY(api->token == "at-1");
        QCOMPARE(m_server->count("/token"), 1);
        QCOMPARE(m_server->requests("/token").at(0).form().allQueryItemValues(QStringLiteral("resource"), QUrl::FullyDecoded),
                 QStringList{kApi});
    }

    // OIDC Core §12.2: the refresh response may omit the ID token. The callers get a typed error;
    // the session, with its rotated refresh token and new access token, stays.
    void refreshWithoutIdTokenFailsWithIdTokenNotReturned()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        QSignalSpy signInRequired(s, &Session::signInRequired);
        answerTokens(true); // no id_token
        m_clock.advance(3600s);
        const Result r = freshId(s);
        QCOMPARE(r.error.code(), Error::Code::IdTokenNotReturned);
        QCOMPARE(r.error.domain(), Error::Domain::IdToken);
        QVERIFY(!r.error.requiresSignIn());
        QVERIFY(r.token.isEmpty());
        QCOMPARE(m_server->count("/token"), 1);
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(stored(s).second.refreshToken() == "rt-1");
        const Result access = fresh(s);
        QVERIFY(!access.error);
        QVERIFY(access.token == "at-1");
        QCOMPARE(m_server->count("/token"), 1);
    }

    // A session that lost its ID token (e.g. a store that kept it in memory only) refreshes for one.
    void missingIdTokenIsRefreshed()
    {
        Session *s = newSession();
        const QJsonObject claims = originalClaims();
        TokenResponse response;
        response.setAccessToken("at-0");
        response.setTokenType(QStringLiteral("Bearer"));
        response.setExpiresIn(7200s);
        response.setReceivedAt(m_clock.dateTime());
        response.setRefreshToken("rt-0");
        QVERIFY(!runJob(s->adoptSignIn(response, claims)));
        QVERIFY(s->record().idToken().isEmpty());
        QByteArray issued;
        answerTokens(true, [&, this] { return issued = m_key->sign(refreshedClaims(claims)); });
        const Result r = freshId(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(!issued.isEmpty() && r.token == issued);
    }

    // Without a refresh token only a new sign-in brings a new ID token — but the access token is
    // still good, so the session is not ended for that.
    void staleIdTokenWithoutRefreshTokenAsksForSignInAndKeepsTheSession()
    {
        Session *s = newSession();
        const QJsonObject claims = originalClaims();
        TokenResponse response;
        response.setAccessToken("at-0");
        response.setTokenType(QStringLiteral("Bearer"));
        response.setExpiresIn(7200s);
        response.setReceivedAt(m_clock.dateTime());
        response.setIdToken(m_key->sign(claims));
        QVERIFY(!runJob(s->adoptSignIn(response, claims)));
        QVERIFY(!s->isPersistent());
        QSignalSpy signInRequired(s, &Session::signInRequired);
        m_clock.advance(3600s);
        const Result r = freshId(s);
        QCOMPARE(r.error.code(), Error::Code::SignInRequired);
        QCOMPARE(m_server->count("/token"), 0);
        QCOMPARE(signInRequired.count(), 0);
        QVERIFY(s->isSignedIn());
        QVERIFY(fresh(s).token == "at-0");
    }

    // A rejected grant fails ID token callers like everyone else, and ends the session.
    void rejectedGrantFailsIdTokenCallers()
    {
        Session *s = newSession();
        QVERIFY(signIn(s));
        m_server->setHandler("/token", [](const Request &, QTcpSocket *socket) {
            FakeServer::reply(socket, httpResponse(400, "{\"error\":\"invalid_grant\"}"));
        });
        m_clock.advance(3600s);
        const Result r = freshId(s);
        QVERIFY(r.error.requiresSignIn());
        QVERIFY(!s->isSignedIn());
    }

    void appSharedJwksCacheIsUsed()
    {
        Session *s = newSession();
        QVERIFY(s->jwksCache() != nullptr); // the session's own
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        JwksCache cache(m_nam.get(), transport);
        cache.setClock(&m_clock);
        s->setJwksCache(&cache);
        QCOMPARE(s->jwksCache(), &cache);
        QVERIFY(signIn(s));
        const QJsonObject original = originalClaims();
        answerTokens(true, [&, this] { return m_key->sign(refreshedClaims(original)); });
        m_clock.advance(120s);
        const Result r = fresh(s);
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QCOMPARE(cache.fetchCount(), 1);
        QVERIFY(cache.cachedKeys(m_server->url(QStringLiteral("/jwks"))).has_value());

        // Another session (another account) sharing the cache fetches nothing.
        Session *other = newSession();
        other->setAccount(QStringLiteral("bob"));
        other->setJwksCache(&cache);
        QVERIFY(signIn(other));
        const QJsonObject otherOriginal = originalClaims();
        answerTokens(true, [&, this] { return m_key->sign(refreshedClaims(otherOriginal)); });
        m_clock.advance(120s);
        const Result r2 = fresh(other);
        QVERIFY2(!r2.error, qPrintable(r2.error.toString()));
        QCOMPARE(cache.fetchCount(), 1);
        QCOMPARE(m_server->count("/jwks"), 0); // signIn() cleared the log after the first fetch

        s->setJwksCache(nullptr);
        QVERIFY(s->jwksCache() != &cache);
        QVERIFY(s->jwksCache() != nullptr);
    }
};

QTEST_GUILESS_MAIN(TestSessionRefresh)
#include "tst_sessionrefresh.moc"
