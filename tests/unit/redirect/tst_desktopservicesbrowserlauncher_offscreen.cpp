// SPDX-License-Identifier: MIT
// Keyloop::Gui's QDesktopServices launcher in a GUI application whose platform cannot open URLs
// (offscreen): a clear error, and Qt never gets the URL (it would log it whole).
#include <keyloop/gui/desktopservicesbrowserlauncher.h>

#include <QtGui/QGuiApplication>
#include <QtTest/QtTest>

using Keyloop::DesktopServicesBrowserLauncher;
using Keyloop::Error;

namespace {
QStringList g_messages;
void capture(QtMsgType, const QMessageLogContext &, const QString &message) { g_messages << message; }
} // namespace

class TestDesktopBrowserLauncherOffscreen : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void refusesPlatformsThatCannotOpenUrls()
    {
        QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen"));
        const QtMessageHandler previous = qInstallMessageHandler(capture);
        const Error error = DesktopServicesBrowserLauncher().openUrl(
            QUrl(QStringLiteral("https://idp.example/authorize?state=s3cr3t&code_challenge=ch4ll")));
        qInstallMessageHandler(previous);
        QCOMPARE(error.code(), Error::Code::BrowserLaunchFailed);
        QVERIFY(error.message().contains(QStringLiteral("offscreen")));
        QVERIFY(!error.message().contains(QStringLiteral("s3cr3t")));
        for (const QString &message : std::as_const(g_messages))
            QVERIFY2(!message.contains(QStringLiteral("s3cr3t")), "the sign-in URL reached the log");
    }
};

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestDesktopBrowserLauncherOffscreen test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_desktopservicesbrowserlauncher_offscreen.moc"
