// SPDX-License-Identifier: MIT
// StrictJson: RFC 8259 grammar, UTF-8, duplicate member names, limits.
#include <QtTest/QtTest>

#include "jose/strictjson_p.h"

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

    void messageNeverQuotesInput()
    {
        Error error;
        QVERIFY(!StrictJson::parseObject(R"({"secret-name":1,"secret-name":2})", &error));
        QVERIFY(!error.message().contains(QLatin1String("secret")));
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
