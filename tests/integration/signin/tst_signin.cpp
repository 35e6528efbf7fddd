// SPDX-License-Identifier: MIT
// Sign-in end to end against the real devstack (oidc-provider over HTTPS with the sandbox's CA),
// with a scripted user agent as the browser.
#include <keyloop/browserlauncher.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/jwkscache.h>
#include <keyloop/signin.h>
#include <keyloop/userinfojob.h>

#include "testsupport.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QLoggingCategory>
#include <QtCore/QScopeGuard>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
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

/// A launcher that records the URL and hands it on to another one (the scripted browser).
class ForwardingLauncher : public BrowserLauncher
{
public:
    explicit ForwardingLauncher(BrowserLauncher *next) : m_next(next) {}
    Error openUrl(const QUrl &url) override
    {
        urls << url;
        return m_next->openUrl(url);
    }
    QList<QUrl> urls;

private:
    BrowserLauncher *m_next;
};

/// The names of a URL's query parameters, in order.
QStringList parameterNames(const QUrl &url)
{
    QStringList names;
    for (const auto &item : QUrlQuery(url).queryItems())
        names << item.first;
    return names;
}

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

    // Pushed authorization requests (RFC 9126)
    void pushedRequestGivesTheBrowserOnlyClientIdAndRequestUri();
    void refusedPushFailsBeforeTheBrowserOpens();
    void pushWithoutAnEndpointIsAConfigurationError();
    void startPageWorksAfterTheFirstRequestUriExpired();
    void providerRequiringPushIsServedWithoutOptIn();

private:
    ClientConfiguration pushingConfig() const;
    void expectPushedBrowserUrl(const QUrl &url, const SignIn &signIn) const;
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

ClientConfiguration tst_SignIn::pushingConfig() const
{
    ClientConfiguration c = config();
    c.setPushedAuthorizationRequests(ClientConfiguration::PushedAuthorizationRequests::Always);
    return c;
}

// RFC 9126 §4: the authorization endpoint with client_id and request_uri — no state, nonce,
// challenge, scope or redirect URI in what a local process can read from the browser's argv.
void tst_SignIn::expectPushedBrowserUrl(const QUrl &url, const SignIn &signIn) const
{
    QCOMPARE(url.adjusted(QUrl::RemoveQuery), signIn.providerConfiguration().authorizationEndpoint());
    QCOMPARE(parameterNames(url), (QStringList{QStringLiteral("client_id"), QStringLiteral("request_uri")}));
    QCOMPARE(QUrlQuery(url).queryItemValue(QStringLiteral("client_id")), m_devstack.publicClientId);
    QVERIFY(QUrlQuery(url).queryItemValue(QStringLiteral("request_uri"), QUrl::FullyDecoded)
                .startsWith(QLatin1String("urn:ietf:params:oauth:request_uri:")));
    // The URL for copying is the start page on the redirect listener.
    const QUrl start = signIn.authorizationUrl();
    QCOMPARE(start.scheme(), QStringLiteral("http"));
    QCOMPARE(start.authority(), signIn.redirectUri().authority());
    QVERIFY(start.path().startsWith(QLatin1String("/start/")));
    QVERIFY(signIn.usesPushedAuthorizationRequests());
}

void tst_SignIn::pushedRequestGivesTheBrowserOnlyClientIdAndRequestUri()
{
    // Everything the request carries must reach the provider through the push: the resource
    // (else the code exchange for it fails with invalid_target), max_age (else the ID token has
    // no auth_time and its validation fails, OIDC Core §3.1.3.7 rule 13), nonce (rule 11), PKCE.
    ClientConfiguration c = pushingConfig();
    c.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("api:read")});
    c.setResources({m_devstack.apiResource});
    c.setMaxAge(std::chrono::seconds(600));
    c.setAdditionalParameters({{QStringLiteral("ui_locales"), QStringLiteral("en")}});

    QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*.debug=true"));
    capturedLog.clear();
    const QtMessageHandler previous = qInstallMessageHandler(captureMessages);
    ForwardingLauncher launcher(m_scripted.get());
    const auto signIn = runSignIn(c, &launcher);
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());

    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    QCOMPARE(launcher.urls.size(), 1);
    expectPushedBrowserUrl(launcher.urls.constFirst(), *signIn);
    QVERIFY(!signIn->tokenResponse().accessToken().isEmpty());
    QVERIFY(signIn->idTokenClaims().authTime().isValid()); // max_age was pushed
    QCOMPARE(signIn->idTokenClaims().subject(), QStringLiteral("alice"));

    // Neither the request_uri nor the start page's token reaches the log.
    const QByteArray log = capturedLog.join(QLatin1Char('\n')).toUtf8();
    QVERIFY(log.contains("pushed authorization request"));
    const QByteArray requestUri = QUrlQuery(launcher.urls.constFirst()).queryItemValue(QStringLiteral("request_uri"), QUrl::FullyDecoded).toUtf8();
    QVERIFY2(!log.contains(requestUri), "the request_uri reached the log");
    QVERIFY2(!log.contains(signIn->authorizationUrl().path().mid(7).toUtf8()), "the start page token reached the log");
}

void tst_SignIn::refusedPushFailsBeforeTheBrowserOpens()
{
    // RFC 9126 §2.3 / RFC 8707 §2: the provider refuses an unknown resource at the push.
    ClientConfiguration c = pushingConfig();
    c.setResources({QStringLiteral("https://unknown.example/api")});
    RecordingLauncher launcher;
    SignIn signIn(c, &m_nam);
    signIn.setAutoDelete(false);
    signIn.setBrowserLauncher(&launcher);
    QSignalSpy urlReady(&signIn, &SignIn::authorizationUrlReady);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(finished.wait(20000));
    QCOMPARE(signIn.error().code(), Error::Code::OAuthError);
    QCOMPARE(signIn.error().oauthError(), QStringLiteral("invalid_target"));
    QCOMPARE(signIn.error().httpStatus(), 400);
    QVERIFY(signIn.error().message().startsWith(QStringLiteral("the pushed authorization request was refused (RFC 9126 §2.3)")));
    QVERIFY(!signIn.error().isTransient());
    QVERIFY(launcher.urls.isEmpty()); // no browser was opened …
    QCOMPARE(urlReady.count(), 0);     // … nor a URL offered
    QVERIFY(signIn.authorizationUrl().isEmpty());
    QVERIFY(signIn.usesPushedAuthorizationRequests());
}

void tst_SignIn::pushWithoutAnEndpointIsAConfigurationError()
{
    // The devstack offers PAR; a provider that does not is its real metadata without the member,
    // set by hand (ClientConfiguration::setProviderConfiguration()).
    DiscoveryJob discovery(&m_nam, m_devstack.issuer, config().transport());
    discovery.setAutoDelete(false);
    QSignalSpy discovered(&discovery, &Job::finished);
    discovery.start();
    QVERIFY(discovered.wait(20000));
    QVERIFY2(!discovery.error(), qPrintable(discovery.error().toString()));
    ProviderConfiguration provider = discovery.configuration();
    QVERIFY(!provider.pushedAuthorizationRequestEndpoint().isEmpty());
    provider.setPushedAuthorizationRequestEndpoint(QUrl());

    ClientConfiguration c = pushingConfig();
    c.setProviderConfiguration(provider);
    RecordingLauncher launcher;
    const int before = Admin(m_devstack.admin).counter(QStringLiteral("authorization"));
    const auto signIn = runSignIn(c, &launcher);
    QCOMPARE(signIn->error().code(), Error::Code::PushedAuthorizationNotSupported);
    QCOMPARE(signIn->error().domain(), Error::Domain::Configuration);
    QCOMPARE(signIn->error().message(),
             QStringLiteral("pushed authorization requests are switched on for this client, but the provider has no "
                            "pushed_authorization_request_endpoint (RFC 9126 §5)"));
    QVERIFY(launcher.urls.isEmpty());
    QVERIFY(signIn->redirectUri().isEmpty()); // not even the listener was bound
    QCOMPARE(Admin(m_devstack.admin).counter(QStringLiteral("authorization")), before);

    // Without the opt-in the same provider signs in as it always did.
    c.setPushedAuthorizationRequests(ClientConfiguration::PushedAuthorizationRequests::WhenRequired);
    const auto plain = runSignIn(c, m_scripted.get());
    QVERIFY2(!plain->error(), qPrintable(plain->error().toString()));
    QVERIFY(!plain->usesPushedAuthorizationRequests());
    QVERIFY(QUrlQuery(plain->authorizationUrl()).hasQueryItem(QStringLiteral("code_challenge")));
}

// Needs the devstack's admin route POST /par {"required", "requestUriTtl"} (and its "par"
// counter): the devstack branch adds them.
void tst_SignIn::startPageWorksAfterTheFirstRequestUriExpired()
{
    Admin admin(m_devstack.admin);
    constexpr int ttlSeconds = 3;
    bool ok = false;
    admin.post(QStringLiteral("/par"), QJsonObject{{QStringLiteral("required"), false},
                                                  {QStringLiteral("requestUriTtl"), ttlSeconds}}, &ok);
    QVERIFY2(ok, "the devstack's admin endpoint has no POST /par");
    const auto restore = qScopeGuard([&admin] { admin.reset(); }); // also when a check fails
    const int pushesBefore = admin.counter(QStringLiteral("par"));
    QVERIFY(pushesBefore >= 0);

    RecordingLauncher launcher; // the browser "does not open": the user copies the URL later
    SignIn signIn(pushingConfig(), &m_nam);
    signIn.setAutoDelete(false);
    signIn.setBrowserLauncher(&launcher);
    QSignalSpy urlReady(&signIn, &SignIn::authorizationUrlReady);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(urlReady.wait(20000));
    QCOMPARE(launcher.urls.size(), 1);
    const QUrl direct = launcher.urls.constFirst();
    const QUrl start = urlReady.at(0).at(0).toUrl();
    QCOMPARE(start, signIn.authorizationUrl());
    expectPushedBrowserUrl(direct, signIn);
    QCOMPARE(admin.counter(QStringLiteral("par")), pushesBefore + 1);

    // Let the first request_uri's lifetime pass (the wall clock is what is tested here), then
    // check that the provider refuses it indeed.
    const QDeadlineTimer expired(std::chrono::milliseconds(ttlSeconds * 1000 + 1500));
    QTRY_VERIFY_WITH_TIMEOUT(expired.hasExpired(), ttlSeconds * 1000 + 5000);
    QNetworkRequest probe(direct);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.addCaCertificates(m_devstack.caCertificates());
    probe.setSslConfiguration(tls);
    probe.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    QNetworkAccessManager probeNam; // its own TLS settings: not the SDK's connection (Qt 6.4 reuses them)
    std::unique_ptr<QNetworkReply> reply(probeNam.get(probe));
    QSignalSpy probed(reply.get(), &QNetworkReply::finished);
    QVERIFY(probed.wait(20000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
    QVERIFY(reply->readAll().contains("invalid_request_uri"));

    // The URL for copying still works: it pushes afresh and sends the browser on.
    QVERIFY(!finished.count());
    QVERIFY(!m_scripted->openUrl(start));
    QVERIFY(finished.wait(60000));
    QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));
    QCOMPARE(signIn.idTokenClaims().subject(), QStringLiteral("alice"));
    QCOMPARE(admin.counter(QStringLiteral("par")), pushesBefore + 2);
}

// Needs the devstack's admin route POST /par (see above).
void tst_SignIn::providerRequiringPushIsServedWithoutOptIn()
{
    Admin admin(m_devstack.admin);
    bool ok = false;
    admin.post(QStringLiteral("/par"), QJsonObject{{QStringLiteral("required"), true}}, &ok);
    QVERIFY2(ok, "the devstack's admin endpoint has no POST /par");
    const auto restore = qScopeGuard([&admin] { admin.reset(); }); // also when a check fails
    const int pushesBefore = admin.counter(QStringLiteral("par"));
    QVERIFY(pushesBefore >= 0);

    ForwardingLauncher launcher(m_scripted.get());
    const ClientConfiguration c = config(); // no opt-in: PushedAuthorizationRequests::WhenRequired
    QCOMPARE(c.pushedAuthorizationRequests(), ClientConfiguration::PushedAuthorizationRequests::WhenRequired);
    const auto signIn = runSignIn(c, &launcher);
    QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
    QVERIFY(signIn->providerConfiguration().requiresPushedAuthorizationRequests()); // RFC 9126 §5, from discovery
    QCOMPARE(launcher.urls.size(), 1);
    expectPushedBrowserUrl(launcher.urls.constFirst(), *signIn);
    QCOMPARE(admin.counter(QStringLiteral("par")), pushesBefore + 1);
}

QTEST_GUILESS_MAIN(tst_SignIn)
#include "tst_signin.moc"
