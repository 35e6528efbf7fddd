// SPDX-License-Identifier: MIT
// RefreshSchedule::next() as a pure function: where in the refresh window a token is refreshed
// (jitter), how far retries back off (with jitter), Retry-After, and the bounds of the
// distribution over many random draws.
#include <keyloop/refreshschedule.h>

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {
const QDateTime kIssued = QDateTime(QDate(2030, 1, 1), QTime(12, 0), Qt::UTC);
}

class tst_RefreshSchedule : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void freshTokenIsRefreshedInTheFirstHalfOfTheLeadWindow_data()
    {
        QTest::addColumn<int>("lifetimeSeconds");
        QTest::addColumn<int>("leadSeconds");
        QTest::addColumn<qint64>("earliestBeforeExpiryMs"); // the window's start
        QTest::addColumn<qint64>("latestBeforeExpiryMs");   // never later than this before expiry
        QTest::newRow("one hour, 60 s lead") << 3600 << 60 << qint64(60000) << qint64(30000);
        QTest::newRow("two seconds: lead capped at 1 s") << 2 << 60 << qint64(1000) << qint64(500);
        QTest::newRow("five minutes, 10 s lead") << 300 << 10 << qint64(10000) << qint64(5000);
        QTest::newRow("no lead time") << 3600 << 0 << qint64(0) << qint64(0);
    }
    void freshTokenIsRefreshedInTheFirstHalfOfTheLeadWindow()
    {
        QFETCH(int, lifetimeSeconds);
        QFETCH(int, leadSeconds);
        QFETCH(qint64, earliestBeforeExpiryMs);
        QFETCH(qint64, latestBeforeExpiryMs);
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(lifetimeSeconds);
        const auto lead = std::chrono::milliseconds(std::chrono::seconds(leadSeconds));
        // The ends of the distribution, exactly.
        QCOMPARE(schedule.next(kIssued, expires, kIssued, lead, 0.0), expires.addMSecs(-earliestBeforeExpiryMs));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, lead, 1.0), expires.addMSecs(-latestBeforeExpiryMs));
        // And many draws stay inside them and actually spread over them.
        QRandomGenerator random(42);
        QDateTime lowest = expires, highest = kIssued;
        for (int i = 0; i < 10000; ++i) {
            const QDateTime when = schedule.next(kIssued, expires, kIssued, lead, random.generateDouble());
            QVERIFY(when >= expires.addMSecs(-earliestBeforeExpiryMs));
            QVERIFY(when <= expires.addMSecs(-latestBeforeExpiryMs));
            lowest = std::min(lowest, when);
            highest = std::max(highest, when);
        }
        const qint64 span = earliestBeforeExpiryMs - latestBeforeExpiryMs;
        QVERIFY(lowest.msecsTo(highest) >= span * 95 / 100); // a fleet is spread over the whole range
    }

    void drawsAreUniformEnoughToDesynchroniseAFleet()
    {
        // 10 000 clients whose tokens were issued at the same instant (say, after an outage)
        // refresh at 10 000 different times: no 1-second bucket of the 30-second range gets
        // more than twice its share.
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        QRandomGenerator random(7);
        QList<int> buckets(30, 0);
        for (int i = 0; i < 10000; ++i) {
            const QDateTime when = schedule.next(kIssued, expires, kIssued, 60s, random.generateDouble());
            const qint64 offset = expires.addSecs(-60).msecsTo(when);
            buckets[int(std::min<qint64>(offset / 1000, 29))]++;
        }
        for (int count : std::as_const(buckets))
            QVERIFY2(count > 10000 / 30 / 2 && count < 10000 / 30 * 2, qPrintable(QString::number(count)));
    }

    void neverEarlierThanNow()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime late = expires.addSecs(-10); // already inside the window
        QCOMPARE(schedule.next(kIssued, expires, late, 60s, 0.0), late);
        const QDateTime afterExpiry = expires.addSecs(100);
        QCOMPARE(schedule.next(kIssued, expires, afterExpiry, 60s, 0.5), afterExpiry);
    }

    void nothingToScheduleWithoutExpiry()
    {
        const RefreshSchedule schedule;
        QVERIFY(!schedule.next(kIssued, QDateTime(), kIssued, 60s, 0.5).isValid());
        // ... unless a failure asks for a retry.
        QVERIFY(schedule.next(kIssued, QDateTime(), kIssued, 60s, 0.5, 1).isValid());
    }

    void withoutIssueTimeTheLeadTimeIsNotCapped()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        QCOMPARE(schedule.next(QDateTime(), expires, kIssued, 60s, 0.0), expires.addSecs(-60));
    }

    void jitterFractionBoundsTheWindow()
    {
        RefreshSchedule schedule;
        schedule.setJitterFraction(0.0);
        const QDateTime expires = kIssued.addSecs(3600);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 0.99), expires.addSecs(-60));
        schedule.setJitterFraction(1.0);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 1.0), expires);
        schedule.setJitterFraction(7.0); // clamped
        QCOMPARE(schedule.jitterFraction(), 1.0);
    }

    void backoffGrowsWithJitterAndIsCapped_data()
    {
        QTest::addColumn<int>("failures");
        QTest::addColumn<qint64>("stepMs"); // the n-th retry waits in [step/2, step]
        QTest::newRow("first") << 1 << qint64(2000);
        QTest::newRow("second") << 2 << qint64(4000);
        QTest::newRow("third") << 3 << qint64(8000);
        QTest::newRow("eighth") << 8 << qint64(256000);
        QTest::newRow("ninth: capped at 5 min") << 9 << qint64(300000);
        QTest::newRow("hundredth: capped") << 100 << qint64(300000);
    }
    void backoffGrowsWithJitterAndIsCapped()
    {
        QFETCH(int, failures);
        QFETCH(qint64, stepMs);
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime now = kIssued.addSecs(3590);
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, failures)), stepMs / 2);
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 1.0, failures)), stepMs);
        QRandomGenerator random(3);
        for (int i = 0; i < 1000; ++i) {
            const qint64 delay = now.msecsTo(schedule.next(kIssued, expires, now, 60s, random.generateDouble(), failures));
            QVERIFY(delay >= stepMs / 2 && delay <= stepMs);
        }
    }

    void retryAfterIsAFloor()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime now = kIssued.addSecs(3590);
        // The backoff would be 1–2 s; the server said 20 s.
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.3, 1, 20s)), qint64(20000));
        // A backoff longer than Retry-After stays.
        QVERIFY(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 8, 20s)) >= 128000);
    }

    void customBackoff()
    {
        RefreshSchedule schedule;
        schedule.setInitialBackoff(100ms);
        schedule.setMaximumBackoff(1s);
        const QDateTime now = kIssued;
        QCOMPARE(now.msecsTo(schedule.next(kIssued, kIssued.addSecs(60), now, 60s, 1.0, 1)), qint64(100));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, kIssued.addSecs(60), now, 60s, 1.0, 20)), qint64(1000));
    }

    void outOfRangeRandomIsClamped()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, -5.0), expires.addSecs(-60));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 5.0), expires.addSecs(-30));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, std::nan("")), expires.addSecs(-60));
    }

    void copiesAreIndependent()
    {
        RefreshSchedule a;
        RefreshSchedule b = a;
        b.setJitterFraction(0.1);
        QCOMPARE(a.jitterFraction(), 0.5);
        QCOMPARE(b.jitterFraction(), 0.1);
    }
};

QTEST_GUILESS_MAIN(tst_RefreshSchedule)
#include "tst_refreshschedule.moc"
