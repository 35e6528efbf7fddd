// SPDX-License-Identifier: MIT
// The browser's page after the redirect tells the truth (issue 10): SignIn holds the loopback
// answer until the code is exchanged and the ID token validated, then reports how it ended.
// Unit test: an in-process fake provider (token endpoint, jwks_uri) and a fake browser that
// delivers the redirect over a real loopback socket.
#include <keyloop/browserlauncher.h>
#include <keyloop/signin.h>

#include "fakeprovider.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkProxy>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopSessionTest;

namespace {

const QString kClientId = QStringLiteral("page-client");
const QByteArray kCode = "code-SplxlOBeZQQYbYS6WxSbIA";

/// A browser that, when "opened" at the authorization URL, goes straight to the redirect URI
/// with a code and the request's state (the provider's part is not what is tested here), and
/// keeps whatever the app's loopback listener answers.
class FakeBrowser : public BrowserLauncher
{
public:
    Error openUrl(const QUrl &url) override
    {
        const QUrlQuery query(url);
        const QUrl redirect(query.queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded));
        state = query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded).toUtf8();
        nonce = query.queryItemValue(QStringLiteral("nonce"), QUrl::FullyDecoded);
        socket = std::make_unique<QTcpSocket>();
        socket->setProxy(QNetworkProxy::NoProxy);
        QObject::connect(socket.get(), &QTcpSocket::readyRead, socket.get(), [this] { received += socket->readAll(); });
        QObject::connect(socket.get(), &QTcpSocket::disconnected, socket.get(), [this] {
            received += socket->readAll();
            closed = true;
        });
        socket->connectToHost(QHostAddress::LocalHost, quint16(redirect.port()));
        socket->write("GET " + redirect.path(QUrl::FullyEncoded).toUtf8() + "?code=" + kCode
                      + "&state=" + QUrl::toPercentEncoding(QString::fromUtf8(state)) + " HTTP/1.1\r\nHost: "
                      + redirect.authority(QUrl::FullyEncoded).toUtf8() + "\r\n\r\n");
        return Error();
    }

    QByteArray body() const
    {
        const qsizetype i = received.indexOf("\r\n\r\n");
        return i < 0 ? QByteArray() : received.mid(i + 4);
    }

    std::unique_ptr<QTcpSocket> socket;
    QByteArray state;
    QString nonce;
    QByteArray received;
    bool closed = false;
};

} // namespace

class TestSignInPage : public QObject
{
    Q_OBJECT

    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<SigningKey> m_key;
    QNetworkAccessManager m_nam;
    std::unique_ptr<FakeBrowser> m_browserOwner;
    FakeBrowser &m_browser() { return *m_browserOwner; }
    QList<QTcpSocket *> m_heldTokenRequests;

    QString issuer() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_server->port()); }

    ClientConfiguration client(const QStringList &scopes) const
    {
        ClientConfiguration c;
        c.setIssuer(QUrl(issuer()));
        c.setClientId(kClientId);
        c.setScopes(scopes);
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        c.setTransport(transport);
        ProviderConfiguration provider;
        provider.setIssuer(QUrl(issuer()));
        provider.setAuthorizationEndpoint(m_server->url(QStringLiteral("/authorize")));
        provider.setTokenEndpoint(m_server->url(QStringLiteral("/token")));
        provider.setJwksUri(m_server->url(QStringLiteral("/jwks")));
        provider.setIdTokenSigningAlgValuesSupported({QStringLiteral("RS256")});
        c.setProviderConfiguration(provider);
        return c;
    }

    QByteArray tokenResponse(const QString &nonce) const
    {
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const QJsonObject claims{{QStringLiteral("iss"), issuer()},
                                 {QStringLiteral("sub"), QStringLiteral("alice")},
                                 {QStringLiteral("aud"), kClientId},
                                 {QStringLiteral("iat"), now},
                                 {QStringLiteral("exp"), now + 300},
                                 {QStringLiteral("nonce"), nonce}};
        const QJsonObject body{{QStringLiteral("access_token"), QStringLiteral("at-1")},
                               {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                               {QStringLiteral("expires_in"), 300},
                               {QStringLiteral("id_token"), QString::fromLatin1(m_key->sign(claims))}};
        return QJsonDocument(body).toJson(QJsonDocument::Compact);
    }

    /// Answers the token request that the test held back.
    void answerHeldTokenRequest(const QByteArray &response)
    {
        QVERIFY(!m_heldTokenRequests.isEmpty());
        FakeServer::reply(m_heldTokenRequests.takeFirst(), response);
    }

    void checkNoSecretOnThePage()
    {
        QVERIFY(!m_browser().received.contains(kCode));
        QVERIFY(!m_browser().received.contains(m_browser().state));
        QVERIFY(!m_browser().received.contains("at-1"));
        QVERIFY(!m_browser().received.contains("eyJ")); // no JWS
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = std::make_unique<SigningKey>(QStringLiteral("k1"));
        QVERIFY(m_key->isValid());
    }

    void init()
    {
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_server->setHandler("/jwks", [this](const Request &, QTcpSocket *socket) {
            const QJsonObject jwks{{QStringLiteral("keys"), QJsonArray{m_key->publicJwk()}}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(jwks).toJson(QJsonDocument::Compact)));
        });
        // The token endpoint keeps its answer until the test gives it.
        m_heldTokenRequests.clear();
        m_server->setHandler("/token", [this](const Request &, QTcpSocket *socket) { m_heldTokenRequests.append(socket); });
        m_browserOwner = std::make_unique<FakeBrowser>();
    }

    void cleanup()
    {
        m_browserOwner.reset();
        m_server.reset();
    }

    void signedInPageComesOnlyAfterTheIdTokenIsValidated()
    {
        SignIn signIn(client({QStringLiteral("openid")}), &m_nam);
        signIn.setAutoDelete(false); // on the stack
        signIn.setBrowserLauncher(&m_browser());
        QSignalSpy callback(&signIn, &SignIn::callbackReceived);
        QSignalSpy finished(&signIn, &Job::finished);
        signIn.start();
        QTRY_COMPARE(m_heldTokenRequests.size(), 1); // the redirect arrived, the code is being exchanged
        QCOMPARE(callback.count(), 1);
        QCOMPARE(m_server->requests("/token").first().field(QStringLiteral("code")), kCode);
        QVERIFY(!m_browser().closed);

        answerHeldTokenRequest(httpResponse(200, tokenResponse(m_browser().nonce)));
        QVERIFY(finished.wait(10000));
        QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));
        QCOMPARE(m_server->count("/jwks"), 1); // validated against the provider's key
        QTRY_VERIFY(m_browser().closed);
        QVERIFY(m_browser().received.startsWith("HTTP/1.1 200 "));
        QCOMPARE(m_browser().received.count("HTTP/1.1 "), 1);
        QVERIFY(m_browser().body().contains("Signed in"));
        checkNoSecretOnThePage();
    }

    void failedIdTokenValidationIsWhatThePageSays()
    {
        SignIn signIn(client({QStringLiteral("openid")}), &m_nam);
        signIn.setAutoDelete(false); // on the stack
        signIn.setBrowserLauncher(&m_browser());
        QSignalSpy finished(&signIn, &Job::finished);
        signIn.start();
        QTRY_COMPARE(m_heldTokenRequests.size(), 1);
        answerHeldTokenRequest(httpResponse(200, tokenResponse(QStringLiteral("another-login's-nonce"))));
        QVERIFY(finished.wait(10000));
        QCOMPARE(signIn.error().code(), Error::Code::IdTokenInvalidNonce); // OIDC Core §3.1.3.7 rule 11
        QTRY_VERIFY(m_browser().closed);
        QVERIFY(m_browser().body().contains("Sign-in failed"));
        QVERIFY(m_browser().body().contains("could not verify"));
        QVERIFY(!m_browser().body().contains("Signed in"));
        checkNoSecretOnThePage();
    }

    void rejectedCodeExchangeIsWhatThePageSays()
    {
        SignIn signIn(client({QStringLiteral("api:read")}), &m_nam);
        signIn.setAutoDelete(false); // on the stack
        signIn.setBrowserLauncher(&m_browser());
        QSignalSpy finished(&signIn, &Job::finished);
        signIn.start();
        QTRY_COMPARE(m_heldTokenRequests.size(), 1);
        answerHeldTokenRequest(httpResponse(400, R"({"error":"invalid_grant","error_description":"code reused"})"));
        QVERIFY(finished.wait(10000));
        QCOMPARE(signIn.error().oauthError(), QStringLiteral("invalid_grant"));
        QTRY_VERIFY(m_browser().closed);
        QVERIFY(m_browser().body().contains("Sign-in failed"));
        QVERIFY(m_browser().body().contains("expired or was already used"));
        QVERIFY(!m_browser().body().contains("code reused")); // the provider's text is not echoed
        checkNoSecretOnThePage();
    }

    void cancellingDuringTheExchangeIsWhatThePageSays()
    {
        SignIn signIn(client({QStringLiteral("openid")}), &m_nam);
        signIn.setAutoDelete(false); // on the stack
        signIn.setBrowserLauncher(&m_browser());
        QSignalSpy finished(&signIn, &Job::finished);
        signIn.start();
        QTRY_COMPARE(m_heldTokenRequests.size(), 1);
        signIn.cancel();
        QVERIFY(finished.wait(10000));
        QCOMPARE(signIn.error().code(), Error::Code::Cancelled);
        QTRY_VERIFY(m_browser().closed);
        QVERIFY(m_browser().body().contains("cancelled in the application"));
    }

    void deletingTheSignInGivesTheBrowserTheNeutralPage()
    {
        auto signIn = std::make_unique<SignIn>(client({QStringLiteral("openid")}), &m_nam);
        signIn->setBrowserLauncher(&m_browser());
        signIn->start();
        QTRY_COMPARE(m_heldTokenRequests.size(), 1);
        signIn.reset(); // the app went away mid-exchange: no outcome to tell
        QTRY_VERIFY(m_browser().closed);
        QVERIFY(m_browser().body().contains("Return to the application"));
        QVERIFY(!m_browser().body().contains("Signed in"));
    }
};

QTEST_GUILESS_MAIN(TestSignInPage)
#include "tst_signinpage.moc"
