// SPDX-License-Identifier: MIT
// StrictJson: RFC 8259 grammar, UTF-8, duplicate member names, limits.
#include <QtTest/QtTest>

#include "core/strictjson_p.h"

#include <QtCore/QRandomGenerator>

using namespace Keyloop;

class TestStrictJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseObject_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<Error::Code>("code");

        const auto ok = Error::Code::NoError;
        const auto bad = Error::Code::MalformedResponse;
        const auto dup = Error::Code::DuplicateParameter;
        QTest::newRow("empty object") << QByteArray("{}") << ok;
        QTest::newRow("whitespace around") << QByteArray(" \t\r\n{ \"a\" : 1 }\n") << ok;
        QTest::newRow("nested") << QByteArray(R"({"a":{"b":[1,2,{"c":null}]},"d":true,"e":false})") << ok;
        QTest::newRow("numbers") << QByteArray(R"({"a":-0,"b":1.5e10,"c":0.25,"d":1E-3,"e":123456789012})") << ok;
        QTest::newRow("escapes") << QByteArray("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}") << ok;
        QTest::newRow("utf-8") << QByteArray("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}") << ok;
        QTest::newRow("same name in different objects") << QByteArray(R"({"a":{"x":1},"b":{"x":2}})") << ok;

        QTest::newRow("duplicate") << QByteArray(R"({"a":1,"a":2})") << dup;
        QTest::newRow("duplicate nested") << QByteArray(R"({"a":{"b":1,"b":1}})") << dup;
        QTest::newRow("duplicate in array") << QByteArray(R"({"a":[{"b":1},{"c":1,"c":2}]})") << dup;
        QTest::newRow("duplicate via escape") << QByteArray(R"({"sub":"x","\u0073ub":"y"})") << dup;
        QTest::newRow("duplicate via escaped slash") << QByteArray(R"({"a/b":1,"a\/b":2})") << dup;
        QByteArray many = "{";
        for (int i = 0; i < 40; ++i)
            many += "\"k" + QByteArray::number(i) + "\":1,";
        QTest::newRow("many members") << many + "\"z\":1}" << ok;
        QTest::newRow("many members, one duplicate") << many + "\"k17\":1}" << dup;

        QTest::newRow("empty") << QByteArray("") << bad;
        QTest::newRow("array") << QByteArray("[1]") << bad;
        QTest::newRow("string") << QByteArray("\"a\"") << bad;
        QTest::newRow("trailing garbage") << QByteArray("{}x") << bad;
        QTest::newRow("two objects") << QByteArray("{}{}") << bad;
        QTest::newRow("trailing comma") << QByteArray(R"({"a":1,})") << bad;
        QTest::newRow("trailing comma in array") << QByteArray(R"({"a":[1,]})") << bad;
        QTest::newRow("single quotes") << QByteArray("{'a':1}") << bad;
        QTest::newRow("unquoted name") << QByteArray("{a:1}") << bad;
        QTest::newRow("comment") << QByteArray("{/*x*/}") << bad;
        QTest::newRow("leading zero") << QByteArray(R"({"a":01})") << bad;
        QTest::newRow("plus sign") << QByteArray(R"({"a":+1})") << bad;
        QTest::newRow("bare dot") << QByteArray(R"({"a":1.})") << bad;
        QTest::newRow("NaN") << QByteArray(R"({"a":NaN})") << bad;
        QTest::newRow("Infinity") << QByteArray(R"({"a":Infinity})") << bad;
        QTest::newRow("number too large") << QByteArray(R"({"exp":1.7e90073})") << bad;
        QTest::newRow("number too small") << QByteArray(R"({"exp":1e-400})") << bad;
        QTest::newRow("truex") << QByteArray(R"({"a":tru})") << bad;
        QTest::newRow("control char") << QByteArray("{\"a\":\"\x01\"}") << bad;
        QTest::newRow("raw newline in string") << QByteArray("{\"a\":\"\n\"}") << bad;
        QTest::newRow("bad escape") << QByteArray(R"({"a":"\x"})") << bad;
        QTest::newRow("short unicode escape") << QByteArray(R"({"a":"\u12"})") << bad;
        QTest::newRow("lone high surrogate") << QByteArray(R"({"a":"\ud800"})") << bad;
        QTest::newRow("lone low surrogate") << QByteArray(R"({"a":"\udc00"})") << bad;
        QTest::newRow("invalid UTF-8 byte") << QByteArray("{\"a\":\"\xff\"}") << bad;
        QTest::newRow("overlong UTF-8") << QByteArray("{\"a\":\"\xc0\xaf\"}") << bad;
        QTest::newRow("UTF-8 surrogate") << QByteArray("{\"a\":\"\xed\xa0\x80\"}") << bad;
        QTest::newRow("UTF-8 above U+10FFFF") << QByteArray("{\"a\":\"\xf4\x90\x80\x80\"}") << bad;
        QTest::newRow("truncated UTF-8") << QByteArray("{\"a\":\"\xe2\x82\"}") << bad;
        QTest::newRow("invalid UTF-8 in name") << QByteArray("{\"\xfe\":1}") << bad;
        QTest::newRow("BOM") << QByteArray("\xef\xbb\xbf{}") << bad;
        QTest::newRow("NUL after value") << QByteArray("{}\0", 3) << bad;
        QTest::newRow("unterminated") << QByteArray("{\"a\":\"b") << bad;
        QTest::newRow("too deep") << QByteArray("{\"a\":") + QByteArray(100, '[') + QByteArray(100, ']') + "}" << bad;
    }

    void parseObject()
    {
        QFETCH(QByteArray, json);
        QFETCH(Error::Code, code);
        Error error;
        const auto object = StrictJson::parseObject(json, &error);
        QCOMPARE(error.code(), code);
        QCOMPARE(object.has_value(), code == Error::Code::NoError);
    }

    void valuesAreKept()
    {
        const auto object = StrictJson::parseObject(R"({"s":"\u00e9t\u00e9","n":1.5,"a":[1,"x"],"o":{"k":true}})");
        QVERIFY(object);
        QCOMPARE(object->value(QLatin1String("s")).toString(), QString::fromUtf8("\xc3\xa9t\xc3\xa9"));
        QCOMPARE(object->value(QLatin1String("n")).toDouble(), 1.5);
        QCOMPARE(object->value(QLatin1String("a")).toArray().size(), 2);
        QCOMPARE(object->value(QLatin1String("o")).toObject().value(QLatin1String("k")).toBool(), true);
    }

    void sizeLimit()
    {
        StrictJson::Limits limits;
        limits.maxSize = 10;
        Error error;
        QVERIFY(!StrictJson::parseObject(R"({"a":"0123456789"})", limits, &error));
        QCOMPARE(error.code(), Error::Code::ResponseTooLarge);
        QVERIFY(StrictJson::parseObject(R"({"a":1})", limits, &error));
    }

    void depthLimit()
    {
        StrictJson::Limits limits;
        limits.maxDepth = 3;
        QVERIFY(StrictJson::parseObject(R"({"a":{"b":{}}})", limits));
        Error error;
        QVERIFY(!StrictJson::parseObject(R"({"a":{"b":{"c":{}}}})", limits, &error));
        QCOMPARE(error.code(), Error::Code::MalformedResponse);
    }

    void scalars()
    {
        StrictJson::Limits limits;
        QCOMPARE(StrictJson::parse("42", limits).value_or(QJsonValue()).toInt(), 42);
        QCOMPARE(StrictJson::parse(" \"x\" ", limits).value_or(QJsonValue()).toString(), QStringLiteral("x"));
        QVERIFY(!StrictJson::parse("42 43", limits));
    }

    // Strings are scanned eight bytes at a time: random strings built from valid and invalid
    // pieces, at every alignment, as values and as member names, are accepted exactly when
    // every piece is valid, and their decoded text, UTF-16 length and byte comparison agree.
    void randomStrings()
    {
        struct Piece
        {
            const char *raw;
            const char *decoded; // UTF-8; null: the piece makes the string invalid
        };
        static const Piece pieces[] = {
            {"a", "a"}, {"xyz0123", "xyz0123"}, {"-_.:/ ~", "-_.:/ ~"}, {"\x7f", "\x7f"},
            {"\xc3\xa9", "\xc3\xa9"}, {"\xe2\x82\xac", "\xe2\x82\xac"}, {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
            {"\\n", "\n"}, {"\\\"", "\""}, {"\\\\", "\\"}, {"\\/", "/"}, {"\\u00e9", "\xc3\xa9"},
            {"\\u0041", "A"}, {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
            {"\x01", nullptr}, {"\x1f", nullptr}, {"\t", nullptr}, {"\x80", nullptr}, {"\xff", nullptr},
            {"\xc0\xaf", nullptr}, {"\xed\xa0\x80", nullptr}, {"\\x", nullptr}, {"\\u12g4", nullptr}, {"\\udc00", nullptr},
        };
        const int count = int(sizeof pieces / sizeof pieces[0]);
        QRandomGenerator random(8259);
        StrictJson::Limits limits;
        int accepted = 0;
        for (int round = 0; round < 20000; ++round) {
            const int invalidFrom = 14; // pieces[14..] are invalid
            const bool allowInvalid = random.bounded(3) == 0;
            QByteArray raw;
            QByteArray decoded;
            bool valid = true;
            const int n = int(random.bounded(12));
            for (int i = 0; i < n; ++i) {
                const Piece &p = pieces[random.bounded(allowInvalid ? count : invalidFrom)];
                raw += p.raw;
                if (p.decoded)
                    decoded += p.decoded;
                else
                    valid = false;
            }
            const QByteArray pad(int(random.bounded(9)), ' '); // shifts the string against 8-byte words
            const QByteArray asValue = "{" + pad + "\"k\":\"" + raw + "\"}";
            const QByteArray asName = "{" + pad + "\"" + raw + "\":1}";
            if (StrictJson::check(asValue, limits).isNull() != valid || StrictJson::check(asName, limits).isNull() != valid)
                QFAIL(qPrintable(QStringLiteral("round %1: %2 should be %3")
                                     .arg(QString::number(round), QString::fromLatin1(raw.toPercentEncoding()),
                                          valid ? QStringLiteral("accepted") : QStringLiteral("rejected"))));
            if (!valid)
                continue;
            ++accepted;
            struct Seen { QByteArrayView value; bool escaped = false; } seen;
            QCOMPARE(StrictJson::scanMembers(asValue, limits, [](void *c, const StrictJson::Member &m) {
                static_cast<Seen *>(c)->value = m.value;
                static_cast<Seen *>(c)->escaped = m.hasEscapes;
            }, &seen), Error::Code::NoError);
            const QString expected = QString::fromUtf8(decoded);
            QCOMPARE(seen.escaped, raw.contains('\\'));
            QCOMPARE(StrictJson::decodeString(seen.value), expected);
            QCOMPARE(StrictJson::decodeStringUtf8(seen.value), decoded);
            QCOMPARE(StrictJson::stringUtf16Length(seen.value, seen.escaped), expected.size());
            QVERIFY(StrictJson::stringEquals(seen.value, seen.escaped, decoded));
            QVERIFY(!StrictJson::stringEquals(seen.value, seen.escaped, decoded + 'x'));
            // The strict object parse keeps the same name and value.
            const auto object = StrictJson::parseObject(asName);
            QVERIFY(object);
            QCOMPARE(object->keys(), QStringList{expected});
        }
        QVERIFY(accepted > 5000);
    }

    // scanMembers() reports the top-level members only; scanElements() the top-level elements.
    void membersAndElements()
    {
        StrictJson::Limits limits;
        QStringList seen;
        auto collect = [](void *c, const StrictJson::Member &m) {
            static_cast<QStringList *>(c)->append(QString::fromUtf8(m.name.data(), qsizetype(m.name.size())) + QLatin1Char('=')
                                                  + QString::fromUtf8(m.value));
        };
        QCOMPARE(StrictJson::scanMembers(" {\"a\":[1,{\"b\":2}],\"c\":\"x\",\"d\":{\"e\":[]}} ", limits, collect, &seen), Error::Code::NoError);
        QCOMPARE(seen, QStringList({QStringLiteral("a=[1,{\"b\":2}]"), QStringLiteral("c=\"x\""), QStringLiteral("d={\"e\":[]}")}));
        seen.clear();
        QCOMPARE(StrictJson::scanElements(" [\"x\", 1 ,[2,3],{\"k\":[4]},null] ", limits, collect, &seen), Error::Code::NoError);
        QCOMPARE(seen, QStringList({QStringLiteral("=\"x\""), QStringLiteral("=1"), QStringLiteral("=[2,3]"),
                                    QStringLiteral("={\"k\":[4]}"), QStringLiteral("=null")}));
        QCOMPARE(StrictJson::scanElements("{}", limits, collect, &seen), Error::Code::MalformedResponse);
        QCOMPARE(StrictJson::scanMembers("[]", limits, collect, &seen), Error::Code::MalformedResponse);
        QCOMPARE(StrictJson::scanElements("[1,1,]", limits, collect, &seen), Error::Code::MalformedResponse);
        QCOMPARE(StrictJson::scanMembers("{\"a\":1,\"\\u0061\":2}", limits, collect, &seen), Error::Code::DuplicateParameter);
        limits.maxSize = 4;
        QCOMPARE(StrictJson::scanMembers("{\"a\":1}", limits, collect, &seen), Error::Code::ResponseTooLarge);
    }

    void messageNeverQuotesInput()
    {
        Error error;
        QVERIFY(!StrictJson::parseObject(R"({"secret-name":1,"secret-name":2})", &error));
        QVERIFY(!error.message().contains(QLatin1String("secret")));
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
