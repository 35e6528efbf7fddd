// SPDX-License-Identifier: MIT
// Token revocation (RFC 7009) against an in-process HTTP server on 127.0.0.1: the request
// (§2.1: form POST, token, token_type_hint, client authentication) and how each answer is read
// (§2.2: 200 is done; §2.2.1: unsupported_token_type is done, 503 is transient, errors typed).
#include <keyloop/revocationjob.h>
#include <keyloop/tokenclient.h>

#include "testhttpserver.h"

#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;
using namespace std::chrono_literals;

namespace {

const QByteArray kToken = "rt-secret+/=value";

TransportOptions loopbackOptions(std::chrono::milliseconds timeout = 5s)
{
    TransportOptions options;
    options.setAllowInsecureLoopbackForDevelopment(true);
    options.setRequestTimeout(timeout);
    return options;
}

ProviderConfiguration provider(const QString &revocationEndpoint)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(QStringLiteral("http://127.0.0.1")));
    p.setTokenEndpoint(QUrl(QStringLiteral("http://127.0.0.1/token")));
    p.setRevocationEndpoint(QUrl(revocationEndpoint));
    return p;
}

ClientConfiguration publicClient()
{
    ClientConfiguration c;
    c.setClientId(QStringLiteral("my app"));
    return c;
}

// Decodes a form body into name → values.
QMultiMap<QByteArray, QByteArray> form(const QByteArray &body)
{
    QMultiMap<QByteArray, QByteArray> out;
    for (QByteArray pair : body.split('&')) {
        pair.replace('+', ' ');
        const qsizetype eq = pair.indexOf('=');
        out.insert(QByteArray::fromPercentEncoding(pair.left(eq)), QByteArray::fromPercentEncoding(pair.mid(eq + 1)));
    }
    return out;
}

struct Result
{
    bool done = false;
    int count = 0;
    Error error;
    RevocationJob::Outcome outcome = RevocationJob::Outcome::Revoked;
};

std::shared_ptr<Result> observe(RevocationJob *job)
{
    auto result = std::make_shared<Result>();
    QObject::connect(job, &Job::finished, job, [job, result] {
        ++result->count;
        result->done = true;
        result->error = job->error();
        result->outcome = job->outcome();
    });
    job->start();
    return result;
}

HttpResponse answer(int status, const QByteArray &body, QList<QPair<QByteArray, QByteArray>> headers = {})
{
    if (!body.isEmpty())
        headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    return HttpResponse{status, body, headers, false, false};
}

} // namespace

class tst_RevocationJob : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void revokesARefreshTokenAsAPublicClient()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return answer(200, QByteArray()); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        RevocationJob *job = tokens.revoke(provider(server.url(QStringLiteral("/token/revocation"))), publicClient(), kToken,
                                           RevocationJob::TokenTypeHint::RefreshToken);
        QCOMPARE(job->tokenTypeHint(), RevocationJob::TokenTypeHint::RefreshToken);
        auto result = observe(job);
        QTRY_VERIFY(result->done);
        QVERIFY2(!result->error, qPrintable(result->error.toString()));
        QCOMPARE(result->outcome, RevocationJob::Outcome::Revoked);

        QCOMPARE(server.requests().size(), 1);
        const HttpRequest request = server.requests().constFirst();
        QCOMPARE(request.method, QByteArray("POST"));
        QCOMPARE(request.target, QByteArray("/token/revocation"));
        QCOMPARE(request.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY(!request.hasHeader("Authorization"));
        const auto f = form(request.body);
        QVERIFY(f.value("token") == kToken); // form-encoded on the wire, intact after decoding
        QCOMPARE(f.value("token_type_hint"), QByteArray("refresh_token"));
        QCOMPARE(f.value("client_id"), QByteArray("my app"));
        QVERIFY(!f.contains("client_secret"));
        QCOMPARE(f.size(), 3);
    }

    void sendsTheHintAsked_data()
    {
        QTest::addColumn<RevocationJob::TokenTypeHint>("hint");
        QTest::addColumn<QByteArray>("wire");
        QTest::newRow("access token") << RevocationJob::TokenTypeHint::AccessToken << QByteArray("access_token");
        QTest::newRow("refresh token") << RevocationJob::TokenTypeHint::RefreshToken << QByteArray("refresh_token");
        QTest::newRow("no hint") << RevocationJob::TokenTypeHint::None << QByteArray();
    }

    void sendsTheHintAsked()
    {
        QFETCH(RevocationJob::TokenTypeHint, hint);
        QFETCH(QByteArray, wire);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return answer(200, QByteArray()); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.revoke(provider(server.url(QStringLiteral("/revoke"))), publicClient(), kToken, hint));
        QTRY_VERIFY(result->done);
        QVERIFY(!result->error);
        const auto f = form(server.requests().constFirst().body);
        QCOMPARE(f.contains("token_type_hint"), !wire.isEmpty());
        QCOMPARE(f.value("token_type_hint"), wire);
    }

    // RFC 7009 §2.1: the client authenticates as at the token endpoint (RFC 6749 §2.3.1).
    void authenticatesLikeTheTokenRequests_data()
    {
        QTest::addColumn<ClientConfiguration::ClientAuthMethod>("method");
        QTest::newRow("client_secret_basic") << ClientConfiguration::ClientAuthMethod::ClientSecretBasic;
        QTest::newRow("client_secret_post") << ClientConfiguration::ClientAuthMethod::ClientSecretPost;
    }

    void authenticatesLikeTheTokenRequests()
    {
        QFETCH(ClientConfiguration::ClientAuthMethod, method);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return answer(200, QByteArray()); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        ClientConfiguration c = publicClient();
        c.setClientSecret(QStringLiteral("s3cr:et"));
        c.setClientAuthMethod(method);
        auto result = observe(tokens.revoke(provider(server.url(QStringLiteral("/revoke"))), c, kToken,
                                            RevocationJob::TokenTypeHint::AccessToken));
        QTRY_VERIFY(result->done);
        QVERIFY2(!result->error, qPrintable(result->error.toString()));
        const HttpRequest request = server.requests().constFirst();
        const auto f = form(request.body);
        if (method == ClientConfiguration::ClientAuthMethod::ClientSecretBasic) {
            // id and secret form-urlencoded before the Basic encoding (RFC 6749 §2.3.1)
            QCOMPARE(request.header("Authorization"), "Basic " + QByteArray("my+app:s3cr%3Aet").toBase64());
            QVERIFY(!f.contains("client_id"));
            QVERIFY(!f.contains("client_secret"));
        } else {
            QVERIFY(!request.hasHeader("Authorization"));
            QCOMPARE(f.value("client_id"), QByteArray("my app"));
            QVERIFY(f.value("client_secret") == "s3cr:et");
        }
        QVERIFY(f.value("token") == kToken);
    }

    void readsTheAnswer_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<RevocationJob::Outcome>("outcome");
        QTest::addColumn<bool>("transient");
        QTest::addColumn<QString>("oauthError");
        using O = RevocationJob::Outcome;
        QTest::newRow("200: revoked (§2.2)") << 200 << QByteArray() << Error::Code::NoError << O::Revoked << false << QString();
        QTest::newRow("200 with a body: ignored (§2.2)")
            << 200 << QByteArray("<html>ok</html>") << Error::Code::NoError << O::Revoked << false << QString();
        QTest::newRow("204: revoked") << 204 << QByteArray() << Error::Code::NoError << O::Revoked << false << QString();
        QTest::newRow("unsupported_token_type: done (§2.2.1)")
            << 400 << QByteArray(R"({"error":"unsupported_token_type","error_description":"JWT"})") << Error::Code::NoError
            << O::UnsupportedTokenType << false << QString();
        QTest::newRow("503: transient (§2.2.1)") << 503 << QByteArray() << Error::Code::HttpError << O::Revoked << true << QString();
        QTest::newRow("500 server_error: transient")
            << 500 << QByteArray(R"({"error":"server_error"})") << Error::Code::OAuthError << O::Revoked << true
            << QStringLiteral("server_error");
        QTest::newRow("429: transient") << 429 << QByteArray() << Error::Code::HttpError << O::Revoked << true << QString();
        QTest::newRow("invalid_request") << 400 << QByteArray(R"({"error":"invalid_request"})") << Error::Code::OAuthError
                                         << O::Revoked << false << QStringLiteral("invalid_request");
        QTest::newRow("invalid_client")
            << 401 << QByteArray(R"({"error":"invalid_client"})") << Error::Code::ClientAuthenticationFailed << O::Revoked
            << false << QStringLiteral("invalid_client");
        QTest::newRow("403 page of a firewall") << 403 << QByteArray("<html>Forbidden</html>") << Error::Code::HttpError
                                                << O::Revoked << false << QString();
        QTest::newRow("redirect: never followed") << 307 << QByteArray() << Error::Code::UnexpectedRedirect << O::Revoked
                                                  << false << QString();
    }

    void readsTheAnswer()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Code, code);
        QFETCH(RevocationJob::Outcome, outcome);
        QFETCH(bool, transient);
        QFETCH(QString, oauthError);
        TestHttpServer redirectTarget;
        QVERIFY(redirectTarget.listen());
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([&](const HttpRequest &) {
            QList<QPair<QByteArray, QByteArray>> headers;
            if (status == 307)
                headers.append({"Location", redirectTarget.origin() + "/revoke"});
            return answer(status, body, headers);
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.revoke(provider(server.url(QStringLiteral("/revoke"))), publicClient(), kToken,
                                            RevocationJob::TokenTypeHint::RefreshToken));
        QTRY_VERIFY(result->done);
        QCOMPARE(result->error.code(), code);
        QCOMPARE(result->error.isTransient(), transient);
        QCOMPARE(result->error.oauthError(), oauthError);
        if (!result->error)
            QCOMPARE(result->outcome, outcome);
        else if (code != Error::Code::UnexpectedRedirect)
            QCOMPARE(result->error.httpStatus(), status);
        QVERIFY(!result->error.message().contains(QString::fromLatin1(kToken)));
        QVERIFY(!result->error.requiresSignIn()); // a failed revocation never says "sign in again"
        QCOMPARE(redirectTarget.requests().size(), 0);
        QCOMPARE(result->count, 1);
    }

    // RFC 7009 §2.2.1 with RFC 9110 §10.2.3: a 503 may say when to come back.
    void retryAfterOf503IsKept()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return answer(503, QByteArray(), {{"Retry-After", "7"}}); });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.revoke(provider(server.url(QStringLiteral("/revoke"))), publicClient(), kToken));
        QTRY_VERIFY(result->done);
        QVERIFY(result->error.isTransient());
        QCOMPARE(result->error.retryAfter(), 7s);
    }

    void droppedConnectionIsATransientNetworkError()
    {
        QTcpServer server; // reads the request, then closes without a word
        QVERIFY(server.listen(QHostAddress::LocalHost));
        connect(&server, &QTcpServer::newConnection, this, [&server] {
            while (QTcpSocket *socket = server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                    socket->readAll();
                    socket->abort();
                    socket->deleteLater();
                });
            }
        });
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        auto result = observe(tokens.revoke(provider(QStringLiteral("http://127.0.0.1:%1/revoke").arg(server.serverPort())),
                                            publicClient(), kToken));
        QTRY_VERIFY(result->done);
        QCOMPARE(result->error.code(), Error::Code::NetworkError);
        QVERIFY(result->error.isTransient());
    }

    void silentServerTimesOutAfterTheTransportTimeout()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return HttpResponse{200, {}, {}, true, false}; }); // never answers
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions(300ms));
        QElapsedTimer timer;
        timer.start();
        auto result = observe(tokens.revoke(provider(server.url(QStringLiteral("/revoke"))), publicClient(), kToken));
        QTRY_VERIFY_WITH_TIMEOUT(result->done, 10000);
        QCOMPARE(result->error.code(), Error::Code::Timeout);
        QVERIFY(result->error.isTransient());
        QVERIFY(timer.elapsed() < 5000);
    }

    void configurationErrorsFailAsynchronously_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<ClientConfiguration::ClientAuthMethod>("method");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("no revocation endpoint") << QString() << kToken << ClientConfiguration::ClientAuthMethod::None
                                                << Error::Code::InvalidConfiguration;
        QTest::newRow("no token") << QStringLiteral("https://issuer.example/revoke") << QByteArray()
                                  << ClientConfiguration::ClientAuthMethod::None << Error::Code::InvalidConfiguration;
        QTest::newRow("client_secret_basic without a secret")
            << QStringLiteral("https://issuer.example/revoke") << kToken << ClientConfiguration::ClientAuthMethod::ClientSecretBasic
            << Error::Code::InvalidConfiguration;
        QTest::newRow("plain http to another host") << QStringLiteral("http://issuer.example/revoke") << kToken
                                                    << ClientConfiguration::ClientAuthMethod::None << Error::Code::InsecureEndpoint;
    }

    void configurationErrorsFailAsynchronously()
    {
        QFETCH(QString, endpoint);
        QFETCH(QByteArray, token);
        QFETCH(ClientConfiguration::ClientAuthMethod, method);
        QFETCH(Error::Code, code);
        QNetworkAccessManager nam;
        TokenClient tokens(&nam, loopbackOptions());
        ClientConfiguration c = publicClient();
        c.setClientAuthMethod(method);
        RevocationJob *job = tokens.revoke(provider(endpoint), c, token);
        auto result = observe(job);
        QVERIFY(!result->done); // reported through finished(), from the event loop
        QTRY_VERIFY(result->done);
        QCOMPARE(result->error.code(), code);
        if (code == Error::Code::InsecureEndpoint)
            QVERIFY(result->error.message().startsWith(QLatin1String("revocation_endpoint")));
    }
};

QTEST_GUILESS_MAIN(tst_RevocationJob)
#include "tst_revocationjob.moc"
