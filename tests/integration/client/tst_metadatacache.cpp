// SPDX-License-Identifier: MIT
// The provider's discovery document and keys remembered with the session (issue 16), observed
// from the devstack's side (its /counters): a restarted app fetches neither while they are fresh
// (not even to verify a refreshed ID token), discovers again once the document is stale, and a
// token signed with a key the remembered set lacks (after POST /rotate-keys) fetches the JWKS
// exactly once.
#include <keyloop/browserlauncher.h>
#include <keyloop/client.h>
#include <keyloop/session.h>

#include "devstackclient.h"
#include "testsupport.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;
using namespace std::chrono_literals;

namespace {

// The wall clock moved by a settable offset: makes the devstack's 2-second tokens stale at once,
// without waiting.
class OffsetClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now() + offset; }
    std::chrono::milliseconds offset{0};
};

} // namespace

class tst_MetadataCache : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    std::unique_ptr<CommandBrowserLauncher> m_scripted;
    OffsetClock m_clock;
    QString m_appId;
    int m_run = 0;

    ClientConfiguration configuration() const
    {
        return publicClient(m_devstack, {QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("offline_access")});
    }

    // An app's start: a new Client (its own JWKS cache, nothing in memory) on the same keychain.
    std::unique_ptr<Client> newClient()
    {
        auto client = std::make_unique<Client>(configuration(), m_appId);
        client->setClock(&m_clock);
        client->setBrowserLauncher(m_scripted.get());
        return client;
    }

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

    // Makes every token stale (clock + 10 s) and asks for the provider's own access token: a
    // refresh without a resource, which brings a new ID token that the session validates
    // (signature included) before anyone gets it. Returns the error.
    Error refreshWithIdToken(Session *session)
    {
        m_clock.offset += 10s;
        Error error;
        bool called = false;
        session->freshAccessToken(QString(), this, [&](const QByteArray &, const Error &e) {
            error = e;
            called = true;
        });
        if (!QTest::qWaitFor([&] { return called; }, 30000))
            return Error(Error::Code::Timeout, QStringLiteral("no answer"));
        return error;
    }

    // A first run: signs in (discovery and the JWKS are fetched and remembered with the session).
    bool firstRun()
    {
        auto client = newClient();
        return signInOrRestore(client.get(), true);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        m_scripted = std::make_unique<CommandBrowserLauncher>(
            QStringLiteral("node"), QStringList{sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"))});
    }

    void init()
    {
        m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".%1").arg(++m_run);
        m_clock.offset = 0ms;
    }

    void aRestartFetchesNeitherDiscoveryNorKeysWhileTheyAreFresh()
    {
        Admin admin(m_devstack.admin);
        QVERIFY(firstRun());
        const QJsonObject before = admin.counters();
        QVERIFY(before.value(QStringLiteral("jwks")).toInt() > 0);

        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), false));
        Session *session = client->session();
        QVERIFY(session);
        const QByteArray firstIdToken = session->record().idToken();
        QVERIFY(!firstIdToken.isEmpty());
        const Error e = refreshWithIdToken(session);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(session->record().idToken() != firstIdToken); // a new ID token, validated

        const QJsonObject after = admin.counters();
        QVERIFY(after.value(QStringLiteral("refresh")).toInt() > before.value(QStringLiteral("refresh")).toInt());
        QCOMPARE(after.value(QStringLiteral("discovery")).toInt(), before.value(QStringLiteral("discovery")).toInt());
        QCOMPARE(after.value(QStringLiteral("jwks")).toInt(), before.value(QStringLiteral("jwks")).toInt());

        // And the start after that one too: the refresh saved the cache again.
        client.reset();
        auto third = newClient();
        QVERIFY(signInOrRestore(third.get(), false));
        QVERIFY(!refreshWithIdToken(third->session()));
        QCOMPARE(admin.counter(QStringLiteral("discovery")), before.value(QStringLiteral("discovery")).toInt());
        QCOMPARE(admin.counter(QStringLiteral("jwks")), before.value(QStringLiteral("jwks")).toInt());
    }

    void aRestartAfterTheDiscoveryDocumentWentStaleDiscoversAgain()
    {
        // oidc-provider sends no caching headers: the document is fresh for the default hour.
        Admin admin(m_devstack.admin);
        QVERIFY(firstRun());
        const int discoveries = admin.counter(QStringLiteral("discovery"));
        m_clock.offset = std::chrono::minutes(59);
        {
            auto client = newClient();
            QVERIFY(signInOrRestore(client.get(), false));
            QCOMPARE(admin.counter(QStringLiteral("discovery")), discoveries);
        }
        m_clock.offset = std::chrono::minutes(61);
        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), false));
        QCOMPARE(admin.counter(QStringLiteral("discovery")), discoveries + 1);
        QVERIFY(client->isSignedIn());
    }

    void anUnknownKidAfterKeyRotationFetchesTheKeysOnce()
    {
        Admin admin(m_devstack.admin);
        QVERIFY(firstRun());
        auto client = newClient();
        QVERIFY(signInOrRestore(client.get(), false));
        const int discoveries = admin.counter(QStringLiteral("discovery"));
        const int jwks = admin.counter(QStringLiteral("jwks"));

        QVERIFY(admin.rotateKeys()); // the next ID token names a kid the remembered set lacks
        const Error e = refreshWithIdToken(client->session());
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(admin.counter(QStringLiteral("jwks")), jwks + 1);
        // The new set is cached (and remembered): the next refresh fetches nothing.
        QVERIFY(!refreshWithIdToken(client->session()));
        QCOMPARE(admin.counter(QStringLiteral("jwks")), jwks + 1);
        QCOMPARE(admin.counter(QStringLiteral("discovery")), discoveries);
    }
};

QTEST_GUILESS_MAIN(tst_MetadataCache)
#include "tst_metadatacache.moc"
