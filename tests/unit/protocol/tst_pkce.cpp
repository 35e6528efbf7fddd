// SPDX-License-Identifier: MIT
#include <keyloop/pkce.h>

#include <QtTest/QtTest>

using namespace Keyloop;

class tst_Pkce : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void matchesRfc7636AppendixBVector()
    {
        // RFC 7636 Appendix B: the 32 octets, their base64url verifier, and its S256 challenge.
        const unsigned char octets[] = {116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                                        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};
        const QByteArray verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(octets), sizeof octets).toBase64(
                     QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals), verifier);
        QCOMPARE(Pkce::challengeFor(verifier), QByteArray("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        QVERIFY(Pkce::isValidVerifier(verifier));
    }

    void generatesFreshS256Verifiers()
    {
        const Pkce a = Pkce::generate();
        const Pkce b = Pkce::generate();
        QCOMPARE(a.verifier().size(), 43);
        QVERIFY(Pkce::isValidVerifier(a.verifier()));
        QVERIFY(a.challenge() == Pkce::challengeFor(a.verifier()));
        QVERIFY(a.verifier() != b.verifier());
        QCOMPARE(Pkce::method(), QStringLiteral("S256"));
    }

    void rejectsInvalidVerifiers_data()
    {
        QTest::addColumn<QByteArray>("verifier");
        QTest::newRow("too short") << QByteArray(42, 'a');
        QTest::newRow("too long") << QByteArray(129, 'a');
        QTest::newRow("plus") << (QByteArray(42, 'a') + '+');
        QTest::newRow("slash") << (QByteArray(42, 'a') + '/');
        QTest::newRow("space") << (QByteArray(42, 'a') + ' ');
    }
    void rejectsInvalidVerifiers()
    {
        QFETCH(QByteArray, verifier);
        QVERIFY(!Pkce::isValidVerifier(verifier));
    }

    void debugOutputIsRedacted()
    {
        const Pkce pkce = Pkce::generate();
        QString out;
        QDebug(&out) << pkce;
        QVERIFY(!out.contains(QString::fromLatin1(pkce.verifier())));
        QVERIFY(out.contains(QLatin1String("redacted")));
    }
};

QTEST_GUILESS_MAIN(tst_Pkce)
#include "tst_pkce.moc"
