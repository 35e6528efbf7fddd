// SPDX-License-Identifier: MIT
// KeyloopQr::QrCode and its terminal text: the symbol's shape, the quiet zone, the two colour
// conventions, and errors instead of crashes. (qrcode_terminal_decode decodes the text with zbarimg.)
#include "qrcode.h"
#include "qrterminal.h"

#include <QtTest/QtTest>

using namespace KeyloopQr;

Q_DECLARE_METATYPE(KeyloopQr::TerminalColors)

namespace {

const QByteArray verificationUri = QByteArrayLiteral("https://127.0.0.1:41234/device?user_code=ABCD-EFGH");

// One terminal line: its cells, without the SGR sequences.
struct Line
{
    QString start; // escape codes before the first cell
    QString cells;
    QString end; // escape codes after the last cell
};

QList<Line> terminalLines(const QString &text)
{
    QList<Line> lines;
    const QStringList raw = text.split(u'\n');
    static const QRegularExpression sgr(QStringLiteral("^((?:\x1b\\[[0-9;]*m)*)(.*?)((?:\x1b\\[[0-9;]*m)*)$"));
    for (qsizetype i = 0; i + 1 < raw.size(); ++i) { // the text ends with "\n": last part empty
        const QRegularExpressionMatch m = sgr.match(raw.at(i));
        lines.append({m.captured(1), m.captured(2), m.captured(3)});
    }
    return lines;
}

// The modules drawn by a terminal text, read back the way the glyphs are defined: true = dark.
QList<QList<bool>> modulesOf(const QList<Line> &lines, TerminalColors colors)
{
    // Ansi: the glyph is in the (black) foreground; None: the glyph is light.
    const bool glyphIsDark = colors == TerminalColors::Ansi;
    QList<QList<bool>> rows;
    for (const Line &line : lines) {
        QList<bool> upper;
        QList<bool> lower;
        for (const QChar c : line.cells) {
            const bool up = c == QChar(0x2588) || c == QChar(0x2580);
            const bool down = c == QChar(0x2588) || c == QChar(0x2584);
            upper.append(up == glyphIsDark);
            lower.append(down == glyphIsDark);
        }
        rows.append(upper);
        rows.append(lower);
    }
    return rows;
}

} // namespace

class tst_QrCode : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encodesAVerificationUriInTheSmallestVersion()
    {
        const QrCode code = QrCode::encode(verificationUri);
        QVERIFY(!code.isNull());
        QCOMPARE(code.error(), EncodeError::NoError);
        QVERIFY(code.errorString().isEmpty());
        // 50 bytes at level M: version 3 holds 42 bytes, version 4 holds 62.
        QCOMPARE(code.version(), 4);
        QCOMPARE(code.size(), 33);
    }

    void drawsTheThreeFinderPatterns()
    {
        const QrCode code = QrCode::encode(verificationUri);
        const int n = code.size();
        // ISO/IEC 18004 §6.3.3: 7 × 7 — a dark ring, a light ring, a dark 3 × 3 centre — at the
        // top-left, top-right and bottom-left corners, each with a light separator.
        for (const QPoint &corner : {QPoint(0, 0), QPoint(n - 7, 0), QPoint(0, n - 7)}) {
            for (int y = -1; y <= 7; ++y) {
                for (int x = -1; x <= 7; ++x) {
                    const int ring = std::max(std::abs(x - 3), std::abs(y - 3));
                    const bool dark = ring != 2 && ring != 4; // 4: the separator
                    QVERIFY2(code.isDark(corner.x() + x, corner.y() + y) == dark,
                             qPrintable(QStringLiteral("module (%1, %2)").arg(corner.x() + x).arg(corner.y() + y)));
                }
            }
        }
    }

    void isLightOutsideTheSymbol()
    {
        const QrCode code = QrCode::encode(verificationUri);
        QVERIFY(code.isDark(0, 0));
        QVERIFY(!code.isDark(-1, 0));
        QVERIFY(!code.isDark(0, -1));
        QVERIFY(!code.isDark(code.size(), 0));
        QVERIFY(!code.isDark(0, code.size()));
        QVERIFY(!QrCode().isDark(0, 0));
    }

    void keepsCaseAndNonAsciiBytes()
    {
        // Case-sensitive 8-bit mode: "ABC" and "abc" are different symbols (in alphanumeric
        // mode, case-insensitive, they would be the same).
        const QrCode upper = QrCode::encode(QByteArrayLiteral("https://example.com/DEVICE?CODE=ABCD"));
        const QrCode lower = QrCode::encode(QByteArrayLiteral("https://example.com/device?code=abcd"));
        QVERIFY(!upper.isNull() && !lower.isNull());
        QCOMPARE(upper.size(), lower.size());
        bool differ = false;
        for (int y = 0; y < upper.size() && !differ; ++y)
            for (int x = 0; x < upper.size() && !differ; ++x)
                differ = upper.isDark(x, y) != lower.isDark(x, y);
        QVERIFY(differ);
        QVERIFY(!QrCode::encode(QStringLiteral("Zoë 日本語 🙂").toUtf8()).isNull());
    }

    void holdsTheMostTextAtVersion40()
    {
        const QrCode code = QrCode::encode(QByteArray(MaxTextBytes, 'a'));
        QVERIFY2(!code.isNull(), qPrintable(code.errorString()));
        QCOMPARE(code.version(), 40);
        QCOMPARE(code.size(), 177);
    }

    void rejectsTextTooLongForAnyVersion_data()
    {
        QTest::addColumn<qsizetype>("bytes");
        QTest::newRow("one byte too many") << MaxTextBytes + 1;
        QTest::newRow("1 MB") << qsizetype(1024 * 1024);
    }
    void rejectsTextTooLongForAnyVersion()
    {
        QFETCH(qsizetype, bytes);
        // A user code in the text must not reach the error.
        QByteArray text = QByteArrayLiteral("https://example.com/device?user_code=WDJB-MJHT&pad=");
        text += QByteArray(bytes - text.size(), 'x');
        const QrCode code = QrCode::encode(text);
        QVERIFY(code.isNull());
        QCOMPARE(code.error(), EncodeError::TextTooLong);
        QCOMPARE(code.version(), 0);
        QCOMPARE(code.size(), 0);
        QCOMPARE(code.errorString(), QStringLiteral("the text is too long for a QR code (%1 bytes; one holds at most 2331 bytes of text)").arg(bytes));
        QVERIFY(!code.errorString().contains(QStringLiteral("WDJB")));
        QVERIFY(toTerminalText(code, TerminalColors::Ansi).isEmpty());
    }

    void rejectsEmptyTextAndNulBytes()
    {
        const QrCode empty = QrCode::encode(QByteArray());
        QVERIFY(empty.isNull());
        QCOMPARE(empty.error(), EncodeError::EmptyText);
        QCOMPARE(empty.errorString(), QStringLiteral("there is no text to put in a QR code"));

        const QrCode nul = QrCode::encode(QByteArray("https://example.com/\0device", 27));
        QVERIFY(nul.isNull());
        QCOMPARE(nul.error(), EncodeError::NulByte);
        QCOMPARE(nul.errorString(), QStringLiteral("the text for the QR code contains a NUL byte"));

        QVERIFY(QrCode().isNull());
        QCOMPARE(QrCode().error(), EncodeError::NoError);
    }

    void terminalTextDrawsTheModulesWithTheQuietZone_data()
    {
        QTest::addColumn<TerminalColors>("colors");
        QTest::newRow("ansi") << TerminalColors::Ansi;
        QTest::newRow("plain") << TerminalColors::None;
    }
    void terminalTextDrawsTheModulesWithTheQuietZone()
    {
        QFETCH(TerminalColors, colors);
        const QrCode code = QrCode::encode(verificationUri);
        const QString text = toTerminalText(code, colors);
        QVERIFY(text.endsWith(u'\n'));
        const QList<Line> lines = terminalLines(text);
        const int width = code.size() + 2 * QuietZoneModules;
        QCOMPARE(width, 41);
        QCOMPARE(lines.size(), (code.size() + 9) / 2); // 21 lines for version 4
        for (const Line &line : lines) {
            QCOMPARE(line.cells.size(), width);
            for (const QChar c : line.cells)
                QVERIFY2(c == u' ' || c == QChar(0x2580) || c == QChar(0x2584) || c == QChar(0x2588),
                         qPrintable(QStringLiteral("U+%1").arg(c.unicode(), 4, 16, QLatin1Char('0'))));
        }
        // Module for module, with 4 light modules around the symbol (5 below: the odd last row).
        const QList<QList<bool>> modules = modulesOf(lines, colors);
        QCOMPARE(modules.size(), width + 1);
        for (int y = 0; y < modules.size(); ++y) {
            for (int x = 0; x < width; ++x) {
                QVERIFY2(modules.at(y).at(x) == code.isDark(x - QuietZoneModules, y - QuietZoneModules),
                         qPrintable(QStringLiteral("module (%1, %2) of the text").arg(x).arg(y)));
            }
        }
    }

    void ansiTextIsBlackOnWhiteLineByLine()
    {
        const QList<Line> lines = terminalLines(toTerminalText(QrCode::encode(verificationUri), TerminalColors::Ansi));
        QVERIFY(!lines.isEmpty());
        for (const Line &line : lines) {
            QCOMPARE(line.start, QStringLiteral("\x1b[30;47m"));
            QCOMPARE(line.end, QStringLiteral("\x1b[0m"));
        }
        // Light is the white background: the quiet zone rows are blank.
        QCOMPARE(lines.first().cells, QString(41, u' '));
        QCOMPARE(lines.last().cells, QString(41, u' '));
    }

    void plainTextHasNoEscapeCodesAndDrawsTheQuietZone()
    {
        const QString text = toTerminalText(QrCode::encode(verificationUri), TerminalColors::None);
        QVERIFY(!text.contains(QChar(0x1b)));
        const QList<Line> lines = terminalLines(text);
        // Light is the glyph: the quiet zone is drawn, a light frame on a dark terminal.
        QCOMPARE(lines.first().cells, QString(41, QChar(0x2588)));
        QCOMPARE(lines.last().cells, QString(41, QChar(0x2588)));
        for (const Line &line : lines) {
            QVERIFY(line.start.isEmpty() && line.end.isEmpty());
            QCOMPARE(line.cells.left(4), QString(4, QChar(0x2588)));
            QCOMPARE(line.cells.right(4), QString(4, QChar(0x2588)));
        }
    }

    void nullCodeRendersNothing()
    {
        QVERIFY(toTerminalText(QrCode(), TerminalColors::Ansi).isEmpty());
        QVERIFY(toTerminalText(QrCode(), TerminalColors::None).isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_QrCode)
#include "tst_qrcode.moc"
