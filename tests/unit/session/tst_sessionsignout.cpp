// SPDX-License-Identifier: MIT
// Session::signOut() against a fake provider: under the account lock it re-reads the store,
// revokes (RFC 7009) the refresh token first and then the access tokens, and removes the stored
// session; a revocation that fails (503, a dropped connection, silence, a refused client) still
// removes the session and is reported as RevocationFailed. A refresh result dropped because its
// grant is over has its rotated refresh token revoked. Tokens expire through an injected clock.
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

// A MemoryTokenStore that logs its removals into the same event list as the fake provider's
// revocations, so that a test can read their order; removals can be made to fail.
class LoggingStore : public MemoryTokenStore
{
public:
    LoggingStore(const QString &appId, QStringList *events) : MemoryTokenStore(appId), m_events(events) {}
    bool failRemoves = false;

protected:
    void startJob(TokenStoreJob *job) override
    {
        if (job->operation() == TokenStoreJob::Operation::Remove) {
            m_events->append(QStringLiteral("remove"));
            if (failRemoves) {
                finishJob(job, Error(Error::Code::StorageFailed, QStringLiteral("injected remove failure")));
                return;
            }
        }
        MemoryTokenStore::startJob(job);
    }

private:
    QStringList *m_events;
};

} // namespace

class TestSessionSignOut : public QObject
{
    Q_OBJECT

    std::unique_ptr<SigningKey> m_key;
    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<LoggingStore> m_store;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    TestClock m_clock;
    QStringList m_events; // "revoke <hint> <token>" and "remove", in order

    QString issuer() const { return m_server->url(QString()).toString(); }
    QString appId() const { return QStringLiteral("org.keyloop.test.sessionsignout.%1").arg(QCoreApplication::applicationPid()); }

    Session *newSession(bool withRevocation = true, std::chrono::milliseconds timeout = 5s)
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
        if (withRevocation)
            provider.setRevocationEndpoint(m_server->url(QStringLiteral("/revoke")));
        auto *s = new Session(client, provider, m_store.get(), m_nam.get(), this);
        s->setClock(&m_clock);
        s->setAccount(QStringLiteral("alice"));
        return s;
    }

    QJsonObject m_original; // the sign-in's ID token claims (restoreSignedIn())

    QJsonObject originalClaims() const
    {
        return {{QStringLiteral("iss"), issuer()},
                {QStringLiteral("sub"), QStringLiteral("alice")},
                {QStringLiteral("aud"), kClientId},
                {QStringLiteral("iat"), m_clock.seconds()},
                {QStringLiteral("exp"), m_clock.seconds() + 3600},
                {QStringLiteral("auth_time"), m_clock.seconds() - 10},
                {QStringLiteral("nonce"), QStringLiteral("n-0")}};
    }

    static Error runJob(SessionJob *job)
    {
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        const Error e = spy.wait(10000) ? job->error() : Error(Error::Code::Timeout, QStringLiteral("session job hung"));
        delete job;
        return e;
    }

    // A stored session restored into \a s: refresh token rt-0, the provider's access token at-0
    // and the API's at-api, both valid for 60 s.
    bool restoreSignedIn(Session *s)
    {
        SessionRecord r;
        r.setIssuer(issuer());
        r.setClientId(kClientId);
        r.setAccount(QStringLiteral("alice"));
        r.setSubject(QStringLiteral("alice"));
        r.setRefreshToken("rt-0");
        r.setAccessToken(QString(), SessionAccessToken{"at-0", m_clock.dateTime(), m_clock.dateTime().addSecs(60), {}, QStringLiteral("Bearer")});
        r.setAccessToken(kApi, SessionAccessToken{"at-api", m_clock.dateTime(), m_clock.dateTime().addSecs(60), {}, QStringLiteral("Bearer")});
        m_original = originalClaims();
        r.setOriginalClaims(m_original);
        r.setGrantId("grant-0");
        r.setUpdatedAt(m_clock.dateTime());
        if (!writeStored(s, r))
            return false;
        const Error e = runJob(s->restore());
        m_events.clear();
        return !e && s->isSignedIn();
    }

    bool writeStored(Session *s, const SessionRecord &record)
    {
        TokenStoreJob *job = m_store->write(s->storeKey(), record);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        return spy.wait(5000);
    }

    Error storedError(Session *s)
    {
        TokenStoreJob *job = m_store->read(s->storeKey());
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        const Error e = spy.wait(5000) ? job->error() : Error(Error::Code::Timeout, QStringLiteral("store read hung"));
        delete job;
        return e;
    }

    // True when no operation holds \a s's account lock (waits at most \a wait for it).
    bool lockIsFree(Session *s, std::chrono::milliseconds wait = 500ms)
    {
        ProcessLock probe(ProcessLock::lockPath(appId(), s->storeKey()));
        QSignalSpy acquired(&probe, &ProcessLock::acquired);
        QSignalSpy failed(&probe, &ProcessLock::failed);
        probe.acquire(wait);
        const bool answered = QTest::qWaitFor([&] { return acquired.count() + failed.count() > 0; }, 5000);
        probe.release();
        return answered && acquired.count() == 1;
    }

    // The revocation endpoint: logs each request, then answers with \a respond.
    void answerRevocations(std::function<void(const Request &, QTcpSocket *)> respond)
    {
        m_server->setHandler("/revoke", [this, respond](const Request &request, QTcpSocket *socket) {
            m_events.append(QStringLiteral("revoke %1 %2")
                                .arg(QString::fromUtf8(request.field(QStringLiteral("token_type_hint"))),
                                     QString::fromUtf8(request.field(QStringLiteral("token")))));
            respond(request, socket);
        });
    }

    static void ok(const Request &, QTcpSocket *socket) { FakeServer::reply(socket, httpResponse(200)); }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = std::make_unique<SigningKey>(QStringLiteral("key-1"));
        QVERIFY(m_key->isValid());
    }

    void init()
    {
        m_events.clear();
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_store = std::make_unique<LoggingStore>(appId(), &m_events);
        m_nam = std::make_unique<QNetworkAccessManager>();
        answerRevocations(ok);
    }

    void cleanup()
    {
        qDeleteAll(findChildren<Session *>(Qt::FindDirectChildrenOnly));
        m_nam.reset();
        m_store.reset();
        m_server.reset();
    }

    void revokesTheRefreshTokenFirstThenTheAccessTokensThenRemoves()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        QVERIFY(!runJob(s->signOut()));
        // RFC 7009 §2.1: the refresh token ends the grant; the access tokens follow, then the store.
        QCOMPARE(m_events, (QStringList{QStringLiteral("revoke refresh_token rt-0"),
                                        QStringLiteral("revoke access_token at-0"),
                                        QStringLiteral("revoke access_token at-api"),
                                        QStringLiteral("remove")}));
        const QList<Request> requests = m_server->requests("/revoke");
        for (const Request &r : requests) {
            QCOMPARE(r.method, QByteArray("POST"));
            QVERIFY(r.field(QStringLiteral("client_id")) == kClientId.toUtf8());
        }
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
        QVERIFY(!s->isSignedIn());
        QVERIFY(lockIsFree(s));
    }

    void revocationHappensUnderTheAccountLock()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        auto held = std::make_shared<QList<QPointer<QTcpSocket>>>();
        answerRevocations([held](const Request &, QTcpSocket *socket) { held->append(socket); });
        SessionJob *job = s->signOut();
        job->setAutoDelete(false);
        QSignalSpy finished(job, &Job::finished);
        job->start();
        QTRY_COMPARE(held->size(), 1);
        QVERIFY(!lockIsFree(s, 200ms)); // another process's refresh would wait
        QVERIFY(!s->isSignedIn());      // memory is cleared at once
        answerRevocations(ok);
        FakeServer::reply(held->first(), httpResponse(200));
        QVERIFY(finished.wait());
        QVERIFY2(!job->error(), qPrintable(job->error().toString()));
        delete job;
        QVERIFY(lockIsFree(s));
    }

    // Another process rotated the refresh token since this one read the store: the stored one is
    // the one that ends the grant, and it is revoked first.
    void revokesTheRefreshTokenAnotherProcessRotated()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        SessionRecord theirs = s->record();
        theirs.setRefreshToken("rt-theirs");
        theirs.setAccessToken(QString(), SessionAccessToken{"at-theirs", m_clock.dateTime(), m_clock.dateTime().addSecs(60), {}, QStringLiteral("Bearer")});
        QVERIFY(writeStored(s, theirs));
        m_events.clear();
        QVERIFY(!runJob(s->signOut()));
        QCOMPARE(m_events.value(0), QStringLiteral("revoke refresh_token rt-theirs"));
        QCOMPARE(m_events.value(1), QStringLiteral("revoke refresh_token rt-0"));
        QVERIFY(m_events.contains(QStringLiteral("revoke access_token at-theirs")));
        QVERIFY(m_events.contains(QStringLiteral("revoke access_token at-0")));
        QCOMPARE(m_events.constLast(), QStringLiteral("remove"));
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
    }

    // RFC 7009 §2.2.1: a server that does not revoke access tokens (oidc-provider for JWTs).
    void unsupportedTokenTypeCountsAsDone()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        answerRevocations([](const Request &request, QTcpSocket *socket) {
            if (request.field(QStringLiteral("token_type_hint")) == "access_token")
                FakeServer::reply(socket, httpResponse(400, R"({"error":"unsupported_token_type"})"));
            else
                FakeServer::reply(socket, httpResponse(200));
        });
        QVERIFY(!runJob(s->signOut()));
        QCOMPARE(m_server->count("/revoke"), 3);
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
    }

    void expiredAccessTokensAreNotRevoked()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        m_clock.advance(61s); // both access tokens expired: invalid anyway
        QVERIFY(!runJob(s->signOut()));
        QCOMPARE(m_events, (QStringList{QStringLiteral("revoke refresh_token rt-0"), QStringLiteral("remove")}));
    }

    void withoutARevocationEndpointSignOutIsLocal()
    {
        Session *s = newSession(false);
        QVERIFY(restoreSignedIn(s));
        QVERIFY(!runJob(s->signOut()));
        QCOMPARE(m_events, QStringList{QStringLiteral("remove")});
        QCOMPARE(m_server->count("/revoke"), 0);
    }

    void failedRevocationStillRemovesAndIsReported_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<bool>("skipsTheRest"); // a transient failure: the provider is unreachable or failing
        QTest::addColumn<int>("httpStatus");
        QTest::addColumn<QString>("oauthError");
        QTest::newRow("503 (RFC 7009 §2.2.1)") << QStringLiteral("503") << true << 503 << QString();
        QTest::newRow("500 server_error") << QStringLiteral("500") << true << 500 << QStringLiteral("server_error");
        QTest::newRow("connection dropped") << QStringLiteral("drop") << true << 0 << QString();
        QTest::newRow("no answer within the transport timeout") << QStringLiteral("silence") << true << 0 << QString();
        QTest::newRow("client refused") << QStringLiteral("invalid_client") << false << 401 << QStringLiteral("invalid_client");
    }

    void failedRevocationStillRemovesAndIsReported()
    {
        QFETCH(QString, fault);
        QFETCH(bool, skipsTheRest);
        QFETCH(int, httpStatus);
        QFETCH(QString, oauthError);
        Session *s = newSession(true, 500ms);
        QVERIFY(restoreSignedIn(s));
        answerRevocations([fault](const Request &, QTcpSocket *socket) {
            if (fault == QLatin1String("503"))
                FakeServer::reply(socket, httpResponse(503, QByteArray(), "application/json", {"Retry-After: 30"}));
            else if (fault == QLatin1String("500"))
                FakeServer::reply(socket, httpResponse(500, R"({"error":"server_error"})"));
            else if (fault == QLatin1String("drop"))
                socket->abort();
            else if (fault == QLatin1String("invalid_client"))
                FakeServer::reply(socket, httpResponse(401, R"({"error":"invalid_client"})"));
            // "silence": never answers
        });
        QSignalSpy tokensChanged(s, &Session::tokensChanged);
        const Error e = runJob(s->signOut());
        QCOMPARE(e.code(), Error::Code::RevocationFailed);
        QVERIFY2(e.message().contains(QLatin1String("signed out on this device")), qPrintable(e.message()));
        QVERIFY(!e.isTransient()); // nothing is left to retry with
        QVERIFY(!e.requiresSignIn());
        QCOMPARE(e.httpStatus(), httpStatus);
        QCOMPARE(e.oauthError(), oauthError);
        QVERIFY(!e.message().contains(QLatin1String("rt-0")));
        // After a transient failure the access tokens are not tried (each would wait for the same
        // failure); Qt's HTTP stack may send a request again once on a dropped connection.
        const bool accessTokensTried = m_events.contains(QStringLiteral("revoke access_token at-0"));
        QCOMPARE(accessTokensTried, !skipsTheRest);
        QVERIFY(m_events.value(0).startsWith(QLatin1String("revoke refresh_token")));
        // Removed on this device all the same.
        QCOMPARE(m_events.constLast(), QStringLiteral("remove"));
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
        QVERIFY(!s->isSignedIn());
        QCOMPARE(tokensChanged.count(), 1);
        QVERIFY(lockIsFree(s));
    }

    // A keychain that cannot delete keeps the session: the storage error is what the caller
    // must act on (try again); the retry revokes and removes what is stored.
    void keychainFailureIsReportedAndARetryRevokesAgain()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        m_store->failRemoves = true;
        QCOMPARE(runJob(s->signOut()).code(), Error::Code::StorageFailed);
        QCOMPARE(m_server->count("/revoke"), 3);
        m_store->failRemoves = false;
        m_events.clear();
        QVERIFY(!runJob(s->signOut()));
        // Nothing in memory any more: what is revoked now comes from the store.
        QCOMPARE(m_events.value(0), QStringLiteral("revoke refresh_token rt-0"));
        QCOMPARE(m_events.constLast(), QStringLiteral("remove"));
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
    }

    void busySessionRevokesNothing()
    {
#ifndef KEYLOOP_TEST_HOOKS
        QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS: the sign-out lock wait cannot be shortened");
#endif
        qputenv("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS", "300");
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        ProcessLock other(ProcessLock::lockPath(appId(), s->storeKey())); // another process refreshing
        QSignalSpy acquired(&other, &ProcessLock::acquired);
        other.acquire();
        QVERIFY(acquired.wait());
        const Error busy = runJob(s->signOut());
        qunsetenv("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS");
        QCOMPARE(busy.code(), Error::Code::SessionBusy);
        QVERIFY(m_events.isEmpty()); // neither revoked nor removed without the lock
        other.release();
        QVERIFY(!runJob(s->signOut())); // tried again: the stored session is revoked and removed
        QCOMPARE(m_events.value(0), QStringLiteral("revoke refresh_token rt-0"));
        QCOMPARE(m_events.constLast(), QStringLiteral("remove"));
    }

    // A refresh whose answer arrives after the sign-out (here: while its ID token's keys are
    // fetched) is dropped; the rotated refresh token it carried is live and stored nowhere, so
    // it is revoked (fire-and-forget), besides the tokens the sign-out revokes.
    void droppedRotatedRefreshTokenIsRevoked()
    {
        Session *s = newSession();
        QVERIFY(restoreSignedIn(s));
        m_server->setHandler("/token", [this](const Request &, QTcpSocket *socket) {
            QJsonObject claims = m_original; // OIDC Core §12.2: same iss, sub, aud, auth_time
            claims.remove(QStringLiteral("nonce"));
            claims[QStringLiteral("iat")] = m_clock.seconds();
            claims[QStringLiteral("exp")] = m_clock.seconds() + 3600;
            const QJsonObject body{{QStringLiteral("access_token"), QStringLiteral("at-1")},
                                   {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                                   {QStringLiteral("expires_in"), 60},
                                   {QStringLiteral("refresh_token"), QStringLiteral("rt-1")},
                                   {QStringLiteral("id_token"), QString::fromLatin1(m_key->sign(claims))}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(body).toJson(QJsonDocument::Compact)));
        });
        auto heldKeys = std::make_shared<QList<QPointer<QTcpSocket>>>();
        m_server->setHandler("/jwks", [heldKeys](const Request &, QTcpSocket *socket) { heldKeys->append(socket); });
        m_clock.advance(61s);
        bool called = false;
        s->freshAccessToken(QString(), this, [&called](const QByteArray &, const Error &) { called = true; });
        QTRY_COMPARE(heldKeys->size(), 1); // rt-1 received; its ID token is being checked

        SessionJob *signOut = s->signOut();
        signOut->setAutoDelete(false);
        QSignalSpy signedOut(signOut, &Job::finished);
        signOut->start();
        QTRY_VERIFY(called);
        const QJsonObject jwks{{QStringLiteral("keys"), QJsonArray{m_key->publicJwk()}}};
        FakeServer::reply(heldKeys->first(), httpResponse(200, QJsonDocument(jwks).toJson(QJsonDocument::Compact)));
        QVERIFY(signedOut.wait());
        QVERIFY2(!signOut->error(), qPrintable(signOut->error().toString()));
        delete signOut;
        QTRY_VERIFY(m_events.contains(QStringLiteral("revoke refresh_token rt-1")));
        QVERIFY(m_events.contains(QStringLiteral("revoke refresh_token rt-0")));
        QCOMPARE(storedError(s).code(), Error::Code::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestSessionSignOut)
#include "tst_sessionsignout.moc"
