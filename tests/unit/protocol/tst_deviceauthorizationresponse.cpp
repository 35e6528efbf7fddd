// SPDX-License-Identifier: MIT
// The device authorization response (RFC 8628 §3.2): what is accepted, what is refused, and
// that nothing of a refused body reaches the message.
#include "token/deviceauthorizationresponse_p.h"

#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {
// JSON written with single quotes (raw string literals confuse moc's lexer).
QByteArray J(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}
} // namespace

class tst_DeviceAuthorizationResponse : public QObject
{
    Q_OBJECT

private:
    const QDateTime received = QDateTime::fromSecsSinceEpoch(1700000000, QTimeZone::utc());

private Q_SLOTS:
    void complete()
    {
        Error e;
        const auto r = DeviceAuthorizationResponse::parse(
            200,
            J("{'device_code':'dc-secret','user_code':'WDJB-MJHT','verification_uri':'https://example.com/device',") +
            J("'verification_uri_complete':'https://example.com/device?user_code=WDJB-MJHT','expires_in':1800,'interval':7}"),
            received, TransportOptions(), &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(r.deviceCode, QByteArray("dc-secret"));
        QCOMPARE(r.userCode, QStringLiteral("WDJB-MJHT"));
        QCOMPARE(r.verificationUri, QUrl(QStringLiteral("https://example.com/device")));
        QCOMPARE(r.verificationUriComplete, QUrl(QStringLiteral("https://example.com/device?user_code=WDJB-MJHT")));
        QCOMPARE(r.expiresAt, received.addSecs(1800));
        QCOMPARE(r.interval, 7s);
    }

    void defaultsAndAliases()
    {
        Error e;
        // §3.2: interval defaults to 5; Google's verification_url is read as verification_uri.
        const auto r = DeviceAuthorizationResponse::parse(
            200, J("{'device_code':'d','user_code':'U','verification_url':'https://www.google.com/device','expires_in':60}"),
            received, TransportOptions(), &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(r.interval, 5s);
        QCOMPARE(r.verificationUri.host(), QStringLiteral("www.google.com"));
        QVERIFY(r.verificationUriComplete.isEmpty());
        // interval 0 ("no minimum") still never means a tight loop.
        const auto zero = DeviceAuthorizationResponse::parse(
            200, J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':60,'interval':0}"),
            received, TransportOptions(), &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(zero.interval, 1s);
    }

    void refused_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<QString>("oauthError");
        const QByteArray tail = J(",'verification_uri':'https://e.com/d','expires_in':60}");
        auto row = [](const char *name) -> QTestData & { return QTest::newRow(name); };
        row("oauth error 400") << 400 << QByteArray(J("{'error':'invalid_scope','error_description':'no'}")) << Error::Code::OAuthError << QStringLiteral("invalid_scope");
        row("unauthorized_client 400") << 400 << QByteArray(J("{'error':'unauthorized_client'}")) << Error::Code::OAuthError << QStringLiteral("unauthorized_client");
        row("html 500") << 500 << QByteArray("<html>secret-ish</html>") << Error::Code::HttpError << QString();
        row("404 no body") << 404 << QByteArray() << Error::Code::HttpError << QString();
        row("not json") << 200 << QByteArray("device_code=secret") << Error::Code::MalformedResponse << QString();
        row("duplicate member") << 200 << QByteArray(J("{'device_code':'a','device_code':'b','user_code':'U'") + tail) << Error::Code::DuplicateParameter << QString();
        row("missing device_code") << 200 << QByteArray(J("{'user_code':'U'") + tail) << Error::Code::MissingParameter << QString();
        row("empty device_code") << 200 << QByteArray(J("{'device_code':'','user_code':'U'") + tail) << Error::Code::MalformedResponse << QString();
        row("missing user_code") << 200 << QByteArray(J("{'device_code':'d'") + tail) << Error::Code::MissingParameter << QString();
        row("user_code with newline") << 200 << QByteArray(J("{'device_code':'d','user_code':'AB\\nCD'") + tail) << Error::Code::MalformedResponse << QString();
        row("user_code with escape") << 200 << QByteArray(J("{'device_code':'d','user_code':'\\u001b[2J'") + tail) << Error::Code::MalformedResponse << QString();
        row("user_code too long") << 200 << QByteArray(J("{'device_code':'d','user_code':'") + QByteArray(65, 'A') + "\"" + tail) << Error::Code::MalformedResponse << QString();
        row("missing verification_uri") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','expires_in':60}")) << Error::Code::MissingParameter << QString();
        row("relative verification_uri") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'/device','expires_in':60}")) << Error::Code::MalformedResponse << QString();
        row("javascript verification_uri") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'javascript://x/%0aalert%281%29','expires_in':60}")) << Error::Code::InsecureEndpoint << QString();
        row("http verification_uri") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'http://e.com/d','expires_in':60}")) << Error::Code::InsecureEndpoint << QString();
        row("bad complete uri") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','verification_uri_complete':42,'expires_in':60}")) << Error::Code::MalformedResponse << QString();
        row("missing expires_in") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d'}")) << Error::Code::MissingParameter << QString();
        row("expires_in zero") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':0}")) << Error::Code::MalformedResponse << QString();
        row("expires_in string") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':'60'}")) << Error::Code::MalformedResponse << QString();
        row("expires_in days") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':864000}")) << Error::Code::MalformedResponse << QString();
        row("interval negative") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':60,'interval':-5}")) << Error::Code::MalformedResponse << QString();
        row("interval fractional") << 200 << QByteArray(J("{'device_code':'d','user_code':'U','verification_uri':'https://e.com/d','expires_in':60,'interval':0.5}")) << Error::Code::MalformedResponse << QString();
    }

    void refused()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Code, code);
        QFETCH(QString, oauthError);
        Error e;
        const auto r = DeviceAuthorizationResponse::parse(status, body, received, TransportOptions(), &e);
        QVERIFY(r.isNull());
        QCOMPARE(e.code(), code);
        QCOMPARE(e.oauthError(), oauthError);
        QVERIFY(!e.message().contains(QLatin1String("secret")));
    }

    void loopbackHttpOnlyWithOptIn()
    {
        const QByteArray body = J("{'device_code':'d','user_code':'U','verification_uri':'http://127.0.0.1:8080/device','expires_in':60}");
        Error e;
        DeviceAuthorizationResponse::parse(200, body, received, TransportOptions(), &e);
        QCOMPARE(e.code(), Error::Code::InsecureEndpoint);
        TransportOptions dev;
        dev.setAllowInsecureLoopbackForDevelopment(true);
        const auto r = DeviceAuthorizationResponse::parse(200, body, received, dev, &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(r.verificationUri.port(), 8080);
    }
};

QTEST_GUILESS_MAIN(tst_DeviceAuthorizationResponse)
#include "tst_deviceauthorizationresponse.moc"
