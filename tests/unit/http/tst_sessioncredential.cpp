// SPDX-License-Identifier: MIT
// SessionCredential with a real Session against a fake token endpoint and a fake API on loopback:
// many requests share one refresh (waiting for a stale token, or rejected together by the API),
// a 401 drops only the current token, the proactive refresh timer (jitter, backoff with
// jitter, Retry-After, stop on SignInRequired) with an injected clock and random source.
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessioncredential.h>
#include <keyloop/tokenstore.h>

#include "../session/fakeprovider.h"

#include <QtCore/QJsonDocument>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopSessionTest;
using namespace std::chrono_literals;

namespace {

const QString kClientId = QStringLiteral("keyloop-test-app");
// The API's resource indicator: deliberately not its address.
const QString kResource = QStringLiteral("https://api.keyloop.test");

// The wall clock, frozen or following real time with an offset, moved by hand.
class TestClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override
    {
        return frozen ? t : std::chrono::system_clock::now() + offset;
    }
    void advance(std::chrono::milliseconds by)
    {
        if (frozen)
            t += by;
        else
            offset += by;
    }
    bool frozen = true;
    std::chrono::system_clock::time_point t = std::chrono::system_clock::time_point(std::chrono::seconds(1893456000));
    std::chrono::milliseconds offset{0};
};

struct Outcome
{
    Error error;
    int status = 0;
    bool finished = false;
};

QByteArray authorization(const Request &r)
{
    for (const auto &h : r.headers)
        if (h.first == "authorization")
            return h.second;
    return {};
}

} // namespace

class tst_SessionCredential : public QObject
{
    Q_OBJECT

    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    std::unique_ptr<MemoryTokenStore> m_store;
    TestClock m_clock;
    int m_issued = 0;          // at-N issued so far
    int m_apiAcceptsFrom = 0;  // the API rejects at-K with K below this
    int m_expiresIn = 60;      // of refreshed tokens
    QList<QByteArray> m_tokenAnswers; // if set, the token endpoint answers these in turn

    QString issuer() const { return m_server->url(QString()).toString(); }

    Session *newSession()
    {
        ClientConfiguration client;
        client.setIssuer(QUrl(issuer()));
        client.setClientId(kClientId);
        client.setResources({kResource});
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        client.setTransport(transport);
        ProviderConfiguration provider;
        provider.setIssuer(QUrl(issuer()));
        provider.setTokenEndpoint(m_server->url(QStringLiteral("/token")));
        auto *s = new Session(client, provider, m_store.get(), m_nam.get(), this);
        s->setClock(&m_clock);
        return s;
    }

    // A stored session with access token at-0 for kResource (issued now, \a lifetime) and rt-0.
    Session *restoredSession(std::chrono::seconds lifetime = 60s)
    {
        SessionRecord r;
        r.setIssuer(issuerIdentifier(QUrl(issuer())));
        r.setClientId(kClientId);
        r.setRefreshToken("rt-0");
        r.setGrantId("grant-1");
        SessionAccessToken token;
        token.token = "at-0";
        token.issuedAt = m_clock.dateTime();
        token.expiresAt = token.issuedAt.addSecs(lifetime.count());
        r.setAccessToken(kResource, token);
        TokenStoreJob *write = m_store->write(TokenStore::keyFor(r.issuer(), kClientId, QString()), r);
        QSignalSpy written(write, &Job::finished);
        write->start();
        if (!written.wait(5000))
            return nullptr;
        Session *s = newSession();
        SessionJob *restore = s->restore();
        QSignalSpy restored(restore, &Job::finished);
        restore->start();
        if (!restored.wait(5000) || !s->isSignedIn())
            return nullptr;
        return s;
    }

    static Outcome wait(HttpReply *reply)
    {
        Outcome o;
        QObject::connect(reply, &Job::finished, reply, [&o, reply] {
            o.finished = true;
            o.error = reply->error();
            o.status = reply->statusCode();
        });
        if (!QTest::qWaitFor([&o] { return o.finished; }, 10000))
            o.error = Error(Error::Code::Timeout, QStringLiteral("the reply never finished"));
        return o;
    }

    QByteArray tokenResponse()
    {
        const QByteArray n = QByteArray::number(++m_issued);
        const QJsonObject o{{QStringLiteral("access_token"), QString::fromLatin1("at-" + n)},
                            {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                            {QStringLiteral("expires_in"), m_expiresIn},
                            {QStringLiteral("refresh_token"), QString::fromLatin1("rt-" + n)}};
        return httpResponse(200, QJsonDocument(o).toJson(QJsonDocument::Compact), "application/json",
                            {"Cache-Control: no-store"});
    }

    int tokenRequests() const { return m_server->count("/token"); }
    int apiRequests() const { return m_server->count("/api/me"); }
    QUrl api() const { return m_server->url(QStringLiteral("/api/me")); }

    std::unique_ptr<HttpClient> clientWith(SessionCredential *credential)
    {
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        auto http = std::make_unique<HttpClient>(m_nam.get(), transport);
        const Error e = http->addCredential(credential, {m_server->url(QStringLiteral("/api"))});
        if (e)
            qWarning() << e;
        return http;
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_nam = std::make_unique<QNetworkAccessManager>();
        m_store = std::make_unique<MemoryTokenStore>(
            QStringLiteral("org.keyloop.test.sessioncredential.%1").arg(QCoreApplication::applicationPid()));
        m_clock = TestClock();
        m_issued = 0;
        m_apiAcceptsFrom = 0;
        m_expiresIn = 60;
        m_tokenAnswers.clear();
        m_server->setHandler("/token", [this](const Request &request, QTcpSocket *socket) {
            if (request.field(QStringLiteral("resource")) != kResource.toUtf8()) {
                FakeServer::reply(socket, httpResponse(400, "{\"error\":\"invalid_target\"}"));
                return;
            }
            if (!m_tokenAnswers.isEmpty()) {
                FakeServer::reply(socket, m_tokenAnswers.takeFirst());
                return;
            }
            FakeServer::reply(socket, tokenResponse());
        });
        // The API accepts at-K for K >= m_apiAcceptsFrom (RFC 6750 §3.1 invalid_token otherwise).
        m_server->setHandler("/api/me", [this](const Request &request, QTcpSocket *socket) {
            const QByteArray value = authorization(request);
            const bool ok = value.startsWith("Bearer at-") && value.mid(10).toInt() >= m_apiAcceptsFrom;
            FakeServer::reply(socket, ok ? httpResponse(200, "{\"sub\":\"alice\"}")
                                         : httpResponse(401, "{}", "application/json",
                                                        {"WWW-Authenticate: Bearer error=\"invalid_token\""}));
        });
    }

    void cleanup()
    {
        m_server.reset();
        m_nam.reset();
        m_store.reset();
    }

    void sendsTheSessionsTokenForItsResource()
    {
        QScopedPointer<Session> session(restoredSession());
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        QCOMPARE(credential.resource(), kResource);
        auto http = clientWith(&credential);
        const Outcome o = wait(http->get(QNetworkRequest(api())));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QVERIFY(authorization(m_server->requests("/api/me").value(0)) == "Bearer at-0");
        QCOMPARE(tokenRequests(), 0); // a fresh token costs no I/O
    }

    void manyWaitingRequestsShareOneRefresh()
    {
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        auto http = clientWith(&credential);
        m_clock.advance(61s); // at-0 expired
        QList<HttpReply *> replies;
        for (int i = 0; i < 10; ++i)
            replies.append(http->get(QNetworkRequest(api())));
        int done = 0;
        for (HttpReply *reply : std::as_const(replies)) {
            connect(reply, &Job::finished, this, [&done, reply] {
                QVERIFY2(!reply->error(), qPrintable(reply->error().toString()));
                ++done;
            });
        }
        QTRY_COMPARE(done, 10);
        QCOMPARE(tokenRequests(), 1);
        for (const Request &r : m_server->requests("/api/me"))
            QVERIFY(authorization(r) == "Bearer at-1");
    }

    void requestsRejectedTogetherShareOneRefresh()
    {
        QScopedPointer<Session> session(restoredSession(3600s));
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        auto http = clientWith(&credential);
        m_apiAcceptsFrom = 1; // the API no longer takes at-0 (revoked, or its keys rotated)
        QList<HttpReply *> replies;
        for (int i = 0; i < 10; ++i)
            replies.append(http->post(QNetworkRequest(api()), QByteArray("body-") + QByteArray::number(i)));
        int ok = 0;
        int done = 0;
        for (HttpReply *reply : std::as_const(replies)) {
            connect(reply, &Job::finished, this, [&ok, &done, reply] {
                ok += reply->error() ? 0 : 1;
                ++done;
            });
        }
        QTRY_COMPARE(done, 10);
        QCOMPARE(ok, 10);
        QCOMPARE(tokenRequests(), 1); // ten rejections of one token: one refresh
        QCOMPARE(apiRequests(), 20);
        QVERIFY(session->record().accessToken(kResource).token == "at-1");
        // Every body arrived twice, intact.
        QMap<QByteArray, int> bodies;
        for (const Request &r : m_server->requests("/api/me"))
            ++bodies[r.body];
        QCOMPARE(bodies.size(), 10);
        for (int count : std::as_const(bodies))
            QCOMPARE(count, 2);
    }

    void aRejectionDropsOnlyTheCurrentToken()
    {
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        QSignalSpy changed(session.get(), &Session::tokensChanged);
        session->invalidateAccessToken(kResource, "at-other"); // not the current one
        QVERIFY(session->record().accessToken(kResource).token == "at-0");
        QCOMPARE(changed.count(), 0);
        session->invalidateAccessToken(QString(), "at-0"); // another resource's slot
        QVERIFY(session->record().accessToken(kResource).token == "at-0");
        session->invalidateAccessToken(kResource, "at-0");
        QVERIFY(session->record().accessToken(kResource).isNull());
        QCOMPARE(changed.count(), 1);
        QVERIFY(session->isSignedIn()); // the session stays; the next use refreshes
        // After the refresh, the old token's rejection (a late 401) keeps the new one.
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        auto http = clientWith(&credential);
        QVERIFY(!wait(http->get(QNetworkRequest(api()))).error);
        QCOMPARE(tokenRequests(), 1);
        credential.reject("Bearer at-0");
        QVERIFY(session->record().accessToken(kResource).token == "at-1");
        credential.reject("at-1"); // not a Bearer value: ignored
        QVERIFY(session->record().accessToken(kResource).token == "at-1");
    }

    void anApiThatAlwaysRejectsCostsOneRefresh()
    {
        QScopedPointer<Session> session(restoredSession(3600s));
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        auto http = clientWith(&credential);
        m_apiAcceptsFrom = 1000;
        const Outcome o = wait(http->get(QNetworkRequest(api())));
        QCOMPARE(o.error.httpStatus(), 401);
        QCOMPARE(apiRequests(), 2);
        QCOMPARE(tokenRequests(), 1);
    }

    void signInRequiredComesBackWithoutARequest()
    {
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setProactiveRefreshEnabled(false);
        auto http = clientWith(&credential);
        m_tokenAnswers = {httpResponse(400, "{\"error\":\"invalid_grant\"}")};
        m_clock.advance(61s);
        const Outcome o = wait(http->get(QNetworkRequest(api())));
        QCOMPARE(o.error.code(), Error::Code::SignInRequired);
        QCOMPARE(apiRequests(), 0);
    }

    void aDestroyedSessionFailsTheCredential()
    {
        Session *session = restoredSession();
        QVERIFY(session);
        SessionCredential credential(session, kResource);
        delete session;
        QCOMPARE(credential.session(), nullptr);
        auto http = clientWith(&credential);
        const Outcome o = wait(http->get(QNetworkRequest(api())));
        QCOMPARE(o.error.code(), Error::Code::SignInRequired);
        QCOMPARE(apiRequests(), 0);
    }

    // ---- Proactive refresh ----------------------------------------------------------------

    void theScheduleUsesTheInjectedClockAndRandomSource_data()
    {
        QTest::addColumn<double>("random");
        QTest::addColumn<int>("beforeExpiryMs");
        // A 60 s token with a 10 s lead time: the window is [30 s, 50 s] after issue.
        QTest::newRow("earliest: half the lifetime") << 0.0 << 30000;
        QTest::newRow("middle") << 0.5 << 20000;
        QTest::newRow("latest: the lead time") << 1.0 << 10000;
    }
    void theScheduleUsesTheInjectedClockAndRandomSource()
    {
        QFETCH(double, random);
        QFETCH(int, beforeExpiryMs);
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        session->setRefreshLeadTime(10s);
        SessionCredential credential(session.get(), kResource);
        QVERIFY(credential.isProactiveRefreshEnabled());
        credential.setRandomSource([random] { return random; });
        const QDateTime expires = session->record().accessToken(kResource).expiresAt;
        QCOMPARE(credential.nextRefresh(), expires.addMSecs(-beforeExpiryMs));
        credential.setProactiveRefreshEnabled(false);
        QVERIFY(!credential.nextRefresh().isValid());
    }

    void theTokenIsRefreshedInTheBackgroundBeforeItIsStale()
    {
        // Real time here: 2-second tokens are refreshed 1 s before they expire (random 0), with
        // nobody asking — and then again for the new token.
        m_clock.frozen = false;
        m_expiresIn = 2;
        QScopedPointer<Session> session(restoredSession(2s));
        QVERIFY(session);
        SessionCredential credential(session.get(), kResource);
        credential.setRandomSource([] { return 0.0; });
        const QDateTime first = credential.nextRefresh();
        QCOMPARE(first, session->record().accessToken(kResource).expiresAt.addSecs(-1));
        QTRY_COMPARE_WITH_TIMEOUT(tokenRequests(), 1, 5000);
        QTRY_VERIFY(session->record().accessToken(kResource).token == "at-1");
        QVERIFY(m_clock.dateTime() >= first);
        QTRY_COMPARE(credential.nextRefresh(), session->record().accessToken(kResource).expiresAt.addSecs(-1));
        QTRY_COMPARE_WITH_TIMEOUT(tokenRequests(), 2, 5000);
        // A request meanwhile finds a fresh token and never waits for a refresh.
        auto http = clientWith(&credential);
        QVERIFY(!wait(http->get(QNetworkRequest(api()))).error);
        QCOMPARE(apiRequests(), 1);
    }

    void failedBackgroundRefreshesBackOffWithJitter()
    {
        QScopedPointer<Session> session(restoredSession(2s));
        QVERIFY(session);
        RefreshSchedule schedule;
        schedule.setInitialBackoff(300ms);
        m_clock.advance(1500ms); // inside the refresh window: due now
        const QByteArray unavailable = httpResponse(503, "{\"error\":\"temporarily_unavailable\"}");
        m_tokenAnswers = {unavailable, unavailable};
        SessionCredential credential(session.get(), kResource);
        credential.setRefreshSchedule(schedule);
        credential.setRandomSource([] { return 1.0; });
        QSignalSpy failed(&credential, &SessionCredential::backgroundRefreshFailed);
        QVERIFY(failed.wait(5000));
        QVERIFY(failed.first().first().value<Error>().isTransient());
        QCOMPARE(tokenRequests(), 1);
        QCOMPARE(m_clock.dateTime().msecsTo(credential.nextRefresh()), qint64(300)); // first step, random 1.0
        // The clock is frozen: nothing happens until it reaches the retry time.
        QVERIFY(!failed.wait(700));
        QCOMPARE(tokenRequests(), 1);
        m_clock.advance(300ms);
        QVERIFY(failed.wait(5000));
        QCOMPARE(tokenRequests(), 2);
        QCOMPARE(m_clock.dateTime().msecsTo(credential.nextRefresh()), qint64(600)); // doubled
        m_clock.advance(600ms);
        QTRY_COMPARE_WITH_TIMEOUT(tokenRequests(), 3, 5000); // succeeds
        QTRY_VERIFY(session->record().accessToken(kResource).token == "at-1");
        // Rescheduled when the credential's own (queued) callback comes: the backoff is over.
        QTRY_COMPARE(credential.nextRefresh(), session->record().accessToken(kResource).expiresAt.addSecs(-30)); // random 1.0: the window's end (lead capped at 30 s)
    }

    void aBackgroundRetryWaitsForRetryAfter()
    {
        QScopedPointer<Session> session(restoredSession(2s));
        QVERIFY(session);
        m_clock.advance(1500ms);
        m_tokenAnswers = {httpResponse(503, "{}", "application/json", {"Retry-After: 20"})};
        SessionCredential credential(session.get(), kResource);
        credential.setRandomSource([] { return 0.5; });
        QSignalSpy failed(&credential, &SessionCredential::backgroundRefreshFailed);
        QVERIFY(failed.wait(5000));
        // Drawn from [20 s, 40 s] (random 0.5), never before Retry-After: a fleet that heard the
        // same Retry-After does not come back in the same second.
        QCOMPARE(m_clock.dateTime().msecsTo(credential.nextRefresh()), qint64(30000));
    }

    void aTokenStillHandedOutIsRefreshedEarlyInTheBackground()
    {
        // A 60 s token, lead time 10 s: the session hands it out until 50 s, but the schedule
        // (random 0) refreshes it at 30 s, when it is still fresh — not merely looks at it.
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        session->setRefreshLeadTime(10s);
        m_clock.advance(30s);
        SessionCredential credential(session.get(), kResource);
        credential.setRandomSource([] { return 0.0; });
        QCOMPARE(credential.nextRefresh(), m_clock.dateTime()); // due now
        QSignalSpy changed(session.get(), &Session::tokensChanged);
        QVERIFY(changed.wait(5000));
        QCOMPARE(tokenRequests(), 1);
        QVERIFY(session->record().accessToken(kResource).token == "at-1");
        // The next one is planned for the new token; nothing else is asked for meanwhile.
        QTRY_COMPARE(credential.nextRefresh(), session->record().accessToken(kResource).expiresAt.addSecs(-30));
        QVERIFY(!changed.wait(300));
        QCOMPARE(tokenRequests(), 1);
    }

    void aCallerCanAskForATokenThatLasts()
    {
        // Session::accessTokenValidFor() on a 60 s token with a 5 s lead time.
        QScopedPointer<Session> session(restoredSession(60s));
        QVERIFY(session);
        session->setRefreshLeadTime(5s);
        QByteArray token;
        Error error;
        bool called = false;
        const auto ask = [&](std::chrono::milliseconds validity) {
            called = false;
            session->accessTokenValidFor(kResource, validity, this, [&](const QByteArray &t, const Error &e) {
                token = t;
                error = e;
                called = true;
            });
            return QTest::qWaitFor([&] { return called; }, 5000) && !error;
        };
        m_clock.advance(20s); // 40 s left
        QVERIFY(ask(15s));
        QVERIFY(token == "at-0");
        QVERIFY(ask(45s)); // capped at half the lifetime (30 s), like the lead time
        QVERIFY(token == "at-0");
        QCOMPARE(tokenRequests(), 0);
        m_clock.advance(15s); // 25 s left: fresh for the lead time, not for 28 s
        QVERIFY(ask(28s));
        QVERIFY(token == "at-1");
        QCOMPARE(tokenRequests(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_SessionCredential)
#include "tst_sessioncredential.moc"
