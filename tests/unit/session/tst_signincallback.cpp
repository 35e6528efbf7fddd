// SPDX-License-Identifier: MIT
// SignIn against a fake provider on loopback (discovery, token endpoint, jwks_uri), with a
// "browser" that delivers a callback of the test's choosing to the loopback redirect URI: the
// authorization responses a real provider will not send on demand, e.g. an error that carries
// another provider's iss (RFC 9207 mix-up). No sandbox; time comes from an injected clock.
#include <keyloop/browserlauncher.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/session.h>
#include <keyloop/signin.h>
#include <keyloop/tokenstore.h>

#include "fakeprovider.h"

#include <QtCore/QJsonArray>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopSessionTest;

namespace {

const QString kClientId = QStringLiteral("keyloop-test-app");

class TestClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override { return t; }
    void advance(std::chrono::seconds by) { t += by; }
    qint64 seconds() const { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }
    std::chrono::system_clock::time_point t = std::chrono::system_clock::time_point(std::chrono::seconds(1893456000)); // 2030-01-01
};

/*!
 * Plays the browser and the provider's authorization endpoint: remembers the authorization
 * request's state and nonce and answers with `state=<its state>&` + the test's query, sent as
 * the GET a browser would make to the loopback redirect URI.
 */
class CallbackLauncher : public BrowserLauncher
{
public:
    explicit CallbackLauncher(QNetworkAccessManager *nam) : m_nam(nam) {}

    QByteArray query; ///< appended after state=…&
    QByteArray nonce;

    Error openUrl(const QUrl &url) override
    {
        const QUrlQuery request(url);
        nonce = request.queryItemValue(QStringLiteral("nonce"), QUrl::FullyDecoded).toUtf8();
        const QByteArray state = request.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded).toUtf8();
        QUrl redirect(request.queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded));
        redirect.setQuery(QString::fromLatin1("state=" + QUrl::toPercentEncoding(QString::fromUtf8(state)) + '&' + query),
                          QUrl::StrictMode);
        QNetworkRequest get(redirect);
        get.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        QNetworkReply *reply = m_nam->get(get);
        QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
        return Error();
    }

private:
    QNetworkAccessManager *m_nam;
};

QByteArray formValue(const QString &value)
{
    return QUrl::toPercentEncoding(value);
}

} // namespace

class TestSignInCallback : public QObject
{
    Q_OBJECT

    std::unique_ptr<SigningKey> m_key;
    std::unique_ptr<FakeServer> m_server;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    std::unique_ptr<CallbackLauncher> m_launcher;
    TestClock m_clock;

    /// The issuer as the provider writes it (discovery, iss, ID token): \a path on the fake server.
    QString issuerText(const QString &path = QString()) const
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(m_server->port()).arg(path);
    }

    /// Serves discovery for the issuer at \a path (OIDC Discovery §4), a token endpoint that issues
    /// an ID token naming that issuer, and the keys.
    void serveProvider(const QString &path = QString())
    {
        const QString issuer = issuerText(path);
        const QByteArray wellKnown = path.toLatin1() + "/.well-known/openid-configuration";
        m_server->setHandler(wellKnown, [this, issuer](const Request &, QTcpSocket *socket) {
            const QJsonObject metadata{
                {QStringLiteral("issuer"), issuer},
                {QStringLiteral("authorization_endpoint"), issuerText(QStringLiteral("/authorize"))},
                {QStringLiteral("token_endpoint"), issuerText(QStringLiteral("/token"))},
                {QStringLiteral("jwks_uri"), issuerText(QStringLiteral("/jwks"))},
                {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}},
                {QStringLiteral("code_challenge_methods_supported"), QJsonArray{QStringLiteral("S256")}},
                {QStringLiteral("id_token_signing_alg_values_supported"), QJsonArray{QStringLiteral("RS256")}},
                {QStringLiteral("authorization_response_iss_parameter_supported"), true}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(metadata).toJson(QJsonDocument::Compact)));
        });
        m_server->setHandler("/token", [this, issuer](const Request &request, QTcpSocket *socket) {
            // A code exchange answers with the login's nonce; a refresh (OIDC Core §12.2) without.
            QJsonObject claims{{QStringLiteral("iss"), issuer},
                               {QStringLiteral("sub"), QStringLiteral("alice")},
                               {QStringLiteral("aud"), kClientId},
                               {QStringLiteral("iat"), m_clock.seconds()},
                               {QStringLiteral("exp"), m_clock.seconds() + 3600}};
            if (request.field(QStringLiteral("grant_type")) == "authorization_code")
                claims.insert(QStringLiteral("nonce"), QString::fromUtf8(m_launcher->nonce));
            const QByteArray n = QByteArray::number(m_server->count("/token"));
            const QJsonObject tokens{{QStringLiteral("access_token"), QString::fromLatin1("at-" + n)},
                                     {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                                     {QStringLiteral("expires_in"), 60},
                                     {QStringLiteral("refresh_token"), QString::fromLatin1("rt-" + n)},
                                     {QStringLiteral("id_token"), QString::fromLatin1(m_key->sign(claims))}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(tokens).toJson(QJsonDocument::Compact),
                                                   "application/json", {"Cache-Control: no-store"}));
        });
        m_server->setHandler("/jwks", [this](const Request &, QTcpSocket *socket) {
            const QJsonObject jwks{{QStringLiteral("keys"), QJsonArray{m_key->publicJwk()}}};
            FakeServer::reply(socket, httpResponse(200, QJsonDocument(jwks).toJson(QJsonDocument::Compact)));
        });
    }

    ClientConfiguration client(const QString &issuer) const
    {
        ClientConfiguration c;
        c.setIssuer(QUrl(issuer));
        c.setClientId(kClientId);
        TransportOptions transport;
        transport.setAllowInsecureLoopbackForDevelopment(true);
        c.setTransport(transport);
        c.setLoginTimeout(std::chrono::seconds(20));
        return c;
    }

    std::unique_ptr<SignIn> runSignIn(const ClientConfiguration &c)
    {
        auto signIn = std::make_unique<SignIn>(c, m_nam.get());
        signIn->setAutoDelete(false);
        signIn->setBrowserLauncher(m_launcher.get());
        signIn->setClock(&m_clock);
        QSignalSpy finished(signIn.get(), &Job::finished);
        signIn->start();
        if (!finished.wait(30000))
            qWarning("the sign-in did not finish");
        return signIn;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = std::make_unique<SigningKey>(QStringLiteral("key-1"));
        QVERIFY(m_key->isValid());
    }

    void init()
    {
        m_server = std::make_unique<FakeServer>();
        QVERIFY(m_server->listen());
        m_nam = std::make_unique<QNetworkAccessManager>();
        m_launcher = std::make_unique<CallbackLauncher>(m_nam.get());
        serveProvider();
    }

    void cleanup()
    {
        m_launcher.reset();
        m_nam.reset();
        m_server.reset();
    }

    void callbackIsCheckedForItsIssuerFirst_data()
    {
        // {ISS} is this provider's issuer, form-encoded.
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<Error::Code>("code");
        QTest::addColumn<QString>("oauthError");
        QTest::newRow("code from this issuer") << QByteArray("code=c-1&iss={ISS}") << Error::Code::NoError << QString();
        QTest::newRow("error from this issuer")
            << QByteArray("error=access_denied&error_description=no&iss={ISS}") << Error::Code::OAuthError
            << QStringLiteral("access_denied");
        // RFC 9207 §2.4: the error of a mixed-up provider is not this provider's answer.
        QTest::newRow("error from another issuer")
            << QByteArray("error=access_denied&iss=https%3A%2F%2Fevil.example") << Error::Code::IssuerMismatch << QString();
        QTest::newRow("transient error from another issuer")
            << QByteArray("error=temporarily_unavailable&iss=https%3A%2F%2Fevil.example") << Error::Code::IssuerMismatch
            << QString();
        QTest::newRow("error without the advertised iss")
            << QByteArray("error=access_denied") << Error::Code::MissingParameter << QString();
        QTest::newRow("code from another issuer")
            << QByteArray("code=c-1&iss=https%3A%2F%2Fevil.example") << Error::Code::IssuerMismatch << QString();
    }

    void callbackIsCheckedForItsIssuerFirst()
    {
        QFETCH(QByteArray, query);
        QFETCH(Error::Code, code);
        QFETCH(QString, oauthError);
        m_launcher->query = query.replace("{ISS}", formValue(issuerText()));
        const auto signIn = runSignIn(client(issuerText()));
        QVERIFY(signIn->isFinished());
        QCOMPARE(signIn->error().code(), code);
        QCOMPARE(signIn->error().oauthError(), oauthError);
        QVERIFY(!signIn->error().isTransient());
        // Only an answer from this provider reaches its token endpoint.
        QCOMPARE(m_server->count("/token"), code == Error::Code::NoError ? 1 : 0);
        if (code == Error::Code::NoError)
            QCOMPARE(signIn->idTokenClaims().subject(), QStringLiteral("alice"));
    }

    // One issuer string everywhere (OIDC Discovery §4.3, RFC 9207 §2.4, OIDC Core 3.1.3.7 rule 2,
    // the store key): an issuer whose path needs percent-encoding signs in, configured in either
    // form, and its session refreshes and validates the refreshed ID token (OIDC Core §12.2).
    void issuerWithAPercentEncodedPathSignsInAndRefreshes_data()
    {
        QTest::addColumn<QString>("configuredPath");
        QTest::newRow("configured as published") << QStringLiteral("/realms/m%C3%BCnchen%20ost");
        QTest::newRow("configured decoded") << QStringLiteral("/realms/m\u00fcnchen ost");
    }

    void issuerWithAPercentEncodedPathSignsInAndRefreshes()
    {
        QFETCH(QString, configuredPath);
        const QString published = issuerText(QStringLiteral("/realms/m%C3%BCnchen%20ost"));
        serveProvider(QStringLiteral("/realms/m%C3%BCnchen%20ost"));
        m_launcher->query = "code=c-1&iss=" + formValue(published);
        const auto signIn = runSignIn(client(issuerText(configuredPath)));
        QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
        QCOMPARE(signIn->idTokenClaims().issuer(), published);
        QCOMPARE(issuerIdentifier(signIn->providerConfiguration().issuer()), published);

        MemoryTokenStore store(QStringLiteral("org.keyloop.test.signincallback"));
        Session session(signIn->clientConfiguration(), signIn->providerConfiguration(), &store, m_nam.get());
        session.setClock(&m_clock);
        QCOMPARE(session.storeKey(), TokenStore::keyFor(published, kClientId, QString()));
        SessionJob *adopt = session.adoptSignIn(signIn->tokenResponse(), signIn->idTokenClaims());
        QSignalSpy adopted(adopt, &Job::finished);
        adopt->start();
        QVERIFY(adopted.wait(5000));
        QVERIFY(session.isSignedIn());
        QCOMPARE(session.record().issuer(), published);

        m_clock.advance(std::chrono::seconds(120));
        QByteArray token;
        Error error;
        bool called = false;
        session.freshAccessToken(QString(), this, [&](const QByteArray &t, const Error &e) {
            token = t;
            error = e;
            called = true;
        });
        QVERIFY(QTest::qWaitFor([&] { return called; }, 10000));
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(token == "at-2");
        QCOMPARE(m_server->count("/token"), 2);
    }
};

QTEST_GUILESS_MAIN(TestSignInCallback)
#include "tst_signincallback.moc"
