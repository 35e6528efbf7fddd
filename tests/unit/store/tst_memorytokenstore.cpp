// SPDX-License-Identifier: MIT
// MemoryTokenStore and the TokenStoreJob contract (queued start, finished once, auto-delete).
#include <keyloop/memorytokenstore.h>

#include <QtCore/QPointer>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

SessionRecord record(const QByteArray &refreshToken)
{
    SessionRecord r;
    r.setIssuer(QStringLiteral("https://i"));
    r.setClientId(QStringLiteral("c"));
    r.setRefreshToken(refreshToken);
    return r;
}

// Starts \a job and waits for its one finished() signal; returns the job's error.
Error run(TokenStoreJob *job, SessionRecord *out = nullptr)
{
    job->setAutoDelete(false);
    QSignalSpy spy(job, &Job::finished);
    job->start();
    if (!spy.wait(5000))
        return Error(Error::Code::Timeout, QStringLiteral("job did not finish"));
    const Error e = job->error();
    if (out)
        *out = job->record();
    delete job;
    return e;
}

} // namespace

class TestMemoryTokenStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void readOfMissingKeyIsNotFound()
    {
        MemoryTokenStore store;
        QCOMPARE(run(store.read(QStringLiteral("k"))).code(), Error::Code::NotFound);
    }

    void writeReadRemoveRoundTrip()
    {
        MemoryTokenStore store;
        QVERIFY(!run(store.write(QStringLiteral("k"), record("rt1"))));
        SessionRecord back;
        QVERIFY(!run(store.read(QStringLiteral("k")), &back));
        QVERIFY(back.refreshToken() == QByteArray("rt1"));
        QCOMPARE(store.keys(), QStringList{QStringLiteral("k")});
        QVERIFY(!run(store.remove(QStringLiteral("k"))));
        QCOMPARE(run(store.read(QStringLiteral("k"))).code(), Error::Code::NotFound);
        QVERIFY(!run(store.remove(QStringLiteral("k")))); // absent is success
    }

    void probeSucceeds()
    {
        MemoryTokenStore store;
        QVERIFY(!run(store.probe()));
        QVERIFY(store.keys().isEmpty());
    }

    void startIsQueuedAndFinishesExactlyOnce()
    {
        MemoryTokenStore store;
        TokenStoreJob *job = store.read(QStringLiteral("k"));
        QPointer<TokenStoreJob> guard(job);
        int count = 0;
        connect(job, &Job::finished, this, [&count] { ++count; });
        job->start();
        job->start(); // no effect
        QCOMPARE(count, 0); // not before returning to the event loop
        QTRY_COMPARE(count, 1);
        QTRY_VERIFY(!guard); // auto-deleted
        QCOMPARE(count, 1);
    }

    void jobsAreDeletedWithTheStore()
    {
        auto *store = new MemoryTokenStore;
        QPointer<TokenStoreJob> job = store->read(QStringLiteral("k"));
        delete store;
        QVERIFY(!job);
    }
};

QTEST_GUILESS_MAIN(TestMemoryTokenStore)
#include "tst_memorytokenstore.moc"
