// SPDX-License-Identifier: MIT
// HttpClient + SessionCredential against the sandbox's devstack: a real provider issuing
// 2-second JWT access tokens for the API's resource indicator, and the real protected API that
// validates them (signature, audience, expiry with no tolerance, scope). The admin counters
// prove how many refreshes and API requests each case cost. Public API only (Keyloop::Keyloop).
#include <keyloop/browserlauncher.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessioncredential.h>
#include <keyloop/signin.h>

#include "devstackclient.h"
#include "testsupport.h"

#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;

class tst_HttpClientDevstack : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    std::unique_ptr<Admin> m_admin;
    QNetworkAccessManager m_nam;
    std::unique_ptr<CommandBrowserLauncher> m_browser;
    std::unique_ptr<MemoryTokenStore> m_store;
    std::unique_ptr<Session> m_session;
    std::unique_ptr<SessionCredential> m_credential;
    std::unique_ptr<HttpClient> m_http;

    ClientConfiguration client() const
    {
        ClientConfiguration c = publicClient(m_devstack,
            {QStringLiteral("openid"), QStringLiteral("offline_access"), QStringLiteral("api:read")});
        c.setResources({m_devstack.apiResource});
        return c;
    }

    QUrl api(const char *path) const { return apiUrl(m_devstack, QString::fromLatin1(path)); }

    int counter(const char *name) const { return m_admin->counter(QString::fromLatin1(name)); }

    // Waits (on the wall clock, the thing under test) until the API's token has expired.
    void waitForExpiry()
    {
        const QDateTime expires = m_session->record().accessToken(m_devstack.apiResource).expiresAt;
        QVERIFY(expires.isValid());
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > expires.addMSecs(100), 10000);
    }

    struct Outcome
    {
        Error error;
        int status = 0;
        QJsonValue json;
    };

    static Outcome wait(HttpReply *reply)
    {
        Outcome o;
        bool done = false;
        QObject::connect(reply, &Job::finished, reply, [&, reply] {
            o.error = reply->error();
            o.status = reply->statusCode();
            o.json = reply->json();
            done = true;
        });
        if (!QTest::qWaitFor([&done] { return done; }, 30000))
            o.error = Error(Error::Code::Timeout, QStringLiteral("the reply never finished"));
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        m_admin = std::make_unique<Admin>(m_devstack.admin);
        m_browser = std::make_unique<CommandBrowserLauncher>(
            QStringLiteral("node"), QStringList{sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"))});
    }

    // A real sign-in for the API's resource (scope api:read), adopted by a new session.
    void init()
    {
        auto signIn = std::make_unique<SignIn>(client(), &m_nam);
        signIn->setAutoDelete(false);
        signIn->setBrowserLauncher(m_browser.get());
        QSignalSpy signedIn(signIn.get(), &Job::finished);
        signIn->start();
        QVERIFY(signedIn.wait(60000));
        QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
        QCOMPARE(signIn->resource(), m_devstack.apiResource);

        m_store = std::make_unique<MemoryTokenStore>(qEnvironmentVariable("KEYLOOP_TEST_SERVICE"));
        m_session = std::make_unique<Session>(client(), signIn->providerConfiguration(), m_store.get(), &m_nam);
        SessionJob *adopt = m_session->adoptSignIn(signIn->tokenResponse(), signIn->idTokenClaims(), signIn->resource());
        QSignalSpy adopted(adopt, &Job::finished);
        adopt->start();
        QVERIFY(adopted.wait(10000));
        QVERIFY(m_session->isSignedIn());

        m_credential = std::make_unique<SessionCredential>(m_session.get(), m_devstack.apiResource);
        m_http = std::make_unique<HttpClient>(&m_nam, client().transport());
        // The API's own address is its location; the resource indicator is not (it is not even
        // the API's host here).
        QVERIFY(!m_http->addCredential(m_credential.get(), {api("/api")}));
        QCOMPARE(m_http->credentialFor(QUrl(m_devstack.apiResource)), nullptr);
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));
    }

    void cleanup()
    {
        m_http.reset();
        m_credential.reset();
        m_session.reset();
        m_store.reset();
    }

    void requestsKeepWorkingAcrossTokenExpiry()
    {
        m_credential->setProactiveRefreshEnabled(false);
        const Outcome first = wait(m_http->get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!first.error, qPrintable(first.error.toString()));
        QCOMPARE(first.json.toObject().value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
        QCOMPARE(counter("refresh"), 0); // the sign-in's token was for the API already
        for (int i = 0; i < 2; ++i) {
            waitForExpiry();
            const Outcome again = wait(m_http->get(QNetworkRequest(api("/api/items"))));
            QVERIFY2(!again.error, qPrintable(again.error.toString()));
            QVERIFY(again.json.toObject().contains(QStringLiteral("items")));
        }
        QCOMPARE(counter("refresh"), 2); // refreshed at use, before each request
        QCOMPARE(counter("api"), 3);     // and never rejected
    }

    void manyRequestsAfterExpiryShareOneRefresh()
    {
        m_credential->setProactiveRefreshEnabled(false);
        waitForExpiry();
        int ok = 0;
        int done = 0;
        for (int i = 0; i < 20; ++i) {
            HttpReply *reply = m_http->get(QNetworkRequest(api("/api/me")));
            connect(reply, &Job::finished, this, [&, reply] {
                ok += reply->error() ? 0 : 1;
                ++done;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 20, 30000);
        QCOMPARE(ok, 20);
        QCOMPARE(counter("refresh"), 1);
        QCOMPARE(counter("api"), 20);
    }

    void theBackgroundRefreshKeepsTheTokenFresh()
    {
        // Nobody asks; the token is renewed before it goes stale, again and again.
        QVERIFY(m_credential->isProactiveRefreshEnabled());
        QVERIFY(m_credential->nextRefresh().isValid());
        QTRY_VERIFY_WITH_TIMEOUT(counter("refresh") >= 2, 15000);
        const QDateTime expires = m_session->record().accessToken(m_devstack.apiResource).expiresAt;
        QVERIFY(expires > QDateTime::currentDateTimeUtc());
        const Outcome o = wait(m_http->get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(counter("api"), 1); // not rejected: no replay
    }

    void aRejectedTokenCostsOneRefreshAndOneReplay()
    {
        m_credential->setProactiveRefreshEnabled(false);
        // New signing keys at the provider: the API stops accepting the unexpired token.
        QVERIFY(m_admin->rotateKeys());
        int ok = 0;
        int done = 0;
        for (int i = 0; i < 10; ++i) {
            QNetworkRequest request(api("/api/me"));
            HttpReply *reply = m_http->get(request);
            connect(reply, &Job::finished, this, [&, reply] {
                ok += reply->error() ? 0 : 1;
                ++done;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 10, 30000);
        QCOMPARE(ok, 10);
        QCOMPARE(counter("refresh"), 1); // ten rejections of one token: one refresh
        QCOMPARE(counter("api"), 20);    // each request replayed once
    }

    void insufficientScopeNamesTheScope()
    {
        m_credential->setProactiveRefreshEnabled(false);
        QNetworkRequest request(api("/api/items"));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        const Outcome o = wait(m_http->post(request, QByteArrayLiteral("{\"name\":\"x\"}")));
        QCOMPARE(o.error.code(), Error::Code::InsufficientScope);
        QCOMPARE(o.error.requiredScopes(), QStringList{QStringLiteral("api:write")});
        QCOMPARE(o.status, 403);
        QCOMPARE(counter("api"), 1);
        QCOMPARE(counter("refresh"), 0);
    }
};

QTEST_GUILESS_MAIN(tst_HttpClientDevstack)
#include "tst_httpclient_devstack.moc"
