// SPDX-License-Identifier: MIT
// The one true end-to-end sign-in: Keyloop::Gui's QDesktopServices launcher under Xvfb (xcb)
// reaches headless Chromium through xdg-open and a private mimeapps.list, Chromium completes the
// devstack's dev login and lands on the SDK's loopback listener.
#include <keyloop/gui/desktopservicesbrowserlauncher.h>
#include <keyloop/signin.h>

#include "testsupport.h"

#include <QtGui/QGuiApplication>
#include <QtNetwork/QNetworkAccessManager>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Keyloop;
using namespace KeyloopTest;

class tst_SignInChromium : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void signsInThroughTheDesktopBrowser();
};

void tst_SignInChromium::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("DISPLAY"), "the sandbox's Xvfb must be reachable");
    QCOMPARE(QGuiApplication::platformName(), QStringLiteral("xcb"));
    // A private default browser: the devstack's Chromium login script (see the test notes).
    const QString why = useChromiumLoginAsSystemBrowser();
    QVERIFY2(why.isEmpty(), qPrintable(why));
}

void tst_SignInChromium::signsInThroughTheDesktopBrowser()
{
    const Devstack devstack = KeyloopTest::devstack();
    QVERIFY(devstack.isValid());
    ClientConfiguration c;
    c.setIssuer(devstack.issuer);
    c.setClientId(devstack.publicClientId);
    TransportOptions transport;
    transport.setExtraCaCertificates(devstack.caCertificates());
    c.setTransport(transport);

    QNetworkAccessManager nam;
    DesktopServicesBrowserLauncher launcher;
    SignIn signIn(c, &nam);
    signIn.setAutoDelete(false);
    signIn.setBrowserLauncher(&launcher);
    QSignalSpy launchFailed(&signIn, &SignIn::browserLaunchFailed);
    QSignalSpy finished(&signIn, &Job::finished);
    signIn.start();
    QVERIFY(finished.wait(120000));
    QCOMPARE(launchFailed.size(), 0);
    QVERIFY2(!signIn.error(), qPrintable(signIn.error().toString()));
    QCOMPARE(signIn.idTokenClaims().subject(), QStringLiteral("alice"));
    QVERIFY(!signIn.tokenResponse().accessToken().isEmpty());
}

QTEST_MAIN(tst_SignInChromium)
#include "tst_signin_chromium.moc"
