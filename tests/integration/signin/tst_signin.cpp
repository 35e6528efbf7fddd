// SPDX-License-Identifier: MIT
// Sign-in end to end against the real devstack (oidc-provider over HTTPS with the sandbox's CA),
// with a scripted user agent as the browser.
#include <keyloop/browserlauncher.h>
#include <keyloop/jwkscache.h>
#include <keyloop/signin.h>
#include <keyloop/userinfojob.h>

#include "testsupport.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

Q_DECLARE_METATYPE(Keyloop::RedirectHost)

using namespace Keyloop;
using namespace KeyloopTest;

namespace {

/// A launcher that records the URL and opens nothing: the sign-in then waits.
class RecordingLauncher : public BrowserLauncher
{
public:
    Error openUrl(const QUrl &url) override { urls << url; return Error(); }
    QList<QUrl> urls;
};

QStringList capturedLog;
void captureMessages(QtMsgType, const QMessageLogContext &, const QString &message)
{
    capturedLog << message;
}

} // namespace

class tst_SignIn : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void signsInWithScriptedUserAgent_data();
    void signsInWithScriptedUserAgent();
    void plainOAuthWithoutOpenIdHasNoIdToken();
    void keyRotationCostsExactlyOneJwksFetch();
    void userDenialBecomesTypedOAuthError();
    void rejectsIssuerThatDiffersFromDiscovery();
    void rejectsPlainHttpWithoutTheDevelopmentOptIn();
    void cancelEndsTheSignInAndClosesTheListener();
    void overallTimeoutEndsAWaitingSignIn();
    void neverLogsSecrets();
    void userInfoIsFetchedAndMatchesTheIdToken();
    void userInfoOfAnotherSubjectIsRejected();

private:
    ClientConfiguration config() const;
    std::unique_ptr<SignIn> runSignIn(const ClientConfiguration &config, BrowserLauncher *launcher,
                                      JwksCache *cache = nullptr, int timeoutMs = 60000);

    Devstack m_devstack;
    QNetworkAccessManager m_nam;
    std::unique_ptr<CommandBrowserLauncher> m_scripted;
};

void tst_SignIn::initTestCase()
{
    m_devstack = devstack();
    QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
    QVERIFY(!m_devstack.caCertificates().isEmpty());
    m_scripted = std::make_unique<CommandBrowserLauncher>(
        QStringLiteral("node"), QStringList{sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"))});
}

ClientConfiguration tst_SignIn::config() const
{
    ClientConfiguration c;
    c.setIssuer(m_devstack.issuer);
    c.setClientId(m_devstack.publicClientId);
    TransportOptions transport;
    transport.setExtraCaCertificates(m_devstack.caCertificates());
    c.setTransport(transport);
    return c;
}

std::unique_ptr<SignIn> tst_SignIn::runSignIn(const ClientConfiguration &c, BrowserLauncher *launcher,
                                              JwksCache *cache, int timeoutMs)
{
    auto signIn = std::make_unique<SignIn>(c, &m_nam);
    signIn->setAutoDelete(false);
    signIn->setBrowserLauncher(launcher);
    if (cache)
        signIn->setJwksCache(cache);
    QSignalSpy finished(signIn.get(), &Job::finished);
    signIn->start();
    if (!finished.wait(timeoutMs))
        qWarning("sign-in did not finish in time");
    return signIn;
}

void tst_SignIn::signsInWithScriptedUserAgent_data()
{
    QTest::addColumn<RedirectHost>("host");
    QTest::addColumn<QString>("expectedHost");
    QTest::newRow("127.0.0.1") << RedirectHost::Ipv4 << QStringLiteral("127.0.0.1");
    QTest::newRow("localhost") << RedirectHost::Localhost << QStringLiteral("localhost");
    QTest::newRow("[::1]") << RedirectHost::Ipv6 << QStringLiteral("::1");
}

void tst_SignIn::signsInWithScriptedUserAgent()
{
    QFETCH(RedirectHost, host);
    QFETCH(QString, expectedHost);
    ClientConfiguration c = config();
    c.setRedirectHost(host);
    const auto signIn = runSignIn(c, m_scripted.get());
    QVERIFY(signIn->isFinished());
    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    QCOMPARE(signIn->redirectUri().host(), expectedHost);
    QCOMPARE(signIn->redirectUri().path(), QStringLiteral("/callback"));

    const TokenResponse tokens = signIn->tokenResponse();
    QVERIFY(!tokens.accessToken().isEmpty());
    QVERIFY(tokens.hasIdToken());
    QVERIFY(tokens.hasRefreshToken()); // offline_access is requested by default
    QVERIFY(tokens.expiresAt().isValid());

    const IdTokenClaims claims = signIn->idTokenClaims();
    QVERIFY(!claims.isNull());
    QCOMPARE(claims.subject(), QStringLiteral("alice"));
    QCOMPARE(claims.issuer(), m_devstack.issuer.toString());
    QVERIFY(claims.audiences().contains(m_devstack.publicClientId));

    // The authorization URL had PKCE S256, state and nonce.
    const QUrlQuery query(signIn->authorizationUrl());
    QCOMPARE(query.queryItemValue(QStringLiteral("code_challenge_method")), QStringLiteral("S256"));
    QVERIFY(!query.queryItemValue(QStringLiteral("state")).isEmpty());
    QVERIFY(!query.queryItemValue(QStringLiteral("nonce")).isEmpty());
    // application/x-www-form-urlencoded: spaces may be '+' (RFC 6749 Appendix B)
    const QStringList scopes = query.queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded)
                                   .replace(QLatin1Char('+'), QLatin1Char(' ')).split(QLatin1Char(' '));
    QVERIFY(scopes.contains(QStringLiteral("openid")));
    QVERIFY(scopes.contains(QStringLiteral("offline_access")));
}

void tst_SignIn::plainOAuthWithoutOpenIdHasNoIdToken()
{
    ClientConfiguration c = config();
    c.setScopes({QStringLiteral("api:read")});
    c.setResources({m_devstack.apiResource});
    const auto signIn = runSignIn(c, m_scripted.get());
    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    QVERIFY(!signIn->tokenResponse().accessToken().isEmpty());
    QVERIFY(signIn->idTokenClaims().isNull());
    const QUrlQuery query(signIn->authorizationUrl());
    QVERIFY(!query.hasQueryItem(QStringLiteral("nonce"))); // no nonce without openid
    QCOMPARE(query.queryItemValue(QStringLiteral("resource"), QUrl::FullyDecoded), m_devstack.apiResource);
}

void tst_SignIn::keyRotationCostsExactlyOneJwksFetch()
{
    Admin admin(m_devstack.admin);
    JwksCache cache(&m_nam, config().transport());
    const auto first = runSignIn(config(), m_scripted.get(), &cache);
    QVERIFY2(!first->error(), qPrintable(first->error().toString()));

    const int jwksBefore = admin.counter(QStringLiteral("jwks"));
    QVERIFY(jwksBefore >= 1);
    const auto cached = runSignIn(config(), m_scripted.get(), &cache);
    QVERIFY2(!cached->error(), qPrintable(cached->error().toString()));
    QCOMPARE(admin.counter(QStringLiteral("jwks")), jwksBefore); // cached keys: no fetch

    QVERIFY(admin.rotateKeys());
    const auto rotated = runSignIn(config(), m_scripted.get(), &cache);
    QVERIFY2(!rotated->error(), qPrintable(rotated->error().toString()));
    QCOMPARE(admin.counter(QStringLiteral("jwks")), jwksBefore + 1); // unknown kid → exactly one refetch
    QVERIFY(admin.reset());
}

void tst_SignIn::userDenialBecomesTypedOAuthError()
{
    qputenv("KEYLOOP_LOGIN_ACTION", "cancel");
    const auto signIn = runSignIn(config(), m_scripted.get());
    qunsetenv("KEYLOOP_LOGIN_ACTION");
    QCOMPARE(signIn->error().code(), Error::Code::OAuthError);
    QCOMPARE(signIn->error().oauthError(), QStringLiteral("access_denied"));
    QVERIFY(!signIn->error().isTransient());
}

void tst_SignIn::rejectsIssuerThatDiffersFromDiscovery()
{
    ClientConfiguration c = config();
    QUrl issuer = m_devstack.issuer;
    issuer.setPath(QStringLiteral("/")); // "https://127.0.0.1:PORT/" is not the issuer "https://127.0.0.1:PORT"
    c.setIssuer(issuer);
    RecordingLauncher launcher;
    const auto signIn = runSignIn(c, &launcher);
    QCOMPARE(signIn->error().code(), Error::Code::IssuerMismatch);
    QVERIFY(launcher.urls.isEmpty()); // no browser for a provider we do not trust
}

void tst_SignIn::rejectsPlainHttpWithoutTheDevelopmentOptIn()
{
    ClientConfiguration c = config();
    QUrl issuer = m_devstack.issuer;
    issuer.setScheme(QStringLiteral("http"));
    c.setIssuer(issuer);
    RecordingLauncher launcher;
    const auto signIn = runSignIn(c, &launcher);
    QCOMPARE(signIn->error().code(), Error::Code::InsecureEndpoint);
    QCOMPARE(signIn->error().domain(), Error::Domain::Configuration);
}

void tst_SignIn::cancelEndsTheSignInAndClosesTheListener()
{
    RecordingLauncher launcher;
    SignIn signIn(config(), &m_nam);
    signIn.setAutoDelete(false);
    signIn.setBrowserLauncher(&launcher);
    QSignalSpy urlReady(&signIn, &SignIn::authorizationUrlReady);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(urlReady.wait(20000));
    QCOMPARE(launcher.urls.size(), 1);
    QCOMPARE(launcher.urls.constFirst(), signIn.authorizationUrl());
    const QUrl redirect = signIn.redirectUri();

    signIn.cancel();
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(signIn.error().code(), Error::Code::Cancelled);

    QTcpSocket socket;
    QSignalSpy socketError(&socket, &QTcpSocket::errorOccurred);
    socket.connectToHost(QHostAddress::LocalHost, quint16(redirect.port()));
    QVERIFY(socketError.wait(5000)); // the listener is gone: connection refused
}

void tst_SignIn::overallTimeoutEndsAWaitingSignIn()
{
    ClientConfiguration c = config();
    c.setLoginTimeout(std::chrono::seconds(1));
    RecordingLauncher launcher;
    const auto signIn = runSignIn(c, &launcher, nullptr, 20000);
    QVERIFY(signIn->isFinished());
    QCOMPARE(signIn->error().code(), Error::Code::SignInTimeout);
    QVERIFY(!signIn->error().isTransient());
}

void tst_SignIn::neverLogsSecrets()
{
    QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*.debug=true"));
    capturedLog.clear();
    const QtMessageHandler previous = qInstallMessageHandler(captureMessages);
    const auto signIn = runSignIn(config(), m_scripted.get());
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());
    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    QVERIFY(!capturedLog.isEmpty()); // debug logging did run

    const TokenResponse tokens = signIn->tokenResponse();
    const QUrlQuery query(signIn->authorizationUrl());
    const QList<QByteArray> secrets{tokens.accessToken(), tokens.refreshToken(), tokens.idToken(),
                                    query.queryItemValue(QStringLiteral("state")).toUtf8(),
                                    query.queryItemValue(QStringLiteral("nonce")).toUtf8(),
                                    query.queryItemValue(QStringLiteral("code_challenge")).toUtf8()};
    const QByteArray log = capturedLog.join(QLatin1Char('\n')).toUtf8();
    for (const QByteArray &secret : secrets) {
        QVERIFY(!secret.isEmpty());
        QVERIFY2(!log.contains(secret), "a secret value reached the log");
    }
    // Printing the values through QDebug redacts them too.
    QString printed;
    QDebug(&printed) << tokens << signIn->idTokenClaims();
    QVERIFY(!printed.toUtf8().contains(tokens.accessToken()));
    QVERIFY(!printed.toUtf8().contains(tokens.refreshToken()));
}

void tst_SignIn::userInfoIsFetchedAndMatchesTheIdToken()
{
    const auto signIn = runSignIn(config(), m_scripted.get());
    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    UserInfoJob job(&m_nam, signIn->providerConfiguration(), config().transport(),
                    signIn->tokenResponse().accessToken(), signIn->idTokenClaims());
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &Job::finished);
    const int before = Admin(m_devstack.admin).counter(QStringLiteral("userinfo"));
    job.start();
    QVERIFY(finished.wait(20000));
    QVERIFY2(!job.error(), qPrintable(job.error().toString()));
    QCOMPARE(job.claims().value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
    QCOMPARE(Admin(m_devstack.admin).counter(QStringLiteral("userinfo")), before + 1);

    // A bad token is a typed OAuth error from the WWW-Authenticate challenge (RFC 6750 §3.1).
    UserInfoJob bad(&m_nam, signIn->providerConfiguration(), config().transport(), "not-a-token",
                    signIn->idTokenClaims());
    bad.setAutoDelete(false);
    QSignalSpy badFinished(&bad, &Job::finished);
    bad.start();
    QVERIFY(badFinished.wait(20000));
    QCOMPARE(bad.error().oauthError(), QStringLiteral("invalid_token"));
    QCOMPARE(bad.error().httpStatus(), 401);
}

void tst_SignIn::userInfoOfAnotherSubjectIsRejected()
{
    const auto alice = runSignIn(config(), m_scripted.get());
    QVERIFY2(!alice->error(), qPrintable(alice->error().toString()));
    qputenv("KEYLOOP_TEST_USER", "bob");
    const auto bob = runSignIn(config(), m_scripted.get());
    qunsetenv("KEYLOOP_TEST_USER");
    QVERIFY2(!bob->error(), qPrintable(bob->error().toString()));
    QCOMPARE(bob->idTokenClaims().subject(), QStringLiteral("bob"));

    // OIDC Core §5.3.2: alice's UserInfo must not be accepted for bob's ID token.
    UserInfoJob job(&m_nam, alice->providerConfiguration(), config().transport(),
                    alice->tokenResponse().accessToken(), bob->idTokenClaims());
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &Job::finished);
    job.start();
    QVERIFY(finished.wait(20000));
    QCOMPARE(job.error().code(), Error::Code::UserInfoSubjectMismatch);
    QVERIFY(job.claims().isEmpty());
}

QTEST_GUILESS_MAIN(tst_SignIn)
#include "tst_signin.moc"
