// SPDX-License-Identifier: MIT
// KeyloopQr::toImage() (the demo app's QR code): saved as PNG and decoded back with zbarimg.
#include "qrimage.h"

#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace KeyloopQr;

class tst_QrImage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void decodesWithZbarimg_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("scale");
        QTest::newRow("verification_uri_complete")
            << QByteArrayLiteral("https://127.0.0.1:41234/device?user_code=ABCD-EFGH") << 4;
        QByteArray longUrl = QByteArrayLiteral("https://Login.Example.com/realms/Keyloop-Test/protocol/openid-connect/auth/device"
                                               "?user_code=WDJB-MJHT&state=");
        while (longUrl.size() < 320)
            longUrl += "aZ09-_.~xYq";
        QTest::newRow("long URL") << longUrl << 3;
        QTest::newRow("non-ASCII UTF-8")
            << QStringLiteral("https://пример.испытание/device?user_code=ÄÖÜ-ßÇÑ&name=Zoë 日本語 🙂").toUtf8() << 2;
    }
    void decodesWithZbarimg()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, scale);
        const QString zbarimg = QStandardPaths::findExecutable(QStringLiteral("zbarimg"));
        QVERIFY2(!zbarimg.isEmpty(), "zbarimg is missing: apt-get install zbar-tools (scripts/lib/install-deps.sh --test)");

        const QrCode code = QrCode::encode(text);
        QVERIFY2(!code.isNull(), qPrintable(code.errorString()));
        const QImage image = toImage(code, scale);
        QVERIFY(!image.isNull());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("code.png"));
        QVERIFY(image.save(file, "PNG"));

        QProcess process;
        QSignalSpy finished(&process, &QProcess::finished);
        process.start(zbarimg, {QStringLiteral("--raw"), QStringLiteral("-q"), QStringLiteral("--nodbus"), file});
        QVERIFY2(finished.wait(30000), "zbarimg did not finish");
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
        QCOMPARE(process.readAllStandardOutput(), text + '\n'); // --raw: the bytes, then a newline
    }

    void isBlackOnWhiteWithTheQuietZone()
    {
        const QrCode code = QrCode::encode(QByteArrayLiteral("https://127.0.0.1:41234/device?user_code=ABCD-EFGH"));
        const int scale = 3;
        const QImage image = toImage(code, scale);
        const int side = (code.size() + 2 * QuietZoneModules) * scale;
        QCOMPARE(image.size(), QSize(side, side));
        // Every pixel is its module's colour; 4 modules of white around the symbol.
        for (int y = 0; y < side; ++y) {
            for (int x = 0; x < side; ++x) {
                const bool dark = code.isDark(x / scale - QuietZoneModules, y / scale - QuietZoneModules);
                QVERIFY2(image.pixelColor(x, y) == (dark ? QColor(Qt::black) : QColor(Qt::white)),
                         qPrintable(QStringLiteral("pixel (%1, %2)").arg(x).arg(y)));
            }
        }
        QCOMPARE(image.pixelColor(QuietZoneModules * scale - 1, QuietZoneModules * scale), QColor(Qt::white));
        QCOMPARE(image.pixelColor(QuietZoneModules * scale, QuietZoneModules * scale), QColor(Qt::black)); // finder pattern
    }

    void givesANullImageForNoCodeOrABadScale()
    {
        const QrCode code = QrCode::encode(QByteArrayLiteral("https://example.com/device"));
        QVERIFY(toImage(QrCode(), 4).isNull());
        QVERIFY(toImage(QrCode::encode(QByteArray()), 4).isNull());
        QVERIFY(toImage(code, 0).isNull());
        QVERIFY(toImage(code, -3).isNull());
        const int modules = code.size() + 2 * QuietZoneModules;
        QVERIFY(!toImage(code, MaxImageSide / modules).isNull());
        QVERIFY(toImage(code, MaxImageSide / modules + 1).isNull());
        QVERIFY(toImage(code, std::numeric_limits<int>::max()).isNull());
    }
};

QTEST_GUILESS_MAIN(tst_QrImage)
#include "tst_qrimage.moc"
