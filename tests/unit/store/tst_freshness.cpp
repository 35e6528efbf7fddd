// SPDX-License-Identifier: MIT
// Freshness math: lead time capped at half the lifetime, judged on the wall clock.
#include "session/freshness_p.h"

#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(std::chrono::milliseconds)

class TestFreshness : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void isFresh_data()
    {
        QTest::addColumn<int>("lifetimeMs");   // expiresAt - issuedAt (0 = no expiry known)
        QTest::addColumn<int>("elapsedMs");    // now - issuedAt
        QTest::addColumn<int>("leadMs");
        QTest::addColumn<bool>("fresh");
        QTest::newRow("hour token, just issued") << 3600000 << 0 << 60000 << true;
        QTest::newRow("hour token, 61 s left") << 3600000 << 3539000 << 60000 << true;
        QTest::newRow("hour token, 60 s left") << 3600000 << 3540000 << 60000 << false;
        QTest::newRow("hour token, expired") << 3600000 << 3700000 << 60000 << false;
        // A 2 s token is not stale from birth: the lead is capped at 1 s.
        QTest::newRow("2 s token, just issued") << 2000 << 0 << 60000 << true;
        QTest::newRow("2 s token, 0.9 s in") << 2000 << 900 << 60000 << true;
        QTest::newRow("2 s token, 1 s in") << 2000 << 1000 << 60000 << false;
        QTest::newRow("2 s token, expired") << 2000 << 2500 << 60000 << false;
        QTest::newRow("lead 0") << 2000 << 1999 << 0 << true;
        QTest::newRow("no expiry known") << 0 << 99999999 << 60000 << true;
        // Clock moved backwards (e.g. issued "in the future"): still fresh until expiry.
        QTest::newRow("clock before issue") << 3600000 << -5000 << 60000 << true;
    }

    void isFresh()
    {
        QFETCH(int, lifetimeMs);
        QFETCH(int, elapsedMs);
        QFETCH(int, leadMs);
        QFETCH(bool, fresh);
        SessionAccessToken t;
        t.token = "x";
        t.issuedAt = QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC);
        if (lifetimeMs)
            t.expiresAt = t.issuedAt.addMSecs(lifetimeMs);
        const QDateTime now = t.issuedAt.addMSecs(elapsedMs);
        QCOMPARE(Freshness::isFresh(t, now, std::chrono::milliseconds(leadMs)), fresh);
    }

    void emptyTokenIsNeverFresh()
    {
        QVERIFY(!Freshness::isFresh(SessionAccessToken(), QDateTime::currentDateTimeUtc(), 0ms));
    }

    void effectiveLeadTime()
    {
        SessionAccessToken t;
        t.issuedAt = QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
        t.expiresAt = t.issuedAt.addSecs(10);
        QCOMPARE(Freshness::effectiveLeadTime(t, 60s).count(), 5000);
        QCOMPARE(Freshness::effectiveLeadTime(t, 2s).count(), 2000);
        t.issuedAt = QDateTime(); // lifetime unknown: the configured lead time
        QCOMPARE(Freshness::effectiveLeadTime(t, 60s).count(), 60000);
    }

    // Session::freshIdToken(): an ID token's iat and exp (read from its payload) with the same
    // lead-time rule; exp is REQUIRED (OIDC Core §2), so a token without one is never fresh.
    void idTokenFreshness_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<int>("elapsedS"); // now - 1700000000
        QTest::addColumn<bool>("fresh");
        const QByteArray hour = "{\"iat\":1700000000,\"exp\":1700003600}";
        QTest::newRow("hour token, just issued") << hour << 0 << true;
        QTest::newRow("hour token, 61 s left") << hour << 3539 << true;
        QTest::newRow("hour token, 60 s left") << hour << 3540 << false;
        QTest::newRow("hour token, expired") << hour << 3700 << false;
        QTest::newRow("4 s token after 1 s (lead capped at 2 s)") << QByteArray("{\"iat\":1700000000,\"exp\":1700000004}") << 1 << true;
        QTest::newRow("4 s token after 2 s") << QByteArray("{\"iat\":1700000000,\"exp\":1700000004}") << 2 << false;
        QTest::newRow("no iat: the whole lead time") << QByteArray("{\"exp\":1700000100}") << 39 << true;
        QTest::newRow("no iat, 60 s left") << QByteArray("{\"exp\":1700000100}") << 40 << false;
        QTest::newRow("no exp") << QByteArray("{\"iat\":1700000000}") << 0 << false;
        QTest::newRow("exp not a number") << QByteArray("{\"exp\":\"1700003600\"}") << 0 << false;
        QTest::newRow("payload not JSON") << QByteArray("exp") << 0 << false;
    }

    void idTokenFreshness()
    {
        QFETCH(QByteArray, payload);
        QFETCH(int, elapsedS);
        QFETCH(bool, fresh);
        const QByteArray jwt = "eyJhbGciOiJSUzI1NiJ9." + Crypto::base64UrlEncode(payload) + ".c2ln";
        const QDateTime now = QDateTime::fromSecsSinceEpoch(1700000000 + elapsedS, Qt::UTC);
        QCOMPARE(Freshness::isIdTokenFresh(jwt, now, 60s), fresh);
    }

    void idTokenThatIsNoJwsIsNeverFresh()
    {
        const QDateTime now = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);
        QVERIFY(!Freshness::isIdTokenFresh(QByteArray(), now, 0s));
        QVERIFY(!Freshness::isIdTokenFresh("a.b", now, 0s));
        QVERIFY(!Freshness::isIdTokenFresh("a.!!!.c", now, 0s));
    }
};

QTEST_GUILESS_MAIN(TestFreshness)
#include "tst_freshness.moc"
