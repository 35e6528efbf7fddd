// SPDX-License-Identifier: MIT
// Keyloop::Gui's QDesktopServices launcher outside a GUI application: a clear error, no attempt.
// (The real QDesktopServices path is exercised end to end under Xvfb by the integration tests.)
#include <keyloop/gui/desktopservicesbrowserlauncher.h>

#include <QtTest/QtTest>

using Keyloop::DesktopServicesBrowserLauncher;
using Keyloop::Error;

class TestDesktopBrowserLauncher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void isABrowserLauncher();
    void failsClearlyWithoutGuiApplication();
    void refusesNonHttpUrls_data();
    void refusesNonHttpUrls();
};

void TestDesktopBrowserLauncher::isABrowserLauncher()
{
    DesktopServicesBrowserLauncher launcher;
    Keyloop::BrowserLauncher *base = &launcher;
    QVERIFY(base);
}

void TestDesktopBrowserLauncher::failsClearlyWithoutGuiApplication()
{
    QVERIFY(!qobject_cast<QGuiApplication *>(QCoreApplication::instance()));
    const Error error = DesktopServicesBrowserLauncher().openUrl(QUrl(QStringLiteral("https://idp.example/authorize?state=s3cr3t")));
    QCOMPARE(error.code(), Error::Code::BrowserLaunchFailed);
    QVERIFY(error.message().contains(QStringLiteral("QGuiApplication")));
    QVERIFY(!error.message().contains(QStringLiteral("s3cr3t")));
}

void TestDesktopBrowserLauncher::refusesNonHttpUrls_data()
{
    QTest::addColumn<QUrl>("url");
    QTest::newRow("file") << QUrl(QStringLiteral("file:///etc/passwd"));
    QTest::newRow("relative") << QUrl(QStringLiteral("authorize"));
    QTest::newRow("empty") << QUrl();
}

void TestDesktopBrowserLauncher::refusesNonHttpUrls()
{
    QFETCH(QUrl, url);
    const Error error = DesktopServicesBrowserLauncher().openUrl(url);
    QCOMPARE(error.code(), Error::Code::BrowserLaunchFailed);
    QVERIFY(error.message().contains(QStringLiteral("http")));
}

QTEST_GUILESS_MAIN(TestDesktopBrowserLauncher)
#include "tst_desktopservicesbrowserlauncher.moc"
