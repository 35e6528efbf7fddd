// SPDX-License-Identifier: MIT
// What the CLI prints of a provider's text: only printable characters reach the terminal.
#include "terminaltext.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

using namespace KeyloopCli;

namespace {

QString u(std::initializer_list<char32_t> codePoints)
{
    QString out;
    for (const char32_t c : codePoints)
        out += QString::fromUcs4(&c, 1);
    return out;
}

// Every byte sequence a terminal could act on: ESC and CSI (7- and 8-bit), OSC, BEL, the
// line-ending controls, DEL.
bool hasTerminalControls(const QByteArray &utf8)
{
    for (const char c : utf8) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f)
            return true;
    }
    const QString text = QString::fromUtf8(utf8);
    for (const QChar c : text) {
        const char16_t v = c.unicode();
        if ((v >= 0x80 && v <= 0x9f) || (v >= 0x202a && v <= 0x202e) || (v >= 0x2066 && v <= 0x2069) || v == 0x2028
            || v == 0x2029)
            return true;
    }
    return false;
}

} // namespace

class tst_TerminalText : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void keepsPrintableText_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("ASCII") << QStringLiteral("Alice Example (alice@example.com) #1 ~!");
        QTest::newRow("Latin with accents") << QStringLiteral("Ren\u00e9e M\u00fcller-\u0160imek");
        QTest::newRow("combining mark") << QStringLiteral("Jose\u0301");
        QTest::newRow("CJK") << QStringLiteral("\u5c71\u7530 \u592a\u90ce");
        QTest::newRow("Arabic") << QStringLiteral("\u0645\u062d\u0645\u062f");
        QTest::newRow("Persian with ZWNJ") << QStringLiteral("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645");
        QTest::newRow("Devanagari") << QStringLiteral("\u0905\u0928\u093f\u0932");
        QTest::newRow("emoji, supplementary plane") << u({0x1F600, U' ', 0x1F469, 0x200D, 0x1F4BB});
        QTest::newRow("no-break space") << QStringLiteral("A\u00a0B");
        QTest::newRow("empty") << QString();
    }

    void keepsPrintableText()
    {
        QFETCH(QString, text);
        QCOMPARE(printableText(text), text);
    }

    void replacesWhatATerminalWouldActOn_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("printed");
        QTest::newRow("ESC sequence (clear screen)") << QStringLiteral("eve\x1b[2J\x1b[31mred") << QStringLiteral("eve?[2J?[31mred");
        QTest::newRow("OSC title and BEL") << QStringLiteral("\x1b]0;pwned\x07x") << QStringLiteral("?]0;pwned?x");
        QTest::newRow("8-bit CSI (C1)") << QStringLiteral("a\u009b2Jb") << QStringLiteral("a?2Jb");
        QTest::newRow("line breaks") << QStringLiteral("alice\r\nSigned in as root") << QStringLiteral("alice??Signed in as root");
        QTest::newRow("TAB, NUL and DEL") << QString::fromLatin1("a\tb\0c\x7f", 6) << QStringLiteral("a?b?c?");
        QTest::newRow("bidi override (Trojan Source)") << QStringLiteral("admin\u202egnp.exe") << QStringLiteral("admin?gnp.exe");
        QTest::newRow("bidi isolate") << QStringLiteral("\u2066x\u2069") << QStringLiteral("?x?");
        QTest::newRow("zero-width space and BOM") << QStringLiteral("a\u200bb\ufeffc") << QStringLiteral("a?b?c");
        QTest::newRow("line and paragraph separators") << QStringLiteral("a\u2028b\u2029c") << QStringLiteral("a?b?c");
        QTest::newRow("private use") << QStringLiteral("a\ue000b") << QStringLiteral("a?b");
        QTest::newRow("supplementary private use, one ?") << (QStringLiteral("a") + u({0xF0000}) + QStringLiteral("b"))
                                                          << QStringLiteral("a?b");
        QTest::newRow("lone surrogate") << (QStringLiteral("a") + QChar(0xd800) + QStringLiteral("b")) << QStringLiteral("a?b");
        QTest::newRow("unassigned") << QStringLiteral("a\u0378b") << QStringLiteral("a?b");
    }

    void replacesWhatATerminalWouldActOn()
    {
        QFETCH(QString, text);
        QFETCH(QString, printed);
        QCOMPARE(printableText(text), printed);
        QVERIFY(!hasTerminalControls(printableText(text).toUtf8()));
    }

    void longTextIsCut()
    {
        QCOMPARE(printableText(QString(300, QLatin1Char('a'))), QString(256, QLatin1Char('a')) + QChar(0x2026));
        QCOMPARE(printableText(QStringLiteral("abcdef"), 3), QStringLiteral("abc\u2026"));
        QCOMPARE(printableText(QStringLiteral("abc"), 3), QStringLiteral("abc"));
        // Code points, not UTF-16 units: an emoji is never cut in half.
        const QString emoji = u({0x1F600, 0x1F600, 0x1F600});
        QCOMPARE(printableText(emoji, 2), u({0x1F600, 0x1F600}) + QChar(0x2026));
    }

    // `keyloop status --json`: the same JSON value, nothing a terminal acts on.
    void jsonKeepsItsValueWithoutRawControls()
    {
        const QString hostile = QStringLiteral("Eve\x1b[2J\u009b1m\u202e\u2028\x7f\r\nEnd ") + u({0x1F600, 0xF0000})
            + QStringLiteral("\u200b\u5c71\u7530");
        const QJsonObject object{{QStringLiteral("sessions"),
                                  QJsonArray{QJsonObject{{QStringLiteral("displayName"), hostile},
                                                         {QStringLiteral("subject"), QStringLiteral("eve")}}}}};
        for (const auto format : {QJsonDocument::Indented, QJsonDocument::Compact}) {
            const QByteArray raw = QJsonDocument(object).toJson(format);
            const QByteArray safe = terminalSafeJson(raw);
            QJsonParseError error;
            const QJsonDocument parsed = QJsonDocument::fromJson(safe, &error);
            QCOMPARE(error.error, QJsonParseError::NoError);
            QCOMPARE(parsed.object(), object);
            // Only the structural line breaks of the indented form remain.
            QByteArray withoutStructure = safe;
            withoutStructure.replace('\n', ' ');
            QVERIFY(!hasTerminalControls(withoutStructure));
            QVERIFY(safe.contains("\\u009b"));
            QVERIFY(safe.contains("\\u202e"));
            QVERIFY(safe.contains("\\udb80\\udc00")); // U+F0000 as a surrogate pair (RFC 8259 §7)
            QVERIFY(safe.contains("\xe5\xb1\xb1")); // printable text stays as it is
        }
        const QByteArray plain = QJsonDocument(QJsonObject{{QStringLiteral("a"), QStringLiteral("b")}}).toJson();
        QCOMPARE(terminalSafeJson(plain), plain);
    }
};

QTEST_GUILESS_MAIN(tst_TerminalText)
#include "tst_terminaltext.moc"
