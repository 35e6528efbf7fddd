// SPDX-License-Identifier: MIT
// The demo app (demo-app/) end to end, as a user meets it: the real main window under Xvfb,
// driven by object name; the real system browser path (QDesktopServices → xdg-open → headless
// Chromium through a private mimeapps.list); the real devstack (2 s access tokens) and keyring.
// "Restart" is the app started again as a process on the same keyring.
#include "apipanel.h"
#include "devicecodepanel.h"
#include "banner.h"
#include "eventlog.h"
#include "mainwindow.h"
#include "profile.h"
#include "tokenpanel.h"

#include "testsupport.h"

#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtGui/QGuiApplication>
#include <QtNetwork/QTcpServer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <keyloop/browserlauncher.h>
#include <QtWidgets/QAbstractButton>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QLabel>

using namespace KeyloopTest;
using Keyloop::Client;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
};

// The app, started again: `keyloop-demo --tour restore` prints what its window shows.
Run runApp(const QStringList &arguments, const QProcessEnvironment &environment)
{
    QProcess p;
    p.setProcessEnvironment(environment);
    p.start(QStringLiteral(KEYLOOP_DEMO_BINARY), arguments);
    Run r;
    if (!p.waitForFinished(90000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    return r;
}

bool click(QWidget *window, const QString &objectName)
{
    auto *button = window->findChild<QAbstractButton *>(objectName);
    if (!button || !button->isEnabled())
        return false;
    QTest::mouseClick(button, Qt::LeftButton);
    return true;
}

QString labelText(QWidget *window, const QString &objectName)
{
    auto *label = window->findChild<QLabel *>(objectName);
    return label ? label->text() : QStringLiteral("<no %1>").arg(objectName);
}

/// A launcher that cannot open a browser, like a machine reached over SSH.
class NoBrowser : public Keyloop::BrowserLauncher
{
public:
    Keyloop::Error openUrl(const QUrl &) override
    {
        return Keyloop::Error(Keyloop::Error::Code::BrowserLaunchFailed, QStringLiteral("no browser on this machine"));
    }
};

/// zbarimg's reading of \a image (written as PNG); empty when nothing decodes.
QString decodeQr(const QImage &image)
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("qr.png"));
    if (!image.save(file))
        return QString();
    QProcess zbar;
    zbar.start(QStringLiteral("zbarimg"), {QStringLiteral("--raw"), QStringLiteral("-q"), file});
    if (!zbar.waitForFinished(30000) || zbar.exitCode() != 0)
        return QString();
    return QString::fromUtf8(zbar.readAllStandardOutput()).trimmed();
}

} // namespace

class tst_DemoApp : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    QString m_appId;

    MainWindow::Options options(const DemoProfile &profile) const
    {
        MainWindow::Options o;
        o.profiles = {profile};
        o.initialProfile = profile.name;
        o.appId = m_appId;
        o.rememberInSettings = false;
        return o;
    }

    QStringList restoreArguments() const
    {
        return {QStringLiteral("--tour"), QStringLiteral("restore"), QStringLiteral("--app-id"), m_appId,
                QStringLiteral("--no-settings")};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCOMPARE(QGuiApplication::platformName(), QStringLiteral("xcb")); // the sandbox's Xvfb
        m_devstack = KeyloopTest::devstack();
        QVERIFY(m_devstack.isValid());
        const QString why = useChromiumLoginAsSystemBrowser();
        QVERIFY2(why.isEmpty(), qPrintable(why));
        m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".demo");
        EventLog::installMessageHandler(false);
    }

    void signInCallRefreshRestartSignOut()
    {
        Admin admin(m_devstack.admin);
        Keyloop::Error error;
        const DemoProfile profile = DemoProfile::fromDevstack(qEnvironmentVariable("KEYLOOP_DEVSTACK_JSON"), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        MainWindow window(options(profile));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        // Started on the devstack's profile, restored from an empty keychain: sign-in required,
        // and no browser was opened for it.
        const int authorizationsAtStart = admin.counter(QStringLiteral("authorization"));
        QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), Client::State::SignInRequired, 30000);
        QCOMPARE(window.page(), QStringLiteral("signIn"));
        QCOMPARE(admin.counter(QStringLiteral("authorization")), authorizationsAtStart);

        // 1. Sign in: the button, the system browser, the account page.
        QVERIFY(click(&window, QStringLiteral("signInButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.page(), QStringLiteral("account"), 120000);
        QVERIFY2(window.banner()->isHidden(), qPrintable(window.banner()->headline()));
        QCOMPARE(labelText(&window, QStringLiteral("subjectLabel")), QStringLiteral("alice"));
        QCOMPARE(labelText(&window, QStringLiteral("nameLabel")), QStringLiteral("Alice Example"));
        QCOMPARE(labelText(&window, QStringLiteral("emailLabel")), QStringLiteral("alice@keyloop.test"));
        QCOMPARE(admin.counter(QStringLiteral("authorization")), authorizationsAtStart + 1);

        // 2. Call the API: status, timing and the pretty-printed JSON in the window.
        QSignalSpy answered(window.apiPanel(), &ApiPanel::answered);
        QVERIFY(click(&window, QStringLiteral("endpointButton0")));
        QVERIFY(answered.wait(30000));
        QVERIFY2(window.apiPanel()->statusText().startsWith(QLatin1String("HTTP 200")), qPrintable(window.apiPanel()->statusText()));
        QVERIFY(window.apiPanel()->statusText().contains(QLatin1String(" ms")));
        QVERIFY2(window.apiPanel()->responseText().contains(QLatin1String("\"sub\": \"alice\"")),
                 qPrintable(window.apiPanel()->responseText()));

        // 3. The 2 s token expires: the client refreshes by itself and the event log shows it.
        const int refreshes = admin.counter(QStringLiteral("refresh"));
        QTRY_VERIFY_WITH_TIMEOUT(window.eventLog()->lines().join(QLatin1Char('\n')).contains(QLatin1String("tokens refreshed and saved")), 60000);
        QVERIFY(window.eventLog()->lines().join(QLatin1Char('\n')).contains(QLatin1String("session: refresh started")));
        QVERIFY(admin.counter(QStringLiteral("refresh")) > refreshes);
        QVERIFY(window.tokenPanel()->text().contains(QLatin1String("Last refresh: ")));
        QVERIFY(!window.tokenPanel()->text().contains(QLatin1String("none yet")));
        QVERIFY(click(&window, QStringLiteral("endpointButton1")));
        QVERIFY(answered.wait(30000));
        QVERIFY2(window.apiPanel()->statusText().startsWith(QLatin1String("HTTP 200")), qPrintable(window.apiPanel()->statusText()));

        // The API starts rejecting the token (the provider rotated its signing keys): one 401,
        // one refresh, one replay, and the event log says so. (A background refresh may replace
        // the token between the rotation and the click: then there is no 401; rotate again.)
        bool replayed = false;
        for (int attempt = 0; attempt < 3 && !replayed; ++attempt) {
            QVERIFY(admin.rotateKeys());
            QVERIFY(click(&window, QStringLiteral("endpointButton0")));
            QVERIFY(answered.wait(30000));
            QVERIFY2(window.apiPanel()->statusText().startsWith(QLatin1String("HTTP 200")), qPrintable(window.apiPanel()->statusText()));
            replayed = window.eventLog()->lines().join(QLatin1Char('\n')).contains(QLatin1String("401: credential rejected; replaying once"));
        }
        QVERIFY(replayed);

        // Nothing secret on screen or in the log: the session's tokens appear nowhere.
        const Keyloop::SessionRecord record = window.client()->session()->record();
        const QString shown = window.describe() + window.eventLog()->lines().join(QLatin1Char('\n'));
        QVERIFY(!shown.contains(QString::fromLatin1(record.refreshToken())));
        QVERIFY(!shown.contains(QString::fromLatin1(record.idToken())));
        for (const Keyloop::SessionAccessToken &t : record.accessTokens())
            QVERIFY(!shown.contains(QString::fromLatin1(t.token)));

        // 4. Restart: the app again, as a process on the same keyring, restores without the
        //    browser (no authorization request) and without discovery.
        const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        const int authorizations = admin.counter(QStringLiteral("authorization"));
        const int discoveries = admin.counter(QStringLiteral("discovery"));
        Run restart = runApp(restoreArguments(), environment);
        QVERIFY2(restart.exitCode == 0, qPrintable(restart.out));
        QVERIFY2(restart.out.contains(QLatin1String("Subject: alice")), qPrintable(restart.out));
        QCOMPARE(admin.counter(QStringLiteral("authorization")), authorizations);
        QCOMPARE(admin.counter(QStringLiteral("discovery")), discoveries);

        // The keychain unavailable (no D-Bus): a banner in words, not "signed out" …
        QProcessEnvironment noBus = environment;
        noBus.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent"));
        const Run locked = runApp(restoreArguments(), noBus);
        QVERIFY2(locked.exitCode == 1, qPrintable(locked.out));
        QVERIFY2(locked.out.contains(QLatin1String("Banner: The keychain is not available. Unlock it (or start a Secret "
                                                   "Service such as gnome-keyring) and try again; nothing stored was changed.")),
                 qPrintable(locked.out));
        // … and nothing stored was lost: the next start restores the session.
        restart = runApp(restoreArguments(), environment);
        QVERIFY2(restart.exitCode == 0, qPrintable(restart.out));

        // 5. Sign out, at the provider too: revoked, removed from the keychain, and the
        //    provider's session ended in the browser (RP-Initiated Logout).
        const int revocations = admin.counter(QStringLiteral("revocation"));
        const int logouts = admin.counter(QStringLiteral("endSessionConfirmed"));
        auto *endSession = window.findChild<QCheckBox *>(QStringLiteral("endProviderSessionCheck"));
        QVERIFY(endSession && endSession->isEnabled());
        endSession->setChecked(true);
        QVERIFY(click(&window, QStringLiteral("signOutButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), Client::State::SignInRequired, 30000);
        QCOMPARE(window.page(), QStringLiteral("signIn"));
        QVERIFY(admin.counter(QStringLiteral("revocation")) > revocations);
        QTRY_VERIFY_WITH_TIMEOUT(window.eventLog()->lines().join(QLatin1Char('\n')).contains(QLatin1String("signed out at the provider too")), 120000);
        QCOMPARE(admin.counter(QStringLiteral("endSessionConfirmed")), logouts + 1);
        QVERIFY2(window.banner()->isHidden(), qPrintable(window.banner()->headline()));
        const Run after = runApp(restoreArguments(), environment);
        QVERIFY2(after.exitCode == 3, qPrintable(after.out)); // sign-in required
    }

    void noBrowserOffersTheDeviceCodeWithAQrCode()
    {
        // No browser can open: the banner offers the device flow (the user decides, RFC 8628
        // §5.4); the panel shows the code, the address and a QR code that phones can read.
        Keyloop::Error error;
        const DemoProfile profile = DemoProfile::fromDevstack(qEnvironmentVariable("KEYLOOP_DEVSTACK_JSON"), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        NoBrowser noBrowser;
        MainWindow::Options o = options(profile);
        o.browser = &noBrowser;
        MainWindow window(o);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), Client::State::SignInRequired, 30000);
        QVERIFY(click(&window, QStringLiteral("signInButton")));
        QTRY_VERIFY_WITH_TIMEOUT(!window.banner()->isHidden(), 30000);
        QCOMPARE(window.banner()->headline(), QStringLiteral("No browser could be opened"));
        QCOMPARE(window.client()->state(), Client::State::SigningIn); // still waiting: no silent switch
        QVERIFY(click(&window, QStringLiteral("bannerAction")));

        DeviceCodePanel *panel = window.deviceCodePanel();
        QTRY_VERIFY_WITH_TIMEOUT(panel->isVisible(), 30000);
        const QString userCode = labelText(&window, QStringLiteral("userCodeLabel"));
        QCOMPARE(userCode, window.client()->userCode());
        QVERIFY(!userCode.isEmpty());
        QCOMPARE(labelText(&window, QStringLiteral("verificationUriLabel")),
                 window.client()->verificationUri().toString(QUrl::FullyEncoded));
        QVERIFY(window.describe().contains(userCode));
        const QImage qr = panel->qrImage();
        QVERIFY2(!qr.isNull(), "no QR code shown");
        QCOMPARE(decodeQr(qr), window.client()->verificationUriComplete().toString(QUrl::FullyEncoded));

        QVERIFY(runScriptedDevice(window.client()->verificationUri(), userCode)); // the window's loop runs meanwhile
        QTRY_COMPARE_WITH_TIMEOUT(window.page(), QStringLiteral("account"), 60000);
        QCOMPARE(labelText(&window, QStringLiteral("subjectLabel")), QStringLiteral("alice"));
        QVERIFY(!panel->isVisible());
        QSignalSpy signedOut(window.client(), &Client::signedOut);
        QVERIFY(click(&window, QStringLiteral("signOutButton")));
        QVERIFY(signedOut.wait(30000));
    }

    void accessDeniedShowsABanner()
    {
        // The user cancels at the provider's login page: access_denied (RFC 6749 §4.1.2.1).
        Keyloop::Error error;
        const DemoProfile profile = DemoProfile::fromDevstack(qEnvironmentVariable("KEYLOOP_DEVSTACK_JSON"), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        MainWindow window(options(profile));
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), Client::State::SignInRequired, 30000);
        qputenv("KEYLOOP_LOGIN_ACTION", "cancel"); // read by the browser script xdg-open starts
        const bool clicked = click(&window, QStringLiteral("signInButton"));
        QTRY_VERIFY_WITH_TIMEOUT(!window.banner()->isHidden(), 120000);
        qunsetenv("KEYLOOP_LOGIN_ACTION");
        QVERIFY(clicked);
        QCOMPARE(window.banner()->headline(), QStringLiteral("Access was denied: the sign-in was not approved."));
        QCOMPARE(window.client()->state(), Client::State::SignInRequired);
        QCOMPARE(window.page(), QStringLiteral("signIn"));
    }

    void providerDownShowsABanner()
    {
        // A profile whose provider is not there: a loopback port nobody listens on (the shared
        // devstack keeps running).
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        QJsonObject json{{QStringLiteral("name"), QStringLiteral("Down")},
                         {QStringLiteral("issuer"), QStringLiteral("http://127.0.0.1:%1").arg(port)},
                         {QStringLiteral("clientId"), QStringLiteral("keyloop-demo")},
                         {QStringLiteral("allowInsecureLoopback"), true}};
        Keyloop::Error error;
        const DemoProfile profile = DemoProfile::fromJson(json, QString(), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        MainWindow window(options(profile));
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), Client::State::SignInRequired, 30000);
        QVERIFY(click(&window, QStringLiteral("signInButton")));
        QTRY_VERIFY_WITH_TIMEOUT(!window.banner()->isHidden(), 30000);
        QCOMPARE(window.banner()->headline(), QStringLiteral("The provider cannot be reached. Check the network and try again."));
        QCOMPARE(window.client()->state(), Client::State::SignInRequired);
    }
};

QTEST_MAIN(tst_DemoApp)
#include "tst_demo_app.moc"
