// SPDX-License-Identifier: MIT
// The loopback receiver's HTTP request parser against well-formed and malformed input.
#include "redirect/httprequestparser_p.h"

#include <QtTest/QtTest>

using Keyloop::HttpRequestParser;
using Status = HttpRequestParser::Status;
using Reason = HttpRequestParser::ErrorReason;

Q_DECLARE_METATYPE(HttpRequestParser::ErrorReason)

namespace {

const QByteArray kValid = "GET /callback?code=abc&state=xyz HTTP/1.1\r\n"
                          "Host: 127.0.0.1:4711\r\n"
                          "User-Agent: Mozilla/5.0\r\n"
                          "Accept:  text/html \t\r\n"
                          "\r\n";

QByteArray headers(int count, int valueSize)
{
    QByteArray out;
    for (int i = 0; i < count; ++i)
        out += "X-H" + QByteArray::number(i) + ": " + QByteArray(valueSize, 'v') + "\r\n";
    return out;
}

// Feeds \a input in chunks of \a chunk bytes (0 = all at once).
HttpRequestParser parse(const QByteArray &input, int chunk)
{
    HttpRequestParser parser;
    if (chunk <= 0) {
        parser.feed(input);
        return parser;
    }
    for (qsizetype i = 0; i < input.size(); i += chunk)
        parser.feed(QByteArrayView(input).sliced(i, qMin<qsizetype>(chunk, input.size() - i)));
    return parser;
}

} // namespace

class TestHttpRequestParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesBrowserRequest_data();
    void parsesBrowserRequest();
    void needsMoreUntilEmptyLine();
    void doesNotConsumeBytesAfterHead();
    void staysFinishedAfterCompletion();
    void rejectsMalformedInput_data();
    void rejectsMalformedInput();
    void acceptsEdgeCases_data();
    void acceptsEdgeCases();
    void enforcesLimitsAtTheBoundary();
    void rejectsOverlongRequestLineBeforeItEnds();
    void mapsErrorsToHttpStatus();
    void splitsFormQuery_data();
    void splitsFormQuery();
};

void TestHttpRequestParser::parsesBrowserRequest_data()
{
    QTest::addColumn<int>("chunk");
    QTest::newRow("whole") << 0;
    QTest::newRow("byte by byte") << 1;
    QTest::newRow("chunks of 7") << 7;
}

void TestHttpRequestParser::parsesBrowserRequest()
{
    QFETCH(int, chunk);
    const HttpRequestParser p = parse(kValid, chunk);
    QCOMPARE(p.status(), Status::Complete);
    QCOMPARE(p.errorReason(), Reason::None);
    QCOMPARE(p.method(), QByteArray("GET"));
    QCOMPARE(p.path(), QByteArray("/callback"));
    QVERIFY(p.hasQuery());
    QCOMPARE(p.rawQuery(), QByteArray("code=abc&state=xyz"));
    QCOMPARE(p.minorVersion(), 1);
    QCOMPARE(p.headers().size(), 3);
    QCOMPARE(p.header("HOST"), QByteArray("127.0.0.1:4711"));
    QCOMPARE(p.header("accept"), QByteArray("text/html")); // OWS trimmed
    QVERIFY(p.header("missing").isNull());
    QCOMPARE(p.consumed(), kValid.size());
}

void TestHttpRequestParser::needsMoreUntilEmptyLine()
{
    HttpRequestParser p;
    QCOMPARE(p.feed("GET /callback HTTP/1.1\r\n"), Status::NeedMore);
    QCOMPARE(p.feed("Host: 127.0.0.1:1\r\n"), Status::NeedMore);
    QCOMPARE(p.feed("\r"), Status::NeedMore);
    QCOMPARE(p.feed("\n"), Status::Complete);
    QVERIFY(!p.hasQuery());
    QVERIFY(p.rawQuery().isEmpty());
}

void TestHttpRequestParser::doesNotConsumeBytesAfterHead()
{
    HttpRequestParser p;
    QCOMPARE(p.feed(kValid + "GET /second HTTP/1.1\r\n"), Status::Complete);
    QCOMPARE(p.consumed(), kValid.size());
    QCOMPARE(p.path(), QByteArray("/callback"));
}

void TestHttpRequestParser::staysFinishedAfterCompletion()
{
    HttpRequestParser p;
    QCOMPARE(p.feed(kValid), Status::Complete);
    QCOMPARE(p.feed(QByteArray("\0garbage", 8)), Status::Complete);
    QCOMPARE(p.consumed(), kValid.size());

    HttpRequestParser e;
    QCOMPARE(e.feed(QByteArrayView("GET\0", 4)), Status::Error);
    QCOMPARE(e.feed(kValid), Status::Error);
    QCOMPARE(e.errorReason(), Reason::NulByte);
}

void TestHttpRequestParser::rejectsMalformedInput_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<Reason>("reason");
    const QByteArray host = "Host: 127.0.0.1:1\r\n";

    QTest::newRow("bare LF everywhere") << QByteArray("GET / HTTP/1.1\nHost: a\n\n") << Reason::InvalidLineEnding;
    QTest::newRow("bare LF in header") << QByteArray("GET / HTTP/1.1\r\nHost: a\n\r\n") << Reason::InvalidLineEnding;
    QTest::newRow("bare CR in header") << QByteArray("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n") << Reason::InvalidLineEnding;
    QTest::newRow("bare CR in request line") << QByteArray("GET /\r HTTP/1.1\r\n") << Reason::InvalidLineEnding;
    QTest::newRow("NUL in target") << QByteArray("GET /call\0back HTTP/1.1\r\n", 25) << Reason::NulByte;
    QTest::newRow("NUL in header") << QByteArray("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29) << Reason::NulByte;
    QTest::newRow("obs-fold") << "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\n\r\n" << Reason::ObsoleteLineFolding;
    QTest::newRow("obs-fold tab") << "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n\tb\r\n\r\n" << Reason::ObsoleteLineFolding;
    QTest::newRow("space before first header") << QByteArray("GET / HTTP/1.1\r\n Host: a\r\n\r\n") << Reason::ObsoleteLineFolding;
    QTest::newRow("method with (") << QByteArray("G(T / HTTP/1.1\r\n") << Reason::InvalidMethod;
    QTest::newRow("method with high byte") << QByteArray("G\xc3\xa9T / HTTP/1.1\r\n") << Reason::InvalidMethod;
    QTest::newRow("empty method") << QByteArray(" / HTTP/1.1\r\n") << Reason::InvalidMethod;
    QTest::newRow("absolute-form") << QByteArray("GET http://127.0.0.1:1/callback HTTP/1.1\r\n") << Reason::UnsupportedTargetForm;
    QTest::newRow("authority-form") << QByteArray("CONNECT 127.0.0.1:1 HTTP/1.1\r\n") << Reason::UnsupportedTargetForm;
    QTest::newRow("asterisk-form") << QByteArray("OPTIONS * HTTP/1.1\r\n") << Reason::UnsupportedTargetForm;
    QTest::newRow("HTTP/0.9") << QByteArray("GET /callback\r\n") << Reason::UnsupportedVersion;
    QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\n") << Reason::UnsupportedVersion;
    QTest::newRow("HTTP/1.2") << QByteArray("GET / HTTP/1.2\r\n") << Reason::UnsupportedVersion;
    QTest::newRow("lowercase version") << QByteArray("GET / http/1.1\r\n") << Reason::MalformedRequestLine;
    QTest::newRow("version junk") << QByteArray("GET / HTTP/1.1x\r\n") << Reason::MalformedRequestLine;
    QTest::newRow("double space") << QByteArray("GET  / HTTP/1.1\r\n") << Reason::MalformedRequestLine;
    QTest::newRow("trailing space") << QByteArray("GET / HTTP/1.1 \r\n") << Reason::MalformedRequestLine;
    QTest::newRow("empty first line") << QByteArray("\r\nGET / HTTP/1.1\r\n") << Reason::MalformedRequestLine;
    QTest::newRow("no spaces") << QByteArray("GARBAGE\r\n") << Reason::MalformedRequestLine;
    QTest::newRow("fragment") << QByteArray("GET /callback#x HTTP/1.1\r\n") << Reason::InvalidTarget;
    QTest::newRow("tab in target") << QByteArray("GET /a\tb HTTP/1.1\r\n") << Reason::InvalidTarget;
    QTest::newRow("high byte in target") << QByteArray("GET /\xff HTTP/1.1\r\n") << Reason::InvalidTarget;
    QTest::newRow("DEL in target") << QByteArray("GET /\x7f HTTP/1.1\r\n") << Reason::InvalidTarget;
    QTest::newRow("missing Host") << QByteArray("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n") << Reason::MissingHost;
    QTest::newRow("duplicate Host") << "GET / HTTP/1.1\r\n" + host + host + "\r\n" << Reason::DuplicateHost;
    QTest::newRow("duplicate Host other case") << "GET / HTTP/1.1\r\n" + host + "hOsT: evil\r\n\r\n" << Reason::DuplicateHost;
    QTest::newRow("duplicate Host HTTP/1.0") << "GET / HTTP/1.0\r\n" + host + host + "\r\n" << Reason::DuplicateHost;
    QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << Reason::MalformedHeader;
    QTest::newRow("no colon") << "GET / HTTP/1.1\r\n" + host + "Garbage\r\n\r\n" << Reason::MalformedHeader;
    QTest::newRow("empty name") << "GET / HTTP/1.1\r\n" + host + ": x\r\n\r\n" << Reason::MalformedHeader;
    QTest::newRow("control byte in value") << "GET / HTTP/1.1\r\n" + host + "X: a\x01" "b\r\n\r\n" << Reason::MalformedHeader;
    QTest::newRow("DEL in value") << "GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n" << Reason::MalformedHeader;
    QTest::newRow("GET with Content-Length") << "GET / HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello" << Reason::BodyNotAllowed;
    QTest::newRow("GET chunked") << "GET / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" << Reason::BodyNotAllowed;
    QTest::newRow("Content-Length not a number") << "GET / HTTP/1.1\r\n" + host + "Content-Length: 1x\r\n\r\n" << Reason::InvalidContentLength;
    QTest::newRow("Content-Length negative") << "GET / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n" << Reason::InvalidContentLength;
    QTest::newRow("Content-Length twice") << "POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n" << Reason::InvalidContentLength;
    QTest::newRow("Content-Length huge") << "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n" << Reason::InvalidContentLength;
    QTest::newRow("request line too long") << "GET /" + QByteArray(8200, 'a') + " HTTP/1.1\r\n" << Reason::RequestLineTooLong;
    QTest::newRow("head too large") << "GET / HTTP/1.1\r\n" + host + headers(20, 1000) + "\r\n" << Reason::HeadTooLarge;
    QTest::newRow("too many headers") << "GET / HTTP/1.1\r\n" + host + headers(50, 1) + "\r\n" << Reason::TooManyHeaders;
    QTest::newRow("one huge header") << "GET / HTTP/1.1\r\n" + host + "X: " + QByteArray(20000, 'a') << Reason::HeadTooLarge;
}

void TestHttpRequestParser::rejectsMalformedInput()
{
    QFETCH(QByteArray, input);
    QFETCH(Reason, reason);
    // The verdict must not depend on how the bytes arrive.
    for (const int chunk : {0, 1, 3, 64}) {
        const HttpRequestParser p = parse(input, chunk);
        QVERIFY2(p.status() == Status::Error, qPrintable(QStringLiteral("chunk %1").arg(chunk)));
        QCOMPARE(p.errorReason(), reason);
        QVERIFY(qstrlen(HttpRequestParser::describe(reason)) > 0);
    }
}

void TestHttpRequestParser::acceptsEdgeCases_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("query");

    QTest::newRow("HTTP/1.0 without Host") << QByteArray("GET /x HTTP/1.0\r\n\r\n") << QByteArray("GET") << QByteArray("/x") << QByteArray();
    QTest::newRow("POST with body") << QByteArray("POST /callback HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
                                    << QByteArray("POST") << QByteArray("/callback") << QByteArray();
    QTest::newRow("GET Content-Length 0") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
                                          << QByteArray("GET") << QByteArray("/") << QByteArray();
    QTest::newRow("empty query") << QByteArray("GET /cb? HTTP/1.1\r\nHost: a\r\n\r\n") << QByteArray("GET") << QByteArray("/cb") << QByteArray("");
    QTest::newRow("second ? stays in query") << QByteArray("GET /cb?a=1?b HTTP/1.1\r\nHost: a\r\n\r\n")
                                             << QByteArray("GET") << QByteArray("/cb") << QByteArray("a=1?b");
    QTest::newRow("percent-encoded kept raw") << QByteArray("GET /c%62?s=%2B+ HTTP/1.1\r\nHost: a\r\n\r\n")
                                              << QByteArray("GET") << QByteArray("/c%62") << QByteArray("s=%2B+");
    QTest::newRow("obs-text in value") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n")
                                       << QByteArray("GET") << QByteArray("/") << QByteArray();
    QTest::newRow("empty header value") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n")
                                        << QByteArray("GET") << QByteArray("/") << QByteArray();
    QTest::newRow("49 headers + Host") << "GET / HTTP/1.1\r\nHost: a\r\n" + headers(49, 1) + "\r\n"
                                       << QByteArray("GET") << QByteArray("/") << QByteArray();
}

void TestHttpRequestParser::acceptsEdgeCases()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, query);
    for (const int chunk : {0, 1}) {
        const HttpRequestParser p = parse(input, chunk);
        QCOMPARE(p.status(), Status::Complete);
        QCOMPARE(p.method(), method);
        QCOMPARE(p.path(), path);
        QCOMPARE(p.rawQuery(), query);
        QCOMPARE(p.hasQuery(), !query.isNull());
    }
}

void TestHttpRequestParser::enforcesLimitsAtTheBoundary()
{
    // Request line of exactly 8192 bytes including CRLF is accepted, 8193 is not.
    const QByteArray prefix = "GET /";
    const QByteArray suffix = " HTTP/1.1\r\n";
    const QByteArray atLimit = prefix + QByteArray(8192 - prefix.size() - suffix.size(), 'a') + suffix;
    QCOMPARE(atLimit.size(), 8192);
    QCOMPARE(parse(atLimit + "Host: a\r\n\r\n", 0).status(), Status::Complete);
    QCOMPARE(parse(prefix + "b" + atLimit.mid(prefix.size()), 0).errorReason(), Reason::RequestLineTooLong);

    // Whole head of exactly 16384 bytes is accepted, one more byte is not.
    const QByteArray start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    const QByteArray end = "\r\n\r\n";
    const QByteArray head = start + QByteArray(16384 - start.size() - end.size(), 'v') + end;
    QCOMPARE(head.size(), 16384);
    QCOMPARE(parse(head, 0).status(), Status::Complete);
    QCOMPARE(parse(start + "w" + head.mid(start.size()), 0).errorReason(), Reason::HeadTooLarge);

    // Configurable limits.
    HttpRequestParser::Limits limits;
    limits.maxHeaders = 1;
    HttpRequestParser small(limits);
    QCOMPARE(small.feed("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\r\n"), Status::Error);
    QCOMPARE(small.errorReason(), Reason::TooManyHeaders);
}

void TestHttpRequestParser::rejectsOverlongRequestLineBeforeItEnds()
{
    HttpRequestParser p;
    const QByteArray chunk(1024, 'a');
    QCOMPARE(p.feed("GET /"), Status::NeedMore);
    for (int i = 0; i < 7; ++i)
        QCOMPARE(p.feed(chunk), Status::NeedMore);
    QCOMPARE(p.feed(chunk), Status::Error); // no CRLF needed to know it is too long
    QCOMPARE(p.errorReason(), Reason::RequestLineTooLong);
}

void TestHttpRequestParser::mapsErrorsToHttpStatus()
{
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::RequestLineTooLong), 414);
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::HeadTooLarge), 431);
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::TooManyHeaders), 431);
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::UnsupportedVersion), 505);
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::DuplicateHost), 400);
    QCOMPARE(HttpRequestParser::httpStatusFor(Reason::ObsoleteLineFolding), 400);
}

using Pairs = QList<QPair<QByteArray, QByteArray>>;

void TestHttpRequestParser::splitsFormQuery_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<Pairs>("pairs");
    QTest::newRow("empty") << QByteArray("") << true << Pairs{};
    QTest::newRow("two") << QByteArray("code=a&state=b") << true << Pairs{{"code", "a"}, {"state", "b"}};
    QTest::newRow("duplicates kept") << QByteArray("state=a&state=b") << true << Pairs{{"state", "a"}, {"state", "b"}};
    QTest::newRow("no value") << QByteArray("a&b=") << true << Pairs{{"a", ""}, {"b", ""}};
    QTest::newRow("empty name") << QByteArray("=x") << true << Pairs{{"", "x"}};
    QTest::newRow("empty segments skipped") << QByteArray("&a=1&&b=2&") << true << Pairs{{"a", "1"}, {"b", "2"}};
    QTest::newRow("first = splits") << QByteArray("a=b=c") << true << Pairs{{"a", "b=c"}};
    QTest::newRow("decoding") << QByteArray("st%61te=%2B+%41") << true << Pairs{{"state", "+ A"}};
    QTest::newRow("truncated escape") << QByteArray("a=%4") << false << Pairs{};
    QTest::newRow("lone percent") << QByteArray("a=%") << false << Pairs{};
    QTest::newRow("bad hex") << QByteArray("a=%zz") << false << Pairs{};
    QTest::newRow("bad escape in name") << QByteArray("%g1=a") << false << Pairs{};
}

void TestHttpRequestParser::splitsFormQuery()
{
    QFETCH(QByteArray, query);
    QFETCH(bool, valid);
    QFETCH(Pairs, pairs);
    const auto result = Keyloop::splitFormQuery(query);
    QCOMPARE(result.has_value(), valid);
    if (valid)
        QCOMPARE(*result, pairs);
}

QTEST_GUILESS_MAIN(TestHttpRequestParser)
#include "tst_httprequestparser.moc"
