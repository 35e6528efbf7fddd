// SPDX-License-Identifier: MIT
// Keyloop::Client against the sandbox's devstack (real oidc-provider, real gnome-keyring, 2 s
// access tokens): the facade's promises, observed from the provider's side (admin counters).
#include <keyloop/accountindex.h>
#include <keyloop/browserlauncher.h>
#include <keyloop/client.h>
#include <keyloop/httpreply.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/tokenstore.h>

#include "testsupport.h"

#include <QtCore/QJsonDocument>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;

class tst_Client : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    std::unique_ptr<CommandBrowserLauncher> m_scripted;
    QString m_appId;
    int m_run = 0;

    ClientConfiguration configuration() const
    {
        ClientConfiguration c;
        c.setIssuer(m_devstack.issuer);
        c.setClientId(m_devstack.publicClientId);
        c.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("email"),
                     QStringLiteral("offline_access"), QStringLiteral("api:read")});
        c.setResources({m_devstack.apiResource});
        TransportOptions transport;
        transport.setExtraCaCertificates(m_devstack.caCertificates());
        c.setTransport(transport);
        return c;
    }

    QUrl apiBase() const
    {
        QUrl url = m_devstack.api;
        url.setPath(QStringLiteral("/api/"));
        return url;
    }

    // A client as an app creates it; the scripted browser stands in for the user's.
    std::unique_ptr<Client> newClient()
    {
        auto client = std::make_unique<Client>(configuration(), m_appId);
        client->setBrowserLauncher(m_scripted.get());
        client->addApi(m_devstack.apiResource, {apiBase()});
        return client;
    }

    // Runs restore() (and signIn() when asked for it) until signed in; false on anything else.
    bool signInOrRestore(Client *client, bool expectSignIn)
    {
        QSignalSpy signedIn(client, &Client::signedIn);
        QSignalSpy failed(client, &Client::failed);
        bool askedToSignIn = false;
        const QMetaObject::Connection answer = connect(client, &Client::signInRequired, client, [&] {
            askedToSignIn = true;
            client->signIn();
        });
        client->restore();
        const bool done = QTest::qWaitFor([&] { return signedIn.count() > 0 || failed.count() > 0; }, 60000);
        disconnect(answer);
        if (!done)
            return false;
        if (!failed.isEmpty())
            qWarning() << "client failed:" << failed.first().first().value<Error>();
        return signedIn.count() == 1 && askedToSignIn == expectSignIn;
    }

    HttpReply *getMe(Client *client)
    {
        HttpReply *reply = client->get(apiBase().resolved(QUrl(QStringLiteral("me"))));
        reply->setAutoDelete(false);
        QSignalSpy finished(reply, &Job::finished);
        if (!finished.wait(30000))
            qWarning() << "the API request hung";
        return reply;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        m_scripted = std::make_unique<CommandBrowserLauncher>(
            QStringLiteral("node"), QStringList{sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"))});
    }

    void init() { m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".%1").arg(++m_run); }

    void signsInRestoresSilentlyAndCallsTheApi()
    {
        Admin admin(m_devstack.admin);
        {
            auto client = newClient();
            QCOMPARE(client->state(), Client::State::Idle);
            QSignalSpy states(client.get(), &Client::stateChanged);
            QVERIFY(signInOrRestore(client.get(), true));
            QCOMPARE(client->state(), Client::State::SignedIn);
            QVERIFY(client->isSignedIn());
            QCOMPARE(client->subject(), QStringLiteral("alice"));
            QVERIFY(!client->displayName().isEmpty());
            QVERIFY(states.count() >= 3); // restoring → sign-in required → signing in → signed in
            std::unique_ptr<HttpReply> reply(getMe(client.get()));
            QVERIFY2(!reply->error(), qPrintable(reply->error().toString()));
            QCOMPARE(reply->statusCode(), 200);
        }
        // The next start: the keychain and the remembered provider metadata — no discovery, no
        // browser, no refresh.
        const int discoveries = admin.counter(QStringLiteral("discovery"));
        const int authorizations = admin.counter(QStringLiteral("authorization"));
        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), false));
        QCOMPARE(admin.counter(QStringLiteral("discovery")), discoveries);
        QCOMPARE(admin.counter(QStringLiteral("authorization")), authorizations);
        QCOMPARE(client->subject(), QStringLiteral("alice"));

        // Across expiry (2 s tokens) the requests keep working: the client refreshes by itself.
        const int refreshes = admin.counter(QStringLiteral("refresh"));
        QSignalSpy refreshed(client.get(), &Client::tokensRefreshed);
        const QDateTime until = QDateTime::currentDateTimeUtc().addSecs(3);
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() >= until, 10000);
        std::unique_ptr<HttpReply> reply(getMe(client.get()));
        QVERIFY2(!reply->error(), qPrintable(reply->error().toString()));
        QCOMPARE(reply->statusCode(), 200);
        QVERIFY(admin.counter(QStringLiteral("refresh")) > refreshes);
        QVERIFY(refreshed.count() >= 1);
    }

    // QtKeychain 0.13 answers "not found" for a locked keyring: with the account in the index,
    // that is "storage unavailable", never "sign in again" (ownCloud started a login there).
    void lostKeychainItemOfAListedAccountIsNotSignedOut()
    {
        {
            auto client = newClient();
            QVERIFY(signInOrRestore(client.get(), true));
        }
        // The keychain loses the session (as a locked keyring appears), the index still lists it.
        KeychainTokenStore store(m_appId);
        TokenStoreJob *remove = store.remove(TokenStore::keyFor(m_devstack.issuer.toString(), m_devstack.publicClientId, QString()));
        QSignalSpy removed(remove, &Job::finished);
        remove->start();
        QVERIFY(removed.wait());

        auto client = newClient();
        QSignalSpy required(client.get(), &Client::signInRequired);
        QSignalSpy storageFailed(client.get(), &Client::storageFailed);
        QSignalSpy failed(client.get(), &Client::failed);
        client->restore();
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.first().first().value<Error>().code(), Error::Code::StorageUnavailable);
        QCOMPARE(storageFailed.count(), 1);
        QCOMPARE(required.count(), 0);
        QVERIFY(client->state() != Client::State::SignInRequired);
    }

    void accountsAreListedAndSwitched()
    {
        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), true)); // the default account
        QSignalSpy required(client.get(), &Client::signInRequired);
        connect(client.get(), &Client::signInRequired, client.get(), [&] { client->signIn(); });
        QSignalSpy signedIn(client.get(), &Client::signedIn);
        client->switchAccount(QStringLiteral("work")); // a new one: sign in
        QTRY_COMPARE_WITH_TIMEOUT(signedIn.count(), 1, 60000);
        QCOMPARE(client->account(), QStringLiteral("work"));
        QCOMPARE(client->accounts().size(), 2);
        client->switchAccount(QString()); // back: restored silently
        QTRY_COMPARE_WITH_TIMEOUT(signedIn.count(), 2, 30000);
        QCOMPARE(required.count(), 1);
        QCOMPARE(client->account(), QString());
        QVERIFY(client->isSignedIn());
    }

    void signOutRemovesTheSession()
    {
        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), true));
        QSignalSpy signedOut(client.get(), &Client::signedOut);
        client->signOut();
        QTRY_COMPARE_WITH_TIMEOUT(signedOut.count(), 1, 30000);
        QCOMPARE(client->state(), Client::State::SignInRequired);
        QVERIFY(client->claims().isEmpty());
        auto next = newClient();
        QSignalSpy required(next.get(), &Client::signInRequired);
        next->restore();
        QTRY_COMPARE(required.count(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_Client)
#include "tst_client.moc"
