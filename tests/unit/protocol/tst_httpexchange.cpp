// SPDX-License-Identifier: MIT
#include "network/httpexchange_p.h"
#include "testhttpserver.h"

#include <QtTest/QtTest>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>

using namespace Keyloop;
using namespace KeyloopTest;
using namespace std::chrono_literals;

namespace {

struct Outcome
{
    bool done = false;
    int finishedCount = 0;
    Error error;
    int status = 0;
    QByteArray body;
    QByteArray contentType;
};

std::shared_ptr<Outcome> observe(HttpExchange *exchange)
{
    auto outcome = std::make_shared<Outcome>();
    QObject::connect(exchange, &HttpExchange::finished, exchange, [exchange, outcome] {
        ++outcome->finishedCount;
        outcome->done = true;
        outcome->error = exchange->error();
        outcome->status = exchange->status();
        outcome->body = exchange->body();
        outcome->contentType = exchange->rawHeader("content-type");
    });
    return outcome;
}

TransportOptions loopbackOptions()
{
    TransportOptions options;
    options.setAllowInsecureLoopbackForDevelopment(true);
    return options;
}

} // namespace

class tst_HttpExchange : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void returnsErrorStatusWithBody()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) {
            return HttpResponse{503, "{\"error\":\"temporarily_unavailable\"}", {{"Content-Type", "application/json"}}, false, false};
        });
        QNetworkAccessManager nam;
        auto outcome = observe(HttpExchange::get(&nam, QUrl(server.url(QStringLiteral("/x"))), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QCOMPARE(outcome->status, 503);
        QCOMPARE(outcome->body, QByteArray("{\"error\":\"temporarily_unavailable\"}"));
        QCOMPARE(outcome->contentType, QByteArray("application/json"));
    }

    void sendsFormAndStandardHeaders()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return HttpResponse{200, "{}", {}, false, false}; });
        QNetworkAccessManager nam;
        const FormFields form{{"grant_type", "refresh_token"}, {"refresh_token", "a+b c&d=e%f/"}};
        auto outcome = observe(HttpExchange::postForm(&nam, QUrl(server.url(QStringLiteral("/token"))), form,
                                                      loopbackOptions(), {{"X-Test", "1"}}));
        QTRY_VERIFY(outcome->done);
        QVERIFY(!outcome->error);
        QCOMPARE(server.requests().size(), 1);
        const HttpRequest request = server.requests().first();
        QCOMPARE(request.method, QByteArray("POST"));
        QCOMPARE(request.target, QByteArray("/token"));
        QCOMPARE(request.header("Accept"), QByteArray("application/json"));
        QVERIFY(request.header("User-Agent").startsWith("Keyloop/"));
        QCOMPARE(request.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QCOMPARE(request.header("X-Test"), QByteArray("1"));
        QVERIFY(!request.hasHeader("Cookie"));
        QCOMPARE(request.body, QByteArray("grant_type=refresh_token&refresh_token=a%2Bb+c%26d%3De%25f%2F"));
    }

    void doesNotFollowRedirects()
    {
        TestHttpServer target;
        QVERIFY(target.listen());
        target.setHandler([](const HttpRequest &) { return HttpResponse{200, "{}", {}, false, false}; });
        TestHttpServer server;
        QVERIFY(server.listen());
        const QByteArray location = target.origin() + "/stolen";
        server.setHandler([location](const HttpRequest &) {
            return HttpResponse{302, {}, {{"Location", location}}, false, false};
        });
        QNetworkAccessManager nam;
        auto outcome = observe(HttpExchange::get(&nam, QUrl(server.url(QStringLiteral("/api"))), loopbackOptions(),
                                                 {{"Authorization", "Bearer secret-token"}}));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::UnexpectedRedirect);
        QCOMPARE(outcome->error.httpStatus(), 302);
        QCOMPARE(server.requests().size(), 1);
        // A followed redirect would reach the target before any request made after the 302 was
        // reported: make one through the same manager and wait for it instead of for nothing.
        auto sentinel = observe(HttpExchange::get(&nam, QUrl(target.url(QStringLiteral("/sentinel"))), loopbackOptions()));
        QTRY_VERIFY(sentinel->done);
        QVERIFY(!sentinel->error);
        QCOMPARE(target.requests().size(), 1);
        QCOMPARE(target.requests().first().target, QByteArray("/sentinel"));
        QVERIFY(!outcome->error.message().contains(QLatin1String("stolen")));
    }

    void timesOut()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { HttpResponse r; r.hang = true; return r; });
        QNetworkAccessManager nam;
        TransportOptions options = loopbackOptions();
        options.setRequestTimeout(150ms);
        auto outcome = observe(HttpExchange::get(&nam, QUrl(server.url(QStringLiteral("/slow"))), options));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done, 5000);
        QCOMPARE(outcome->error.code(), Error::Code::Timeout);
        QVERIFY(outcome->error.isTransient());
        QCOMPARE(outcome->finishedCount, 1);
    }

    void enforcesSizeLimit_data()
    {
        QTest::addColumn<bool>("omitLength");
        QTest::newRow("content-length") << false;
        QTest::newRow("read until close") << true;
    }
    void enforcesSizeLimit()
    {
        QFETCH(bool, omitLength);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([omitLength](const HttpRequest &) {
            return HttpResponse{200, QByteArray(64 * 1024, 'x'), {}, false, omitLength};
        });
        QNetworkAccessManager nam;
        TransportOptions options = loopbackOptions();
        options.setMaxResponseSize(1000);
        auto outcome = observe(HttpExchange::get(&nam, QUrl(server.url(QStringLiteral("/big"))), options));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::ResponseTooLarge);
        QVERIFY(outcome->body.isEmpty());
        QCOMPARE(outcome->finishedCount, 1);
    }

    void rejectsInsecureUrlsAsynchronously_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("optIn");
        QTest::addColumn<int>("code");
        QTest::newRow("http remote") << "http://example.com/x" << true << int(Error::Code::InsecureEndpoint);
        QTest::newRow("http loopback without opt-in") << "http://127.0.0.1:1/x" << false << int(Error::Code::InsecureEndpoint);
        QTest::newRow("ftp") << "ftp://example.com/x" << true << int(Error::Code::InsecureEndpoint);
        QTest::newRow("fragment") << "https://example.com/x#f" << false << int(Error::Code::InvalidConfiguration);
        QTest::newRow("userinfo") << "https://user:pw@example.com/x" << false << int(Error::Code::InvalidConfiguration);
        QTest::newRow("relative") << "/x" << false << int(Error::Code::InvalidConfiguration);
    }
    void rejectsInsecureUrlsAsynchronously()
    {
        QFETCH(QString, url);
        QFETCH(bool, optIn);
        QFETCH(int, code);
        QNetworkAccessManager nam;
        TransportOptions options;
        options.setAllowInsecureLoopbackForDevelopment(optIn);
        HttpExchange *exchange = HttpExchange::get(&nam, QUrl(url), options);
        auto outcome = observe(exchange); // connecting after the call is safe: finished is queued
        QVERIFY(!outcome->done);
        QTRY_VERIFY(outcome->done);
        QCOMPARE(int(outcome->error.code()), code);
        QVERIFY(!outcome->error.message().contains(QLatin1String("pw")));
    }

    void mapsConnectionFailureToTransientNetworkError()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        QNetworkAccessManager nam;
        auto outcome = observe(HttpExchange::get(
            &nam, QUrl(QStringLiteral("http://127.0.0.1:%1/x").arg(port)), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::NetworkError);
        QVERIFY(outcome->error.isTransient());
    }

    void abortFinishesOnceWithCancelled()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { HttpResponse r; r.hang = true; return r; });
        QNetworkAccessManager nam;
        HttpExchange *exchange = HttpExchange::get(&nam, QUrl(server.url(QStringLiteral("/x"))), loopbackOptions());
        auto outcome = observe(exchange);
        QSignalSpy destroyed(exchange, &QObject::destroyed);
        QTRY_COMPARE(server.requests().size(), 1);
        exchange->abort();
        exchange->abort();
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::Cancelled);
        // The exchange deletes itself after finished(): once it is gone, no second finished()
        // can come, so wait for that instead of for a while.
        QTRY_COMPARE(destroyed.count(), 1);
        QCOMPARE(outcome->finishedCount, 1);
    }

    void tlsUsesSystemAndExtraCas()
    {
        // A throw-away self-signed certificate for 127.0.0.1 made with the openssl CLI.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QProcess openssl;
        QSignalSpy done(&openssl, &QProcess::finished);
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                       QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                       QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                       QStringLiteral("subjectAltName=IP:127.0.0.1"), QStringLiteral("-days"), QStringLiteral("1"),
                       QStringLiteral("-keyout"), dir.filePath(QStringLiteral("key.pem")),
                       QStringLiteral("-out"), dir.filePath(QStringLiteral("cert.pem"))});
        QVERIFY(done.wait(20000));
        QCOMPARE(openssl.exitCode(), 0);
        QFile certFile(dir.filePath(QStringLiteral("cert.pem")));
        QFile keyFile(dir.filePath(QStringLiteral("key.pem")));
        QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
        const QSslCertificate cert(&certFile, QSsl::Pem);
        const QSslKey key(&keyFile, QSsl::Ec, QSsl::Pem);
        QVERIFY(!cert.isNull() && !key.isNull());

        QSslServer server;
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(cert);
        config.setPrivateKey(key);
        server.setSslConfiguration(config);
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&server] {
            while (QTcpSocket *socket = server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                    if (!socket->readAll().contains("\r\n\r\n"))
                        return;
                    socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                                  "Connection: close\r\n\r\n{}");
                    socket->disconnectFromHost();
                });
            }
        });
        const QUrl url(QStringLiteral("https://127.0.0.1:%1/x").arg(server.serverPort()));
        QNetworkAccessManager nam;

        // Not trusted by the system store: a TLS error, never ignored.
        auto untrusted = observe(HttpExchange::get(&nam, url, TransportOptions()));
        QTRY_VERIFY_WITH_TIMEOUT(untrusted->done, 10000);
        QCOMPARE(untrusted->error.code(), Error::Code::TlsError);
        QVERIFY(!untrusted->error.isTransient());
        QCOMPARE(untrusted->status, 0);

        // Trusted once added as an extra CA.
        TransportOptions options;
        options.setExtraCaCertificates({cert});
        // A second manager: Qt 6.4 reuses its per-host connection (and TLS settings) within one
        // QNetworkAccessManager, so different CA sets for the same host need different managers.
        QNetworkAccessManager nam2;
        auto trusted = observe(HttpExchange::get(&nam2, url, options));
        QTRY_VERIFY_WITH_TIMEOUT(trusted->done, 10000);
        QVERIFY2(!trusted->error, qPrintable(trusted->error.toString()));
        QCOMPARE(trusted->status, 200);
    }
};

QTEST_GUILESS_MAIN(tst_HttpExchange)
#include "tst_httpexchange.moc"
