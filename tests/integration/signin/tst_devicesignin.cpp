// SPDX-License-Identifier: MIT
// The device authorization grant (RFC 8628) end to end against the devstack's oidc-provider:
// the user approves (or declines) with the scripted device helper, and the provider's own log of
// the polls shows the intervals the SDK kept.
#include <keyloop/browserlauncher.h>
#include <keyloop/client.h>
#include <keyloop/devicesignin.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>

#include "testsupport.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QProcess>
#include <QtCore/QUrlQuery>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Keyloop;
using namespace KeyloopTest;
using namespace std::chrono_literals;

namespace {

QStringList capturedLog;
void captureMessages(QtMsgType, const QMessageLogContext &, const QString &message)
{
    capturedLog << message;
}

/// A launcher that cannot open a browser, like a machine reached over SSH.
class NoBrowser : public BrowserLauncher
{
public:
    Error openUrl(const QUrl &) override
    {
        ++attempts;
        return Error(Error::Code::BrowserLaunchFailed, QStringLiteral("no browser on this machine"));
    }
    int attempts = 0;
};

} // namespace

class tst_DeviceSignIn : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void approvedSignInIsValidatedStoredAndRestored();
    void declinedSignInEndsWithAccessDenied();
    void expiredDeviceCodeEndsTheSignIn();
    void slowDownAddsFiveSecondsToTheInterval();
    void providerWithoutTheGrantIsATypedError();
    void cancelEndsTheSignIn();
    void clientOffersTheDeviceFlowWhenNoBrowserOpens();
    void dpopBindsTheDeviceSignInsTokens();

private:
    ClientConfiguration config() const;
    /// Runs scripted-device.mjs for \a uri and \a userCode; \a action "approve" or "deny".
    bool approve(const QUrl &uri, const QString &userCode, const QByteArray &action = "approve");
    /// The poll log entries (provider side) of the device flow, in order.
    QJsonArray polls() const;

    Devstack m_devstack;
    QNetworkAccessManager m_nam;
    QString m_appId;
    int m_run = 0;
};

void tst_DeviceSignIn::initTestCase()
{
    m_devstack = devstack();
    QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
}

void tst_DeviceSignIn::init()
{
    m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".device%1").arg(++m_run);
    Admin admin(m_devstack.admin);
    QVERIFY(admin.reset());
    // Short intervals keep the test quick; the rules are the same as with the default 5 s.
    bool ok = false;
    admin.post(QStringLiteral("/device-flow"), QJsonObject{{QStringLiteral("interval"), 1}}, &ok);
    QVERIFY2(ok, "the devstack's POST /device-flow failed");
}

void tst_DeviceSignIn::cleanup()
{
    QVERIFY(Admin(m_devstack.admin).reset());
}

ClientConfiguration tst_DeviceSignIn::config() const
{
    ClientConfiguration c;
    c.setIssuer(m_devstack.issuer);
    c.setClientId(m_devstack.publicClientId);
    TransportOptions transport;
    transport.setExtraCaCertificates(m_devstack.caCertificates());
    c.setTransport(transport);
    return c;
}

bool tst_DeviceSignIn::approve(const QUrl &uri, const QString &userCode, const QByteArray &action)
{
    return runScriptedDevice(uri, userCode, action);
}

QJsonArray tst_DeviceSignIn::polls() const
{
    bool ok = false;
    const QJsonArray log = Admin(m_devstack.admin).getArray(QStringLiteral("/device-polls"), &ok);
    if (!ok)
        qWarning("GET /device-polls failed");
    return log;
}

void tst_DeviceSignIn::approvedSignInIsValidatedStoredAndRestored()
{
    capturedLog.clear();
    QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*=true"));
    const QtMessageHandler previous = qInstallMessageHandler(captureMessages);

    ClientConfiguration c = config();
    c.setResources({m_devstack.apiResource});
    DeviceSignIn signIn(c, &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    bool approved = false;
    connect(&signIn, &DeviceSignIn::userCodeReady, this,
            [&](const QString &code, const QUrl &uri, const QUrl &complete) {
                // §3.2: the user code, where to enter it, and the URI with the code in it.
                QVERIFY(!code.isEmpty());
                QCOMPARE(uri.scheme(), QStringLiteral("https"));
                QCOMPARE(uri.host(), m_devstack.issuer.host());
                QVERIFY(complete.toString().contains(code));
                QCOMPARE(signIn.userCode(), code);
                QVERIFY(signIn.expiresAt() > QDateTime::currentDateTimeUtc());
                QCOMPARE(signIn.pollInterval(), 1s);
                approved = approve(uri, code);
            });
    signIn.start();
    QVERIFY(finished.wait(60000));
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());
    QVERIFY(approved);
    QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));

    // The ID token passed every §3.1.3.7 check but the nonce; the API's token and a refresh token.
    const IdTokenClaims claims = signIn.idTokenClaims();
    QCOMPARE(claims.subject(), QStringLiteral("alice"));
    QVERIFY(claims.audiences().contains(m_devstack.publicClientId));
    const TokenResponse tokens = signIn.tokenResponse();
    QVERIFY(tokens.hasRefreshToken());
    QVERIFY(tokens.hasIdToken());
    QCOMPARE(signIn.resource(), m_devstack.apiResource);

    // Provider side: every poll waited at least the interval (with 100 ms for timer jitter).
    const QJsonArray log = polls();
    QVERIFY2(!log.isEmpty(), "the provider saw no polling");
    QCOMPARE(log.last().toObject().value(QStringLiteral("result")).toString(), QStringLiteral("success"));
    for (qsizetype i = 1; i < log.size(); ++i) {
        const double gap = log.at(i).toObject().value(QStringLiteral("at")).toDouble()
                         - log.at(i - 1).toObject().value(QStringLiteral("at")).toDouble();
        QVERIFY2(gap >= 900, qPrintable(QStringLiteral("poll %1 came %2 ms after the previous one").arg(i).arg(gap)));
        QVERIFY(log.at(i - 1).toObject().value(QStringLiteral("result")).toString() != QLatin1String("slow_down"));
    }

    // Stored like any sign-in, and restored by another session.
    KeychainTokenStore store(m_appId);
    Session session(signIn.clientConfiguration(), signIn.providerConfiguration(), &store, &m_nam);
    SessionJob *adopt = session.adoptSignIn(tokens, claims, signIn.resource());
    QSignalSpy adopted(adopt, &Job::finished);
    adopt->start();
    QVERIFY(adopted.wait(20000));
    QVERIFY(session.isPersistent());
    Session restored(signIn.clientConfiguration(), signIn.providerConfiguration(), &store, &m_nam);
    SessionJob *restore = restored.restore();
    restore->setAutoDelete(false);
    QSignalSpy restoredSpy(restore, &Job::finished);
    restore->start();
    QVERIFY(restoredSpy.wait(20000));
    QVERIFY2(!restore->error(), qPrintable(restore->error().toString()));
    QVERIFY(KEYLOOP_SAME_SECRET(restored.record().refreshToken(), tokens.refreshToken()));
    delete restore;
    SessionJob *signOut = restored.signOut();
    QSignalSpy signedOut(signOut, &Job::finished);
    signOut->start();
    QVERIFY(signedOut.wait(20000));

    // Log events, not values.
    const QString all = capturedLog.join(QLatin1Char('\n'));
    QVERIFY(all.contains(QLatin1String("user code issued")));
    QVERIFY(!all.contains(QString::fromLatin1(tokens.accessToken())));
    QVERIFY(!all.contains(QString::fromLatin1(tokens.refreshToken())));
    QVERIFY(!all.contains(QString::fromLatin1(tokens.idToken())));
}

void tst_DeviceSignIn::declinedSignInEndsWithAccessDenied()
{
    DeviceSignIn signIn(config(), &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    bool denied = false;
    connect(&signIn, &DeviceSignIn::userCodeReady, this, [&](const QString &code, const QUrl &uri, const QUrl &) {
        denied = approve(uri, code, "deny");
    });
    signIn.start();
    QVERIFY(finished.wait(60000));
    QVERIFY(denied);
    QCOMPARE(signIn.error().code(), Error::Code::OAuthError);
    QCOMPARE(signIn.error().oauthError(), QStringLiteral("access_denied"));
    QVERIFY(signIn.tokenResponse().isNull());
    QCOMPARE(polls().last().toObject().value(QStringLiteral("result")).toString(), QStringLiteral("access_denied"));
}

void tst_DeviceSignIn::expiredDeviceCodeEndsTheSignIn()
{
    bool ok = false;
    Admin(m_devstack.admin).post(QStringLiteral("/device-flow"), QJsonObject{{QStringLiteral("codeTtl"), 3}}, &ok);
    QVERIFY(ok);
    DeviceSignIn signIn(config(), &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(finished.wait(30000));
    QCOMPARE(signIn.error().code(), Error::Code::DeviceCodeExpired);
    QCOMPARE(signIn.error().domain(), Error::Domain::Session);
    // The provider saw polls while the code lived, and none after the sign-in ended.
    const QJsonArray log = polls();
    QVERIFY(!log.isEmpty());
    for (const QJsonValue &entry : log) {
        const QString result = entry.toObject().value(QStringLiteral("result")).toString();
        QVERIFY2(result == QLatin1String("authorization_pending") || result == QLatin1String("expired_token"),
                 qPrintable(result));
    }
}

void tst_DeviceSignIn::slowDownAddsFiveSecondsToTheInterval()
{
    DeviceSignIn signIn(config(), &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    QSignalSpy slower(&signIn, &DeviceSignIn::pollIntervalChanged);
    QString userCode;
    QUrl uri;
    connect(&signIn, &DeviceSignIn::userCodeReady, this, [&](const QString &code, const QUrl &u, const QUrl &) {
        userCode = code;
        uri = u;
        // The provider, under load, now wants 3 s between polls of every pending code; this client
        // was told 1 s: its second poll is too early and earns a slow_down (RFC 8628 §3.5).
        bool ok = false;
        Admin(m_devstack.admin).post(QStringLiteral("/device-flow"), QJsonObject{{QStringLiteral("minInterval"), 3}}, &ok);
        QVERIFY(ok);
    });
    signIn.start();
    QVERIFY(slower.wait(20000));
    QCOMPARE(slower.first().first().value<std::chrono::seconds>(), 6s);
    QCOMPARE(signIn.pollInterval(), 6s);
    QVERIFY(approve(uri, userCode));
    QVERIFY(finished.wait(30000));
    QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));

    // Provider side: the poll after the slow_down came at least 6 s later.
    const QJsonArray log = polls();
    qsizetype slowDown = -1;
    for (qsizetype i = 0; i < log.size(); ++i) {
        if (log.at(i).toObject().value(QStringLiteral("result")).toString() == QLatin1String("slow_down")) {
            slowDown = i;
            break;
        }
    }
    QVERIFY2(slowDown >= 0 && slowDown + 1 < log.size(), "no slow_down followed by another poll in the provider's log");
    const double gap = log.at(slowDown + 1).toObject().value(QStringLiteral("at")).toDouble()
                     - log.at(slowDown).toObject().value(QStringLiteral("at")).toDouble();
    QVERIFY2(gap >= 5900, qPrintable(QStringLiteral("the poll after slow_down came after %1 ms").arg(gap)));
    // Before it, the client kept the 1 s it was told (the slow_down was the provider's doing).
    QVERIFY(slowDown >= 1);
    const double before = log.at(slowDown).toObject().value(QStringLiteral("at")).toDouble()
                        - log.at(slowDown - 1).toObject().value(QStringLiteral("at")).toDouble();
    QVERIFY2(before >= 900, qPrintable(QStringLiteral("polled %1 ms after the previous poll").arg(before)));
    for (qsizetype i = slowDown + 1; i < log.size(); ++i)
        QVERIFY(log.at(i).toObject().value(QStringLiteral("result")).toString() != QLatin1String("slow_down"));
}

void tst_DeviceSignIn::providerWithoutTheGrantIsATypedError()
{
    // Endpoints set by hand, without device_authorization_endpoint: nothing is sent anywhere.
    ClientConfiguration c = config();
    ProviderConfiguration p;
    p.setIssuer(m_devstack.issuer);
    p.setAuthorizationEndpoint(QUrl(m_devstack.issuer.toString() + QStringLiteral("/auth")));
    p.setTokenEndpoint(QUrl(m_devstack.issuer.toString() + QStringLiteral("/token")));
    c.setProviderConfiguration(p);
    c.setScopes({QStringLiteral("api:read")});
    const int before = Admin(m_devstack.admin).counter(QStringLiteral("deviceAuthorization"));
    DeviceSignIn signIn(c, &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(finished.wait(10000));
    QCOMPARE(signIn.error().code(), Error::Code::DeviceFlowNotSupported);
    QCOMPARE(signIn.error().domain(), Error::Domain::Configuration);
    QCOMPARE(Admin(m_devstack.admin).counter(QStringLiteral("deviceAuthorization")), before);
}

void tst_DeviceSignIn::cancelEndsTheSignIn()
{
    DeviceSignIn signIn(config(), &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    connect(&signIn, &DeviceSignIn::userCodeReady, &signIn, [&] { signIn.cancel(); });
    signIn.start();
    QVERIFY(finished.wait(20000));
    QCOMPARE(signIn.error().code(), Error::Code::Cancelled);
    QCOMPARE(finished.size(), 1);
    QVERIFY(signIn.tokenResponse().isNull());
}

void tst_DeviceSignIn::clientOffersTheDeviceFlowWhenNoBrowserOpens()
{
    NoBrowser noBrowser;
    Client client(config(), m_appId);
    client.setBrowserLauncher(&noBrowser);
    QSignalSpy launchFailed(&client, &Client::browserLaunchFailed);
    QSignalSpy failed(&client, &Client::failed);
    QSignalSpy signedIn(&client, &Client::signedIn);
    QSignalSpy userCode(&client, &Client::userCodeChanged);
    client.signIn();
    QVERIFY(launchFailed.wait(20000));
    QCOMPARE(launchFailed.first().first().value<Error>().code(), Error::Code::BrowserLaunchFailed);
    QCOMPARE(client.state(), Client::State::SigningIn); // still waiting: never a silent switch
    QVERIFY(client.isDeviceSignInAvailable());

    // The user chooses the device code: the browser sign-in is replaced without a failure.
    client.signInWithDeviceCode();
    QVERIFY(userCode.wait(20000));
    QVERIFY(!client.userCode().isEmpty());
    QVERIFY(client.authorizationUrl().isEmpty());
    QVERIFY(approve(client.verificationUri(), client.userCode()));
    QVERIFY(signedIn.wait(30000));
    QCOMPARE(client.state(), Client::State::SignedIn);
    QCOMPARE(client.subject(), QStringLiteral("alice"));
    QVERIFY(client.userCode().isEmpty());
    QVERIFY2(failed.isEmpty(), "the replaced browser sign-in must not be reported as a failure");
    QCOMPARE(noBrowser.attempts, 1);

    QSignalSpy signedOut(&client, &Client::signedOut);
    client.signOut();
    QVERIFY(signedOut.wait(20000));
}

// RFC 9449 with the device flow: every poll carries a proof of the sign-in's key, and the tokens
// come back bound to it (the API reports the key's thumbprint).
void tst_DeviceSignIn::dpopBindsTheDeviceSignInsTokens()
{
    ClientConfiguration c = config();
    c.setScopes({QStringLiteral("openid"), QStringLiteral("offline_access"), QStringLiteral("api:read")});
    c.setResources({m_devstack.apiResource});
    c.setDpopEnabled(true);
    DeviceSignIn signIn(c, &m_nam);
    signIn.setAutoDelete(false);
    QSignalSpy finished(&signIn, &Job::finished);
    bool approved = false;
    connect(&signIn, &DeviceSignIn::userCodeReady, this,
            [&](const QString &code, const QUrl &uri, const QUrl &) { approved = approve(uri, code); });
    signIn.start();
    QVERIFY(finished.wait(60000));
    QVERIFY(approved);
    QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));
    const TokenResponse tokens = signIn.tokenResponse();
    QCOMPARE(tokens.tokenType(), QStringLiteral("DPoP"));
    const DpopKey key = tokens.dpopKey();
    QVERIFY(!key.isNull());

    QUrl me = m_devstack.api;
    me.setPath(QStringLiteral("/api/me"));
    QNetworkRequest request(me);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.addCaCertificates(m_devstack.caCertificates());
    request.setSslConfiguration(tls);
    request.setRawHeader("Authorization", "DPoP " + tokens.accessToken());
    request.setRawHeader("DPoP", key.createProof("GET", me, QDateTime::currentDateTimeUtc(), tokens.accessToken()));
    std::unique_ptr<QNetworkReply> reply(m_nam.get(request));
    QSignalSpy done(reply.get(), &QNetworkReply::finished);
    QVERIFY(reply->isFinished() || done.wait(10000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(QJsonDocument::fromJson(reply->readAll()).object().value(QStringLiteral("jkt")).toString().toLatin1(),
             key.thumbprint());
}

QTEST_MAIN(tst_DeviceSignIn)
#include "tst_devicesignin.moc"
