// SPDX-License-Identifier: MIT
// The one asynchronous contract (keyloop/job.h), checked for every job type: start() is queued,
// finished() comes exactly once (an immediate failure included), cancel() finishes with
// Cancelled and is a no-op once finished, error() is null on success, and the job deletes
// itself unless told not to. Every factory below works offline: the jobs fail (or succeed)
// without a network peer, so the test is about the contract, not the protocol.
#include <keyloop/discoveryjob.h>
#include <keyloop/accountindex.h>
#include <keyloop/endsessionjob.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/jwkscache.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/pushedauthorizationjob.h>
#include <keyloop/revocationjob.h>
#include <keyloop/secretjob.h>
#include <keyloop/session.h>
#include <keyloop/signin.h>
#include <keyloop/tokenclient.h>
#include <keyloop/userinfojob.h>

#include <QtCore/QPointer>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <functional>

using namespace Keyloop;

namespace {

struct Factory
{
    std::function<Job *()> make;
    Error::Code failure; // the code of the immediate failure (NoError: the job succeeds)
    bool startedByFactory = false; // HttpClient starts its replies (httpreply.h)
};

// Lets the event loop run until an event posted now has been delivered: everything queued
// before it (a pending finished(), a deleteLater()) has then been delivered too.
void drainQueued()
{
    bool delivered = false;
    QObject marker;
    QMetaObject::invokeMethod(&marker, [&delivered] { delivered = true; }, Qt::QueuedConnection);
    QTRY_VERIFY(delivered);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

} // namespace

class tst_JobContract : public QObject
{
    Q_OBJECT

    QNetworkAccessManager m_nam;
    MemoryTokenStore m_store{QStringLiteral("org.keyloop.test.jobcontract")};
    TokenClient m_tokens{&m_nam, TransportOptions()};
    HttpClient m_http{&m_nam, TransportOptions()};
    Session *m_session = nullptr;
    QMap<QString, Factory> m_factories;

    ClientConfiguration client() const
    {
        ClientConfiguration c;
        c.setIssuer(QUrl(QStringLiteral("https://issuer.example")));
        c.setClientId(QStringLiteral("app"));
        return c;
    }
    ProviderConfiguration provider() const
    {
        ProviderConfiguration p;
        p.setIssuer(QUrl(QStringLiteral("https://issuer.example")));
        p.setTokenEndpoint(QUrl(QStringLiteral("https://issuer.example/token")));
        return p;
    }

    void addJobRows()
    {
        QTest::addColumn<QString>("job");
        for (auto it = m_factories.cbegin(); it != m_factories.cend(); ++it)
            QTest::newRow(qPrintable(it.key())) << it.key();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_session = new Session(client(), provider(), &m_store, &m_nam, this);
        m_factories = {
            {QStringLiteral("DiscoveryJob"),
             {[this] { return new DiscoveryJob(&m_nam, QUrl(QStringLiteral("http://issuer.example")), TransportOptions()); },
              Error::Code::InsecureEndpoint}},
            {QStringLiteral("TokenJob"),
             {[this] {
                  ClientConfiguration c = client();
                  c.setClientId(QString());
                  return m_tokens.exchangeCode(provider(), c, "code", "verifier", QUrl(QStringLiteral("http://127.0.0.1:1/cb")));
              },
              Error::Code::InvalidConfiguration}},
            {QStringLiteral("RevocationJob"),
             {[this] { return m_tokens.revoke(provider(), client(), "token", RevocationJob::TokenTypeHint::RefreshToken); },
              Error::Code::InvalidConfiguration}}, // the provider has no revocation_endpoint
            {QStringLiteral("PushedAuthorizationJob"),
             {[this] { return m_tokens.pushAuthorizationRequest(provider(), client(), AuthorizationRequest()); },
              Error::Code::InvalidConfiguration}}, // the provider has no pushed_authorization_request_endpoint
            {QStringLiteral("IdTokenValidationJob"),
             {[] {
                  return new IdTokenValidationJob(IdTokenValidator(QStringLiteral("https://issuer.example"), QStringLiteral("app")),
                                                  nullptr, QUrl(), "a.b.c", IdTokenExpectations());
              },
              Error::Code::InvalidConfiguration}},
            {QStringLiteral("UserInfoJob"),
             {[this] { return new UserInfoJob(&m_nam, provider(), TransportOptions(), "token", IdTokenClaims()); },
              Error::Code::InvalidConfiguration}},
            {QStringLiteral("TokenStoreJob read"),
             {[this] { return m_store.read(QStringLiteral("absent")); }, Error::Code::NotFound}},
            {QStringLiteral("TokenStoreJob write"),
             {[this] { return m_store.write(QStringLiteral("k"), SessionRecord()); }, Error::Code::NoError}},
            {QStringLiteral("SecretJob read"),
             {[] { return SecretJob::read(QString(), QStringLiteral("api-key:x")); }, Error::Code::InvalidConfiguration}},
            {QStringLiteral("SecretJob write"),
             {[] { return SecretJob::write(QStringLiteral("org.keyloop.test"), QStringLiteral("api-key:x"), QByteArray()); },
              Error::Code::InvalidConfiguration}},
            {QStringLiteral("SessionJob restore"), {[this] { return m_session->restore(); }, Error::Code::NotFound}},
            {QStringLiteral("SessionJob signOut"), {[this] { return m_session->signOut(); }, Error::Code::NoError}},
            {QStringLiteral("SignIn"),
             {[this] { return new SignIn(ClientConfiguration(), &m_nam); }, Error::Code::InvalidConfiguration}},
            {QStringLiteral("EndSessionJob"),
             {[this] { return new EndSessionJob(client(), provider(), "id.token.hint"); },
              Error::Code::EndSessionNotSupported}}, // the provider has no end_session_endpoint
            {QStringLiteral("HttpReply"),
             {[this] { return m_http.get(QNetworkRequest(QUrl(QStringLiteral("http://api.example/")))); },
              Error::Code::InsecureEndpoint, true}},
        };
    }

    void startIsQueuedAndFinishesExactlyOnce_data() { addJobRows(); }
    void startIsQueuedAndFinishesExactlyOnce()
    {
        QFETCH(QString, job);
        const Factory f = m_factories.value(job);
        QPointer<Job> j = f.make();
        QCOMPARE(j->isStarted(), f.startedByFactory);
        QSignalSpy finished(j.data(), &Job::finished);
        j->start();
        j->start(); // no effect
        QVERIFY(j->isStarted());
        QCOMPARE(finished.count(), 0); // never from inside start(), even for an immediate failure
        Error::Code code = Error::Code::NoError;
        connect(j.data(), &Job::finished, this, [&code, j] { code = j->error().code(); });
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(code, f.failure); // error() is null on success, set on failure
        QTRY_VERIFY(j.isNull());   // auto-deleted after finished()
        drainQueued();
        QCOMPARE(finished.count(), 1);
    }

    void connectingAfterStartIsSafe_data() { addJobRows(); }
    void connectingAfterStartIsSafe()
    {
        QFETCH(QString, job);
        Job *j = m_factories.value(job).make();
        j->start();
        int count = 0;
        connect(j, &Job::finished, this, [&count] { ++count; });
        QTRY_COMPARE(count, 1);
    }

    void cancelFinishesWithCancelledOnce_data() { addJobRows(); }
    void cancelFinishesWithCancelledOnce()
    {
        QFETCH(QString, job);
        Job *j = m_factories.value(job).make();
        j->setAutoDelete(false);
        QSignalSpy finished(j, &Job::finished);
        j->start();
        j->cancel();
        QVERIFY(j->isFinished());
        QCOMPARE(finished.count(), 0); // queued
        j->cancel();                   // no effect
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(j->error().code(), Error::Code::Cancelled);
        drainQueued();
        QCOMPARE(finished.count(), 1); // the cancelled work reports nothing more
        delete j;
    }

    void cancelBeforeStartFinishesAndNeverStarts_data() { addJobRows(); }
    void cancelBeforeStartFinishesAndNeverStarts()
    {
        QFETCH(QString, job);
        // (A reply HttpClient started is cancelled before its work began: the same contract.)
        QPointer<Job> j = m_factories.value(job).make();
        QSignalSpy finished(j.data(), &Job::finished);
        j->cancel();
        j->start(); // no effect: the job is finished
        QTRY_COMPARE(finished.count(), 1);
        QTRY_VERIFY(j.isNull());
    }

    void cancelAfterFinishDoesNothing_data() { addJobRows(); }
    void cancelAfterFinishDoesNothing()
    {
        QFETCH(QString, job);
        const Factory f = m_factories.value(job);
        Job *j = f.make();
        j->setAutoDelete(false);
        QSignalSpy finished(j, &Job::finished);
        j->start();
        QTRY_COMPARE(finished.count(), 1);
        j->cancel();
        drainQueued();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(j->error().code(), f.failure);
        delete j;
    }

    void withoutAutoDeleteTheJobStays_data() { addJobRows(); }
    void withoutAutoDeleteTheJobStays()
    {
        QFETCH(QString, job);
        QPointer<Job> j = m_factories.value(job).make();
        j->setAutoDelete(false);
        QSignalSpy finished(j.data(), &Job::finished);
        j->start();
        QTRY_COMPARE(finished.count(), 1);
        drainQueued();
        QVERIFY(!j.isNull());
        QVERIFY(j->isFinished());
        delete j.data();
    }

    // ---- The second shape: a callback with a context object --------------------------

    void freshAccessTokenCallbackIsQueuedAndCalledOnce()
    {
        Session session(client(), provider(), &m_store, &m_nam);
        int calls = 0;
        Error error;
        session.freshAccessToken(QString(), this, [&](const QByteArray &, const Error &e) {
            ++calls;
            error = e;
        });
        QCOMPARE(calls, 0); // never before returning
        QTRY_COMPARE(calls, 1);
        QCOMPARE(error.code(), Error::Code::SignInRequired);
        drainQueued();
        QCOMPARE(calls, 1);
    }

    void freshAccessTokenNeverCallsADestroyedContext()
    {
        Session session(client(), provider(), &m_store, &m_nam);
        int calls = 0;
        auto *context = new QObject;
        session.freshAccessToken(QString(), context, [&calls](const QByteArray &, const Error &) { ++calls; });
        delete context;
        int later = 0;
        session.freshAccessToken(QString(), this, [&later](const QByteArray &, const Error &) { ++later; });
        QTRY_COMPARE(later, 1); // queued after the first one
        QCOMPARE(calls, 0);
    }

    void destroyingTheProviderStillCallsBackOnce()
    {
        // A session destroyed while a caller waits (a refresh that cannot start: the token
        // endpoint is unreachable, so the waiter is still queued when the session goes).
        int sessionCalls = 0;
        Error sessionError;
        {
            MemoryTokenStore store(QStringLiteral("org.keyloop.test.jobcontract.destroy"));
            Session session(client(), provider(), &store, &m_nam);
            SessionRecord r;
            r.setIssuer(QStringLiteral("https://issuer.example"));
            r.setClientId(QStringLiteral("app"));
            r.setRefreshToken("rt");
            SessionJob *restore = session.restore(r);
            QSignalSpy restored(restore, &Job::finished);
            restore->start();
            QVERIFY(restored.wait());
            session.freshAccessToken(QString(), this, [&](const QByteArray &, const Error &e) {
                ++sessionCalls;
                sessionError = e;
            });
        }
        QTRY_COMPARE(sessionCalls, 1);
        QCOMPARE(sessionError.code(), Error::Code::Cancelled);

        int cacheCalls = 0;
        Error cacheError;
        {
            JwksCache cache([](const QUrl &, QObject *, JwksCache::FetchCallback) { /* never answers */ });
            cache.keys(QUrl(QStringLiteral("https://issuer.example/jwks")), this, [&](const JwksCache::KeysResult &r) {
                ++cacheCalls;
                cacheError = r.error;
            });
        }
        QTRY_COMPARE(cacheCalls, 1);
        QCOMPARE(cacheError.code(), Error::Code::Cancelled);

        QTemporaryDir dir;
        int indexCalls = 0;
        {
            AccountIndex index(QStringLiteral("org.keyloop.test.jobcontract"), dir.path());
            index.upsert(AccountIndexEntry{QStringLiteral("https://i"), QStringLiteral("c"), QString(), QString(),
                                           QString(), QDateTime::currentDateTimeUtc()},
                         this, [&indexCalls](const Error &) { ++indexCalls; });
        }
        QTRY_COMPARE(indexCalls, 1);
        drainQueued();
        QCOMPARE(indexCalls, 1);
        QCOMPARE(sessionCalls, 1);
        QCOMPARE(cacheCalls, 1);
    }
};

QTEST_GUILESS_MAIN(tst_JobContract)
#include "tst_jobcontract.moc"
