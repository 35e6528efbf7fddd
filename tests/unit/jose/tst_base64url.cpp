// SPDX-License-Identifier: MIT
// Strict base64url (core/crypto_p.h), the one implementation JOSE decodes with: RFC 4648 §5
// alphabet, no padding (RFC 7515 §2), length not 1 mod 4, canonical trailing bits. The
// table-driven decoder is checked against a plain bit-by-bit reference on many inputs.
#include <QtTest/QtTest>

#include "core/crypto_p.h"

#include <QtCore/QRandomGenerator>

#include <cctype>
#include <optional>

using namespace Keyloop;

namespace {

// The obvious decoder, one character and one bit group at a time: the specification the
// fast decoder must match exactly, acceptance and output.
std::optional<QByteArray> referenceDecode(QByteArrayView text)
{
    static const QByteArray alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    if (text.size() % 4 == 1)
        return std::nullopt;
    QByteArray out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const qsizetype v = alphabet.indexOf(c);
        if (v < 0 || c == '\0')
            return std::nullopt;
        buffer = (buffer << 6) | unsigned(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(char((buffer >> bits) & 0xff));
        }
    }
    if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

} // namespace

class TestBase64Url : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void knownAnswers_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("text");
        // RFC 4648 §10, without padding.
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("f") << QByteArray("f") << QByteArray("Zg");
        QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8");
        QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
        QTest::newRow("foob") << QByteArray("foob") << QByteArray("Zm9vYg");
        QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("Zm9vYmE");
        QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("Zm9vYmFy");
        // The two characters that differ from base64 (RFC 4648 §5).
        QTest::newRow("url alphabet") << QByteArray("\xfb\xff\xbf", 3) << QByteArray("-_-_");
        QTest::newRow("RFC 7515 A.1 header") << QByteArray("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}")
                                            << QByteArray("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    }

    void knownAnswers()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QByteArray, text);
        QCOMPARE(Crypto::base64UrlEncode(bytes), text);
        const std::optional<QByteArray> decoded = Crypto::base64UrlDecode(text);
        QVERIFY(decoded);
        QCOMPARE(*decoded, bytes);
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("padding, 2") << QByteArray("Zg==");
        QTest::newRow("padding, 1") << QByteArray("Zm8=");
        QTest::newRow("plus") << QByteArray("+_8");
        QTest::newRow("slash") << QByteArray("-/8");
        QTest::newRow("space") << QByteArray("Zm9v Yg");
        QTest::newRow("newline") << QByteArray("Zm9v\nYmFy");
        QTest::newRow("dot") << QByteArray("Zm9v.mFy");
        QTest::newRow("NUL") << QByteArray("Zm9v\0mFy", 8);
        QTest::newRow("high byte") << QByteArray("Zm9v\xc3\xa9" "Fy");
        QTest::newRow("length 1") << QByteArray("Z");
        QTest::newRow("length 5") << QByteArray("Zm9vY");
        // RFC 4648 §3.5: the unused bits of the last character must be zero.
        QTest::newRow("non-canonical, 4 spare bits") << QByteArray("Zh");
        QTest::newRow("non-canonical, 2 spare bits") << QByteArray("Zm9");
        QTest::newRow("non-canonical after full groups") << QByteArray("Zm9vYmFyZh");
    }

    void rejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!Crypto::base64UrlDecode(text));
        QByteArray out("kept");
        QVERIFY(!Crypto::base64UrlDecodeInto(text, &out));
    }

    // Every position of a long input, for every byte outside the alphabet: the wide
    // (8-character) path, the 4-character path and the tail all reject.
    void rejectsABadCharacterAnywhere()
    {
        const QByteArray good = Crypto::base64UrlEncode(QByteArray(45, 'x')); // 60 characters
        for (int c = 0; c < 256; ++c) {
            if (std::isalnum(c) || c == '-' || c == '_')
                continue;
            for (qsizetype at = 0; at < good.size(); ++at) {
                QByteArray bad = good;
                bad[at] = char(c);
                if (Crypto::base64UrlDecode(bad))
                    QFAIL(qPrintable(QStringLiteral("byte %1 at %2 was accepted").arg(c).arg(at)));
            }
        }
    }

    void roundTrips()
    {
        QRandomGenerator random(20241125);
        for (int size = 0; size < 300; ++size) {
            QByteArray bytes(size, Qt::Uninitialized);
            for (char &b : bytes)
                b = char(random.bounded(256));
            const QByteArray text = Crypto::base64UrlEncode(bytes);
            QCOMPARE(Crypto::base64UrlDecodedSize(text.size()), qsizetype(size));
            const std::optional<QByteArray> decoded = Crypto::base64UrlDecode(text);
            QVERIFY(decoded);
            QCOMPARE(*decoded, bytes);
        }
    }

    // Random strings over the alphabet plus a few bad characters: acceptance and output equal
    // the reference decoder's.
    void matchesReference()
    {
        static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                   "AQgw-_=+/ .";
        QRandomGenerator random(7515);
        int accepted = 0;
        for (int round = 0; round < 20000; ++round) {
            const int size = int(random.bounded(70));
            const bool allowBad = random.bounded(4) == 0;
            QByteArray text(size, Qt::Uninitialized);
            for (char &c : text)
                c = pool[random.bounded(allowBad ? int(sizeof pool - 1) : 64)];
            const std::optional<QByteArray> expected = referenceDecode(text);
            const std::optional<QByteArray> actual = Crypto::base64UrlDecode(text);
            QCOMPARE(actual.has_value(), expected.has_value());
            if (expected) {
                QCOMPARE(*actual, *expected);
                ++accepted;
            }
        }
        QVERIFY(accepted > 1000); // the comparison covered accepted inputs too
    }

    // base64UrlDecodeTo() writes exactly base64UrlDecodedSize() bytes, never past them, even
    // on the 8-byte-store path.
    void decodeToStaysInBounds()
    {
        QRandomGenerator random(8037);
        for (int size = 0; size < 120; ++size) {
            QByteArray bytes(size, Qt::Uninitialized);
            for (char &b : bytes)
                b = char(random.bounded(256));
            const QByteArray text = Crypto::base64UrlEncode(bytes);
            const qsizetype decodedSize = Crypto::base64UrlDecodedSize(text.size());
            QCOMPARE(decodedSize, qsizetype(size));
            QByteArray buffer(decodedSize + 16, '\x5a');
            QVERIFY(Crypto::base64UrlDecodeTo(text, buffer.data()));
            QCOMPARE(buffer.first(decodedSize), bytes);
            QCOMPARE(buffer.sliced(decodedSize), QByteArray(16, '\x5a'));
        }
        QCOMPARE(Crypto::base64UrlDecodedSize(1), qsizetype(-1));
        QCOMPARE(Crypto::base64UrlDecodedSize(5), qsizetype(-1));
        QCOMPARE(Crypto::base64UrlDecodedSize(-4), qsizetype(-1));
    }

    void decodeIntoReusesTheBuffer()
    {
        QByteArray out;
        QVERIFY(Crypto::base64UrlDecodeInto("Zm9vYmFy", &out));
        QCOMPARE(out, QByteArray("foobar"));
        QVERIFY(Crypto::base64UrlDecodeInto("Zg", &out));
        QCOMPARE(out, QByteArray("f"));
        QVERIFY(Crypto::base64UrlDecodeInto("", &out));
        QVERIFY(out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestBase64Url)
#include "tst_base64url.moc"
