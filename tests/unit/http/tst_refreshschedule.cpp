// SPDX-License-Identifier: MIT
// RefreshSchedule::next() as a pure function: where in the refresh window (the second half of
// the lifetime, up to the lead time) a token is refreshed (jitter), how far retries back off
// (with jitter), Retry-After, and the bounds of the distribution over many random draws. The
// fleet-wide effect is measured by bench/fleet (bench_fleet_refresh).
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
    void freshTokenIsRefreshedInTheSecondHalfOfItsLifetimeBeforeTheLeadTime_data()
    {
        QTest::addColumn<int>("lifetimeSeconds");
        QTest::addColumn<int>("leadSeconds");
        QTest::addColumn<qint64>("earliestBeforeExpiryMs"); // the window's start
        QTest::addColumn<qint64>("latestBeforeExpiryMs");   // never later than this before expiry
        QTest::newRow("one hour, 60 s lead") << 3600 << 60 << qint64(1800000) << qint64(60000);
        QTest::newRow("two seconds: lead capped at 1 s, no room") << 2 << 60 << qint64(1000) << qint64(1000);
        QTest::newRow("five minutes, 10 s lead") << 300 << 10 << qint64(150000) << qint64(10000);
        QTest::newRow("no lead time") << 3600 << 0 << qint64(1800000) << qint64(0);
    }
    void freshTokenIsRefreshedInTheSecondHalfOfItsLifetimeBeforeTheLeadTime()
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
        // refresh at 10 000 different times: no 58-second bucket of the 1740-second window gets
        // more than twice its share.
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        QRandomGenerator random(7);
        QList<int> buckets(30, 0);
        for (int i = 0; i < 10000; ++i) {
            const QDateTime when = schedule.next(kIssued, expires, kIssued, 60s, random.generateDouble());
            const qint64 offset = kIssued.addSecs(1800).msecsTo(when);
            QVERIFY(offset >= 0);
            buckets[int(std::min<qint64>(offset / 58000, 29))]++;
        }
        for (int count : std::as_const(buckets))
            QVERIFY2(count > 10000 / 30 / 2 && count < 10000 / 30 * 2, qPrintable(QString::number(count)));
    }

    void neverEarlierThanNow()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime late = expires.addSecs(-10); // already past the window
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
        // The lifetime is unknown: the window is the lead time before the lead time.
        QCOMPARE(schedule.next(QDateTime(), expires, kIssued, 60s, 0.0), expires.addSecs(-120));
        QCOMPARE(schedule.next(QDateTime(), expires, kIssued, 60s, 1.0), expires.addSecs(-60));
    }

    void jitterFractionBoundsTheWindow()
    {
        RefreshSchedule schedule;
        schedule.setJitterFraction(0.0);
        const QDateTime expires = kIssued.addSecs(3600);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 0.99), expires.addSecs(-60));
        schedule.setJitterFraction(0.5); // the last half of [30 min, 59 min]
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 0.0), expires.addSecs(-60 - 870));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 1.0), expires.addSecs(-60));
        schedule.setJitterFraction(1.0);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 0.0), kIssued.addSecs(1800));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 1.0), expires.addSecs(-60));
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
        // The backoff would be 1–2 s; the server said 20 s: the first retry comes between 20 s
        // and 40 s, the second between 40 s and 80 s.
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 1, 20s)), qint64(20000));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.3, 1, 20s)), qint64(26000));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 1.0, 1, 20s)), qint64(40000));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 2, 20s)), qint64(40000));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 1.0, 2, 20s)), qint64(80000));
        // Capped at 5 minutes as usual: between 150 s and 300 s.
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 8, 20s)), qint64(150000));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 1.0, 8, 20s)), qint64(300000));
    }

    void aRetryAfterLongerThanTheCapRaisesIt()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime now = kIssued.addSecs(3590);
        for (int failures : {1, 5, 50}) {
            QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, failures, 400s)), qint64(400000));
            QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 1.0, failures, 400s)), qint64(800000));
        }
    }

    void aFleetThatHeardTheSameRetryAfterComesBackSpread()
    {
        // 10 000 clients whose refreshes failed together with "Retry-After: 60": none comes back
        // before 60 s, and no 1-second bucket of [60 s, 120 s) gets more than twice its share.
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime now = kIssued.addSecs(3590);
        QRandomGenerator random(11);
        QList<int> buckets(60, 0);
        for (int i = 0; i < 10000; ++i) {
            const qint64 delay = now.msecsTo(schedule.next(kIssued, expires, now, 60s, random.generateDouble(), 1, 60s));
            QVERIFY(delay >= 60000 && delay <= 120000);
            buckets[int(std::min<qint64>((delay - 60000) / 1000, 59))]++;
        }
        for (int count : std::as_const(buckets))
            QVERIFY2(count > 10000 / 60 / 2 && count < 10000 / 60 * 2, qPrintable(QString::number(count)));
    }

    void aRetryWhileTheTokenIsStillGoodIsSpreadOverTheRestOfTheWindow()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        const QDateTime now = kIssued.addSecs(2000); // 26 min before the window ends
        // After the backoff's floor (1 s; 60 s with a Retry-After), up to the window's end.
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 1)), qint64(1000));
        QCOMPARE(schedule.next(kIssued, expires, now, 60s, 1.0, 1), expires.addSecs(-60));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, expires, now, 60s, 0.0, 3, 60s)), qint64(150000));
        QCOMPARE(schedule.next(kIssued, expires, now, 60s, 1.0, 3, 60s), expires.addSecs(-60));
        // Near the window's end the backoff decides alone.
        const QDateTime late = expires.addSecs(-61);
        QCOMPARE(late.msecsTo(schedule.next(kIssued, expires, late, 60s, 1.0, 1)), qint64(2000));
    }

    void customBackoff()
    {
        RefreshSchedule schedule;
        schedule.setInitialBackoff(100ms);
        schedule.setMaximumBackoff(1s);
        const QDateTime now = kIssued.addSecs(59); // past the window of a 60 s token
        QCOMPARE(now.msecsTo(schedule.next(kIssued, kIssued.addSecs(60), now, 60s, 1.0, 1)), qint64(100));
        QCOMPARE(now.msecsTo(schedule.next(kIssued, kIssued.addSecs(60), now, 60s, 1.0, 20)), qint64(1000));
    }

    void outOfRangeRandomIsClamped()
    {
        const RefreshSchedule schedule;
        const QDateTime expires = kIssued.addSecs(3600);
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, -5.0), kIssued.addSecs(1800));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, 5.0), expires.addSecs(-60));
        QCOMPARE(schedule.next(kIssued, expires, kIssued, 60s, std::nan("")), kIssued.addSecs(1800));
    }

    void copiesAreIndependent()
    {
        RefreshSchedule a;
        RefreshSchedule b = a;
        b.setJitterFraction(0.1);
        QCOMPARE(a.jitterFraction(), 1.0);
        QCOMPARE(b.jitterFraction(), 0.1);
    }
};

QTEST_GUILESS_MAIN(tst_RefreshSchedule)
#include "tst_refreshschedule.moc"
