// SPDX-License-Identifier: MIT
// OpenID Connect RP-Initiated Logout through Keyloop::Client, end to end in the sandbox: the
// client's default launcher (xdg-open) reaches headless Chromium through a private
// mimeapps.list, with one kept profile — a user's browser, whose provider session cookie lives
// from one run to the next. Observed from the provider's side: the admin counters, and whether
// the next sign-in has to show the login page again. Plus a hostile redirect with a wrong state.
#include <keyloop/browserlauncher.h>
#include <keyloop/client.h>

#include "testsupport.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QTemporaryDir>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;

namespace {

bool writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(content) == content.size();
}

/// A local process that knows the loopback port but not the state: it sends the browser's
/// redirect itself, with a state of its own, and never contacts the provider.
class HostileRedirect : public BrowserLauncher
{
public:
    Error openUrl(const QUrl &url) override
    {
        ++opened;
        QUrl target(QUrlQuery(url).queryItemValue(QStringLiteral("post_logout_redirect_uri"), QUrl::FullyDecoded));
        target.setQuery(QStringLiteral("state=forged-by-another-process"));
        QNetworkRequest request(target);
        reply.reset(nam.get(request));
        return Error();
    }
    QNetworkAccessManager nam;
    std::unique_ptr<QNetworkReply> reply;
    int opened = 0;
};

} // namespace

class tst_ProviderLogout : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    QTemporaryDir m_profile; // the one "user's browser" profile of this test
    QString m_appId;
    int m_run = 0;

    ClientConfiguration configuration() const
    {
        ClientConfiguration c;
        c.setIssuer(m_devstack.issuer);
        c.setClientId(m_devstack.publicClientId);
        c.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("offline_access")});
        TransportOptions transport;
        transport.setExtraCaCertificates(m_devstack.caCertificates());
        c.setTransport(transport);
        return c;
    }

    // A signed-in client (through Chromium and the kept profile); null on failure.
    std::unique_ptr<Client> signedInClient()
    {
        auto client = std::make_unique<Client>(configuration(), m_appId);
        QSignalSpy signedIn(client.get(), &Client::signedIn);
        QSignalSpy failed(client.get(), &Client::failed);
        connect(client.get(), &Client::signInRequired, client.get(), [c = client.get()] { c->signIn(); });
        client->restore();
        if (!QTest::qWaitFor([&] { return !signedIn.isEmpty() || !failed.isEmpty(); }, 120000) || signedIn.isEmpty()) {
            if (!failed.isEmpty())
                qWarning() << "client failed:" << failed.first().first().value<Error>();
            return nullptr;
        }
        return client;
    }

    // A further interactive sign-in of a signed-in client (the same browser profile).
    bool signInAgain(Client *client)
    {
        QSignalSpy signedIn(client, &Client::signedIn);
        QSignalSpy failed(client, &Client::failed);
        client->signIn();
        return QTest::qWaitFor([&] { return !signedIn.isEmpty() || !failed.isEmpty(); }, 120000) && failed.isEmpty();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        QVERIFY(m_profile.isValid());
        const QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
        const QString data = qEnvironmentVariable("XDG_DATA_HOME");
        QVERIFY(!config.isEmpty() && !data.isEmpty());
        // The private default browser: the devstack's Chromium helper (see tst_signin_chromium),
        // reached by the client's own default launcher (SystemBrowserLauncher: xdg-open).
        const QString script = sourcePath(QStringLiteral("demo-app/devstack/chromium-login.mjs"));
        const QByteArray desktop = "[Desktop Entry]\nType=Application\nName=Keyloop test browser\n"
                                   "Exec=node " + script.toUtf8() + " %u\n"
                                   "MimeType=x-scheme-handler/http;x-scheme-handler/https;\nNoDisplay=true\n";
        QVERIFY(writeFile(data + QStringLiteral("/applications/keyloop-test-browser.desktop"), desktop));
        QVERIFY(writeFile(config + QStringLiteral("/mimeapps.list"),
                          "[Default Applications]\nx-scheme-handler/http=keyloop-test-browser.desktop\n"
                          "x-scheme-handler/https=keyloop-test-browser.desktop\n"));
        qunsetenv("XDG_CURRENT_DESKTOP");
        qputenv("BROWSER", QByteArray("node ") + script.toUtf8());
        qputenv("KEYLOOP_CHROMIUM_PROFILE", QFile::encodeName(m_profile.path()));
    }

    void init() { m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".%1").arg(++m_run); }

    void signOutEndsTheSessionAtTheProvider()
    {
        Admin admin(m_devstack.admin);
        const int loginsBefore = admin.counter(QStringLiteral("loginForm"));
        auto client = signedInClient();
        QVERIFY(client);
        QCOMPARE(admin.counter(QStringLiteral("loginForm")), loginsBefore + 1);

        // The control: while the provider's session lives, the same browser signs in without the
        // login page — so a login page after the logout below means the session really ended.
        QVERIFY(signInAgain(client.get()));
        QCOMPARE(admin.counter(QStringLiteral("loginForm")), loginsBefore + 1);

        const QJsonObject before = admin.counters();
        QSignalSpy signedOut(client.get(), &Client::signedOut);
        QSignalSpy ended(client.get(), &Client::providerSessionEnded);
        QSignalSpy failed(client.get(), &Client::failed);
        client->signOut(Client::SignOutScope::ProviderSession);
        QVERIFY(signedOut.wait(30000));
        // Local first: signed out (revoked, removed) before the browser comes back.
        QCOMPARE(ended.count(), 0);
        QCOMPARE(client->state(), Client::State::SignInRequired);
        QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 90000);
        if (!failed.isEmpty())
            QFAIL(qPrintable(failed.first().first().value<Error>().toString()));
        const QJsonObject after = admin.counters();
        QVERIFY(after.value(QStringLiteral("revocation")).toInt() > before.value(QStringLiteral("revocation")).toInt());
        QCOMPARE(after.value(QStringLiteral("endSession")).toInt(), before.value(QStringLiteral("endSession")).toInt() + 1);
        QCOMPARE(after.value(QStringLiteral("endSessionConfirmed")).toInt(),
                 before.value(QStringLiteral("endSessionConfirmed")).toInt() + 1);

        // The stored session is gone…
        {
            auto next = std::make_unique<Client>(configuration(), m_appId);
            QSignalSpy required(next.get(), &Client::signInRequired);
            next->restore();
            QVERIFY(required.wait(30000));
        }
        // …and so is the provider's: the same browser is asked to log in again.
        auto again = signedInClient();
        QVERIFY(again);
        QCOMPARE(admin.counter(QStringLiteral("loginForm")), loginsBefore + 2);
        QSignalSpy againOut(again.get(), &Client::signedOut);
        again->signOut();
        QVERIFY(againOut.wait(30000));
    }

    void aRedirectWithAnotherStateIsRefusedAndTheLocalSignOutStands()
    {
        Admin admin(m_devstack.admin);
        auto client = signedInClient();
        QVERIFY(client);
        HostileRedirect hostile;
        client->setBrowserLauncher(&hostile);
        const int endSessions = admin.counter(QStringLiteral("endSession"));
        QSignalSpy signedOut(client.get(), &Client::signedOut);
        QSignalSpy ended(client.get(), &Client::providerSessionEnded);
        QSignalSpy failed(client.get(), &Client::failed);
        client->signOut(Client::SignOutScope::ProviderSession);
        QVERIFY(signedOut.wait(30000));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
        const Error error = failed.first().first().value<Error>();
        QCOMPARE(error.code(), Error::Code::StateMismatch);
        QCOMPARE(ended.count(), 0);
        QCOMPARE(hostile.opened, 1);
        QTRY_VERIFY(hostile.reply && hostile.reply->isFinished());
        QCOMPARE(hostile.reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
        QCOMPARE(admin.counter(QStringLiteral("endSession")), endSessions); // the provider saw nothing
        QCOMPARE(client->state(), Client::State::SignInRequired);           // the local sign-out stands
        auto next = std::make_unique<Client>(configuration(), m_appId);
        QSignalSpy required(next.get(), &Client::signInRequired);
        next->restore();
        QVERIFY(required.wait(30000));
    }

    void cleanupTestCase() { qunsetenv("KEYLOOP_CHROMIUM_PROFILE"); }
};

QTEST_GUILESS_MAIN(tst_ProviderLogout)
#include "tst_providerlogout.moc"
