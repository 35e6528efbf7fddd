// SPDX-License-Identifier: MIT
// JwksCache (HTTP caching, rate-limited refetch, shared fetches) and IdTokenValidationJob
// (key rotation), with a fake fetcher that counts fetches: no network.
#include <QtTest/QtTest>

#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/jwkscache.h>

#include "josetestutil.h"

using namespace Keyloop;
using namespace JoseTest;

namespace {

const qint64 kNow = 1700000000;
const QString kIssuer = QStringLiteral("https://issuer.example");
const QString kClient = QStringLiteral("client-1");
const QUrl kJwksUri(QStringLiteral("https://issuer.example/jwks"));

QString s(const char *text) { return QString::fromLatin1(text); }

/// Answers every fetch from the event loop with the current document and headers.
struct FakeProvider
{
    QByteArray body = R"({"keys":[]})";
    QByteArray cacheControl;
    QByteArray expires;
    int status = 200;
    Error error;
    int fetches = 0;

    JwksCache::Fetcher fetcher()
    {
        return [this](const QUrl &, QObject *context, JwksCache::FetchCallback done) {
            ++fetches;
            JwksCache::FetchResult r;
            r.body = body;
            r.cacheControl = cacheControl;
            r.expires = expires;
            r.httpStatus = status;
            r.error = error;
            QTimer::singleShot(0, context, [r, done] { done(r); });
        };
    }
};

QByteArray jwks(const QList<QJsonObject> &keys)
{
    QJsonArray array;
    for (const QJsonObject &k : keys)
        array.append(k);
    return compactJson(QJsonObject{{s("keys"), array}});
}

} // namespace

class TestJwksCache : public QObject
{
    Q_OBJECT

private:
    PKey m_old, m_new;
    ManualClock m_clock{kNow};

    QByteArray idToken(EVP_PKEY *key, const QString &kid) const
    {
        QJsonObject c;
        c[s("iss")] = kIssuer;
        c[s("sub")] = s("user-1");
        c[s("aud")] = kClient;
        c[s("exp")] = double(m_clock.seconds() + 300);
        c[s("iat")] = double(m_clock.seconds());
        c[s("nonce")] = s("n1");
        return makeToken(key, s("RS256"), kid, c);
    }

    IdTokenValidator validator() const
    {
        IdTokenValidator v(kIssuer, kClient);
        v.setClock(&m_clock);
        return v;
    }

    static IdTokenExpectations expect()
    {
        IdTokenExpectations e;
        e.setNonce(s("n1"));
        return e;
    }

    // Runs one validation job to completion; returns its error.
    Error runJob(JwksCache *cache, const QByteArray &token, bool *refetched = nullptr)
    {
        auto *job = new IdTokenValidationJob(validator(), cache, kJwksUri, token, expect());
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        if (!spy.wait(5000)) {
            delete job;
            return Error(Error::Code::Timeout, s("job did not finish"));
        }
        [&] { QCOMPARE(spy.count(), 1); }();
        const Error error = job->error();
        if (refetched)
            *refetched = job->keysWereRefetched();
        if (!error)
            [&] { QCOMPARE(job->claims().subject(), s("user-1")); }();
        delete job;
        return error;
    }

    // keys() to completion.
    JwksCache::KeysResult fetchKeys(JwksCache *cache)
    {
        JwksCache::KeysResult out;
        bool done = false;
        cache->keys(kJwksUri, this, [&](const JwksCache::KeysResult &r) { out = r; done = true; });
        [&] { QVERIFY(!done); }(); // never called synchronously
        [&] { QTRY_VERIFY(done); }();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_old = generateRsa();
        m_new = generateRsa();
    }

    void init() { m_clock.setSeconds(kNow); }

    void cachesAndSharesFetches()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        int answers = 0;
        for (int i = 0; i < 3; ++i) // concurrent requests share one fetch
            cache.keys(kJwksUri, this, [&](const JwksCache::KeysResult &r) { answers += r.keys.size(); });
        QTRY_COMPARE(answers, 3);
        QCOMPARE(p.fetches, 1);
        const auto again = fetchKeys(&cache);
        QCOMPARE(again.keys.size(), 1);
        QVERIFY(!again.fetched);
        QCOMPARE(p.fetches, 1);
        QCOMPARE(cache.fetchCount(), 1);
        QVERIFY(cache.cachedKeys(kJwksUri));
    }

    void honoursCachingHeaders_data()
    {
        QTest::addColumn<QByteArray>("cacheControl");
        QTest::addColumn<QByteArray>("expires");
        QTest::addColumn<int>("freshFor"); // seconds the set is served without a fetch

        QTest::newRow("no headers: default 1 h") << QByteArray() << QByteArray() << 3600;
        QTest::newRow("max-age 7200") << QByteArray("public, max-age=7200") << QByteArray() << 7200;
        QTest::newRow("max-age below minimum") << QByteArray("max-age=10") << QByteArray() << 300;
        QTest::newRow("max-age above maximum") << QByteArray("max-age=31536000") << QByteArray() << 86400;
        QTest::newRow("no-cache: minimum") << QByteArray("no-cache") << QByteArray() << 300;
        QTest::newRow("Expires in 2 h") << QByteArray()
            << QDateTime::fromSecsSinceEpoch(kNow + 7200, Qt::UTC).toString(Qt::RFC2822Date).toLatin1() << 7200;
        QTest::newRow("max-age wins over Expires") << QByteArray("max-age=1800")
            << QDateTime::fromSecsSinceEpoch(kNow + 7200, Qt::UTC).toString(Qt::RFC2822Date).toLatin1() << 1800;
        QTest::newRow("invalid Expires: minimum") << QByteArray() << QByteArray("soon") << 300;
        QTest::newRow("no-store: not kept") << QByteArray("no-store") << QByteArray() << 0;
    }

    void honoursCachingHeaders()
    {
        QFETCH(QByteArray, cacheControl);
        QFETCH(QByteArray, expires);
        QFETCH(int, freshFor);
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        p.cacheControl = cacheControl;
        p.expires = expires;
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QCOMPARE(fetchKeys(&cache).keys.size(), 1);
        QCOMPARE(p.fetches, 1);
        if (freshFor > 0) {
            m_clock.advance(std::chrono::seconds(freshFor - 1));
            fetchKeys(&cache);
            QCOMPARE(p.fetches, 1);
            m_clock.advance(std::chrono::seconds(1));
        }
        fetchKeys(&cache);
        QCOMPARE(p.fetches, 2);
    }

    void reportsFetchFailures_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error>("transport");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("HTTP 500") << 500 << QByteArray("oops") << Error() << Error::Code::HttpError;
        QTest::newRow("not JSON") << 200 << QByteArray("<html>") << Error() << Error::Code::JoseMalformed;
        QTest::newRow("duplicate members") << 200 << QByteArray(R"({"keys":[],"keys":[]})") << Error() << Error::Code::DuplicateParameter;
        QTest::newRow("network") << 0 << QByteArray() << Error(Error::Code::NetworkError, s("down")) << Error::Code::NetworkError;
    }

    void reportsFetchFailures()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error, transport);
        QFETCH(Error::Code, code);
        FakeProvider p;
        p.status = status;
        p.body = body;
        p.error = transport;
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QCOMPARE(fetchKeys(&cache).error.code(), code);
        QVERIFY(!cache.cachedKeys(kJwksUri));
        QCOMPARE(runJob(&cache, idToken(m_old.get(), s("old"))).code(), code);
    }

    void validatesWithCachedKeys()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(runJob(&cache, idToken(m_old.get(), s("old"))).code(), Error::Code::NoError);
        QCOMPARE(p.fetches, 1);
    }

    void unknownKidThenRotation()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QCOMPARE(runJob(&cache, idToken(m_old.get(), s("old"))).code(), Error::Code::NoError);
        QCOMPARE(p.fetches, 1);
        // The provider rotates: the next token names a kid the cached set lacks.
        p.body = jwks({publicJwk(m_old.get(), s("old")), publicJwk(m_new.get(), s("new"))});
        bool refetched = false;
        QCOMPARE(runJob(&cache, idToken(m_new.get(), s("new")), &refetched).code(), Error::Code::NoError);
        QVERIFY(refetched);
        QCOMPARE(p.fetches, 2); // exactly one extra fetch
        QCOMPARE(runJob(&cache, idToken(m_new.get(), s("new"))).code(), Error::Code::NoError);
        QCOMPARE(p.fetches, 2);
    }

    // A set kept elsewhere (with a stored session) and seeded into a new cache — a restarted
    // app — is used without a fetch until it expires; an unknown kid still refetches once.
    void aRememberedSetIsUsedWithoutAFetchWhileFresh()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        p.cacheControl = "max-age=7200";
        std::optional<JwksCache::CachedSet> kept;
        {
            JwksCache first(p.fetcher());
            first.setClock(&m_clock);
            QVERIFY(!first.cachedSet(kJwksUri));
            QCOMPARE(fetchKeys(&first).keys.size(), 1);
            kept = first.cachedSet(kJwksUri);
            QVERIFY(kept);
            QVERIFY(kept->document == p.body);
            QCOMPARE(kept->expiresAt, QDateTime::fromSecsSinceEpoch(kNow + 7200, Qt::UTC));
        }
        QCOMPARE(p.fetches, 1);
        m_clock.advance(std::chrono::seconds(3600));
        JwksCache restarted(p.fetcher());
        restarted.setClock(&m_clock);
        QVERIFY(restarted.insertCachedSet(kJwksUri, *kept));
        QCOMPARE(runJob(&restarted, idToken(m_old.get(), s("old"))).code(), Error::Code::NoError);
        QCOMPARE(p.fetches, 1);
        // The provider rotated meanwhile: one refetch for the unknown kid, then cached.
        p.body = jwks({publicJwk(m_old.get(), s("old")), publicJwk(m_new.get(), s("new"))});
        bool refetched = false;
        QCOMPARE(runJob(&restarted, idToken(m_new.get(), s("new")), &refetched).code(), Error::Code::NoError);
        QVERIFY(refetched);
        QCOMPARE(p.fetches, 2);
        QCOMPARE(runJob(&restarted, idToken(m_new.get(), s("new"))).code(), Error::Code::NoError);
        QCOMPARE(p.fetches, 2);
    }

    void aRememberedSetIsRefusedWhenStaleBrokenOrTooLongLived_data()
    {
        QTest::addColumn<QByteArray>("document");
        QTest::addColumn<qint64>("expiresIn"); // seconds from now
        QTest::addColumn<bool>("accepted");
        const QByteArray good = R"({"keys":[]})";
        QTest::newRow("fresh") << good << qint64(600) << true;
        QTest::newRow("24 h: the longest a fetch gives") << good << qint64(86400) << true;
        QTest::newRow("expired") << good << qint64(0) << false;
        QTest::newRow("beyond 24 h: a tampered copy cannot pin keys") << good << qint64(86401) << false;
        QTest::newRow("not a JWKS") << QByteArray("{\"keys\":") << qint64(600) << false;
    }
    void aRememberedSetIsRefusedWhenStaleBrokenOrTooLongLived()
    {
        QFETCH(QByteArray, document);
        QFETCH(qint64, expiresIn);
        QFETCH(bool, accepted);
        FakeProvider p;
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        const JwksCache::CachedSet set{document, QDateTime::fromSecsSinceEpoch(kNow + expiresIn, Qt::UTC)};
        QCOMPARE(cache.insertCachedSet(kJwksUri, set), accepted);
        QCOMPARE(bool(cache.cachedKeys(kJwksUri)), accepted);
        QVERIFY(!cache.insertCachedSet(kJwksUri, JwksCache::CachedSet{document, QDateTime()}));
    }

    void aRememberedSetNeverReplacesAFresherOne()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_new.get(), s("new"))});
        p.cacheControl = "max-age=7200";
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QCOMPARE(fetchKeys(&cache).keys.size(), 1);
        const QByteArray older = jwks({publicJwk(m_old.get(), s("old"))});
        QVERIFY(!cache.insertCachedSet(kJwksUri, {older, QDateTime::fromSecsSinceEpoch(kNow + 600, Qt::UTC)}));
        QVERIFY(cache.cachedKeys(kJwksUri)->containsKeyId(s("new")));
        QVERIFY(cache.insertCachedSet(kJwksUri, {older, QDateTime::fromSecsSinceEpoch(kNow + 8000, Qt::UTC)}));
        QVERIFY(cache.cachedKeys(kJwksUri)->containsKeyId(s("old")));
    }

    void unknownKidForever()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        const QByteArray bogus = idToken(m_new.get(), s("made-up"));
        QCOMPARE(runJob(&cache, bogus).code(), Error::Code::JoseKeyNotFound);
        QCOMPARE(p.fetches, 2); // the initial fetch + exactly one refetch
        for (int i = 0; i < 5; ++i) { // a stream of bad tokens: no more fetches
            m_clock.advance(std::chrono::seconds(5));
            QCOMPARE(runJob(&cache, idToken(m_new.get(), s("made-up"))).code(), Error::Code::JoseKeyNotFound);
        }
        QCOMPARE(p.fetches, 2);
        m_clock.advance(std::chrono::seconds(6)); // 31 s after the refetch
        QCOMPARE(runJob(&cache, idToken(m_new.get(), s("made-up"))).code(), Error::Code::JoseKeyNotFound);
        QCOMPARE(p.fetches, 3);
    }

    void refetchIntervalIsConfigurable()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        cache.setMinimumRefetchInterval(std::chrono::seconds(300));
        QCOMPARE(cache.minimumRefetchInterval(), std::chrono::seconds(300));
        QCOMPARE(runJob(&cache, idToken(m_new.get(), s("x"))).code(), Error::Code::JoseKeyNotFound);
        m_clock.advance(std::chrono::seconds(60));
        QCOMPARE(runJob(&cache, idToken(m_new.get(), s("x"))).code(), Error::Code::JoseKeyNotFound);
        QCOMPARE(p.fetches, 2);
    }

    void concurrentJobsShareOneFetch()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QList<IdTokenValidationJob *> jobs;
        int finished = 0;
        for (int i = 0; i < 4; ++i) {
            auto *job = new IdTokenValidationJob(validator(), &cache, kJwksUri, idToken(m_old.get(), s("old")), expect(), this);
            connect(job, &Job::finished, this, [&finished, job] {
                if (!job->error())
                    ++finished;
            });
            job->start();
        }
        QTRY_COMPARE(finished, 4);
        QCOMPARE(p.fetches, 1);
    }

    void callbackDroppedWithContext()
    {
        FakeProvider p;
        JwksCache cache(p.fetcher());
        auto *context = new QObject;
        bool called = false;
        cache.keys(kJwksUri, context, [&](const JwksCache::KeysResult &) { called = true; });
        // A second caller joins the same fetch; waiters are answered in order, so once it has
        // its answer the first one's is either delivered or dropped: wait for that, not a while.
        QObject alive;
        bool aliveCalled = false;
        cache.keys(kJwksUri, &alive, [&](const JwksCache::KeysResult &) { aliveCalled = true; });
        delete context;
        QTRY_VERIFY(aliveCalled);
        QCOMPARE(p.fetches, 1);
        QVERIFY(!called);
    }

    void jobFinishesOnceAndDeletesItself()
    {
        FakeProvider p;
        p.body = jwks({publicJwk(m_old.get(), s("old"))});
        JwksCache cache(p.fetcher());
        cache.setClock(&m_clock);
        QPointer<IdTokenValidationJob> job = new IdTokenValidationJob(validator(), &cache, kJwksUri, "not-a-token", expect());
        QSignalSpy spy(job.data(), &Job::finished);
        job->start();
        QVERIFY(spy.wait(5000));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(job->error().code(), Error::Code::JoseMalformed);
        QTRY_VERIFY(job.isNull());
    }
};

QTEST_GUILESS_MAIN(TestJwksCache)
#include "tst_jwkscache.moc"
