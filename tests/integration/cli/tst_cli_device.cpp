// SPDX-License-Identifier: MIT
// `keyloop login --device` (RFC 8628) against the devstack: what it prints on stderr, the QR code
// decoded back with zbarimg, approval on "another device" by the scripted helper, and the exit
// codes of a declined or expired sign-in.
#include <keyloop/keychaintokenstore.h>
#include <keyloop/sessionrecord.h>
#include <keyloop/tokenstore.h>

#include "testsupport.h"

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Keyloop;
using namespace KeyloopTest;

class tst_CliDevice : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void deviceLoginShowsTheCodeAndStoresTheSession();
    void declinedDeviceLoginExitsThree();
    void expiredDeviceCodeExitsThree();
    void deviceOptionsThatCannotApplyAreUsageErrors();
    void noDisplaySuggestsTheDeviceFlow();

private:
    QProcess *startLogin(const QStringList &extra, const QProcessEnvironment &env = QProcessEnvironment());
    /// Reads the CLI's stderr until the user code and the address are shown.
    bool waitForCode(QProcess *cli, QString *userCode, QUrl *uri, QUrl *complete, QByteArray *err);
    bool runDeviceHelper(const QUrl &uri, const QString &userCode, const QByteArray &action);
    int finish(QProcess *cli, QByteArray *out, QByteArray *err);

    Devstack m_devstack;
    QString m_appId;
};

void tst_CliDevice::initTestCase()
{
    m_devstack = devstack();
    QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
    QVERIFY(QFile::exists(QStringLiteral(KEYLOOP_CLI_PATH)));
}

void tst_CliDevice::init()
{
    static int counter = 0;
    m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".clidevice%1").arg(++counter);
    Admin admin(m_devstack.admin);
    QVERIFY(admin.reset());
    bool ok = false;
    admin.post(QStringLiteral("/device-flow"), QJsonObject{{QStringLiteral("interval"), 1}}, &ok);
    QVERIFY(ok);
}

void tst_CliDevice::cleanup()
{
    QVERIFY(Admin(m_devstack.admin).reset());
}

QProcess *tst_CliDevice::startLogin(const QStringList &extra, const QProcessEnvironment &extraEnv)
{
    auto *process = new QProcess(this);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEYLOOP_APP_ID"), m_appId);
    for (const QString &key : extraEnv.keys())
        env.insert(key, extraEnv.value(key));
    process->setProcessEnvironment(env);
    process->start(QStringLiteral(KEYLOOP_CLI_PATH),
                   QStringList{QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                               QStringLiteral("--client-id"), m_devstack.publicClientId,
                               QStringLiteral("--ca-file"), m_devstack.caFile}
                       + extra);
    return process;
}

bool tst_CliDevice::waitForCode(QProcess *cli, QString *userCode, QUrl *uri, QUrl *complete, QByteArray *err)
{
    static const QRegularExpression pattern(QStringLiteral(
        "open this address on your phone or another computer:\\n\\n  (\\S+)\\n\\nand enter the code:\\n\\n  (\\S+)\\n"));
    static const QRegularExpression completePattern(QStringLiteral("Address with the code filled in:\\n\\n  (\\S+)\\n"));
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        *err += cli->readAllStandardError();
        const QRegularExpressionMatch m = pattern.match(QString::fromUtf8(*err));
        const QRegularExpressionMatch c = completePattern.match(QString::fromUtf8(*err));
        if (m.hasMatch() && c.hasMatch()) {
            *uri = QUrl(m.captured(1));
            *userCode = m.captured(2);
            *complete = QUrl(c.captured(1));
            return true;
        }
        if (cli->state() == QProcess::NotRunning)
            return false;
        QSignalSpy more(cli, &QProcess::readyReadStandardError);
        more.wait(1000);
    }
    return false;
}

bool tst_CliDevice::runDeviceHelper(const QUrl &uri, const QString &userCode, const QByteArray &action)
{
    return runScriptedDevice(uri, userCode, action);
}

int tst_CliDevice::finish(QProcess *cli, QByteArray *out, QByteArray *err)
{
    if (cli->state() != QProcess::NotRunning) {
        QSignalSpy finished(cli, &QProcess::finished);
        if (!finished.wait(60000)) {
            cli->kill();
            QSignalSpy killed(cli, &QProcess::finished);
            killed.wait(5000);
            return -1;
        }
    }
    *out += cli->readAllStandardOutput();
    *err += cli->readAllStandardError();
    cli->deleteLater();
    return cli->exitStatus() == QProcess::NormalExit ? cli->exitCode() : -1;
}

void tst_CliDevice::deviceLoginShowsTheCodeAndStoresTheSession()
{
    QProcess *cli = startLogin({QStringLiteral("--device"), QStringLiteral("--resource"), m_devstack.apiResource});
    QString userCode;
    QUrl uri, complete;
    QByteArray out, err;
    QVERIFY2(waitForCode(cli, &userCode, &uri, &complete, &err), err.constData());
    QCOMPARE(uri.host(), m_devstack.issuer.host());
    QVERIFY(complete.toString().contains(userCode));

    // The QR code on stderr decodes back to the complete URI (RFC 8628 §3.3.1), next to the code.
    QVERIFY2(err.contains("Or scan this QR code"), err.constData());
    QProcess decode;
    decode.start(QStringLiteral("node"), {sourcePath(QStringLiteral("tests/common/decode-terminal-qr.mjs"))});
    decode.write(err);
    decode.closeWriteChannel();
    QSignalSpy decoded(&decode, &QProcess::finished);
    QVERIFY(decode.state() == QProcess::NotRunning || decoded.wait(30000));
    QCOMPARE(decode.exitCode(), 0);
    QCOMPARE(QString::fromUtf8(decode.readAllStandardOutput()).trimmed(), complete.toString(QUrl::FullyEncoded));

    QVERIFY(runDeviceHelper(uri, userCode, "approve"));
    QCOMPARE(finish(cli, &out, &err), 0);
    QVERIFY2(out.contains("(sub alice) at "), out.constData());
    QVERIFY(out.contains("Session stored in the OS keychain"));
    QVERIFY2(!out.contains(userCode.toUtf8()), "stdout carries results only");

    // Stored like a browser sign-in: `keyloop token` needs nothing else.
    QProcess token;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEYLOOP_APP_ID"), m_appId);
    token.setProcessEnvironment(env);
    token.start(QStringLiteral(KEYLOOP_CLI_PATH), {QStringLiteral("token")});
    QSignalSpy tokenDone(&token, &QProcess::finished);
    QVERIFY(tokenDone.wait(30000));
    QCOMPARE(token.exitCode(), 0);
    const QByteArray accessToken = token.readAllStandardOutput().trimmed();
    QCOMPARE(accessToken.count('.'), 2); // the API's JWT access token
    QVERIFY(!err.contains(accessToken));
}

void tst_CliDevice::declinedDeviceLoginExitsThree()
{
    QProcess *cli = startLogin({QStringLiteral("--device")});
    QString userCode;
    QUrl uri, complete;
    QByteArray out, err;
    QVERIFY2(waitForCode(cli, &userCode, &uri, &complete, &err), err.constData());
    QVERIFY(runDeviceHelper(complete, QString(), "deny"));
    QCOMPARE(finish(cli, &out, &err), 3);
    QVERIFY2(err.contains("declined"), err.constData());
    QVERIFY(out.isEmpty());
}

void tst_CliDevice::expiredDeviceCodeExitsThree()
{
    bool ok = false;
    Admin(m_devstack.admin).post(QStringLiteral("/device-flow"), QJsonObject{{QStringLiteral("codeTtl"), 2}}, &ok);
    QVERIFY(ok);
    QProcess *cli = startLogin({QStringLiteral("--device")});
    QByteArray out, err;
    QCOMPARE(finish(cli, &out, &err), 3);
    QVERIFY2(err.contains("expired"), err.constData());
}

void tst_CliDevice::deviceOptionsThatCannotApplyAreUsageErrors()
{
    for (const QStringList &extra : {QStringList{QStringLiteral("--port"), QStringLiteral("8123")},
                                     QStringList{QStringLiteral("--browser-command"), QStringLiteral("true")}}) {
        QProcess *cli = startLogin(QStringList{QStringLiteral("--device")} + extra);
        QByteArray out, err;
        QCOMPARE(finish(cli, &out, &err), 2);
        QVERIFY2(err.contains("does not apply to --device"), err.constData());
    }
    QCOMPARE(Admin(m_devstack.admin).counter(QStringLiteral("deviceAuthorization")), 0);
}

void tst_CliDevice::noDisplaySuggestsTheDeviceFlow()
{
    // No DISPLAY, no WAYLAND_DISPLAY, and a browser that cannot start: the CLI suggests --device
    // (it never switches by itself, RFC 8628 §5.4) and keeps waiting until its timeout.
    QProcessEnvironment env;
    env.insert(QStringLiteral("DISPLAY"), QString());
    env.insert(QStringLiteral("WAYLAND_DISPLAY"), QString());
    env.insert(QStringLiteral("BROWSER"), QStringLiteral("/nonexistent/browser"));
    env.insert(QStringLiteral("PATH"), QStringLiteral("/nonexistent"));
    QProcess *cli = startLogin({QStringLiteral("--timeout"), QStringLiteral("3")}, env);
    QByteArray out, err;
    QCOMPARE(finish(cli, &out, &err), 3);
    QVERIFY2(err.contains("keyloop login --device"), err.constData());
    QCOMPARE(Admin(m_devstack.admin).counter(QStringLiteral("deviceAuthorization")), 0);
}

QTEST_GUILESS_MAIN(tst_CliDevice)
#include "tst_cli_device.moc"
