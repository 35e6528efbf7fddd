// SPDX-License-Identifier: MIT
// KeychainTokenStore against the sandbox's real gnome-keyring (SANDBOX test; service name
// from $KEYLOOP_TEST_SERVICE), and against buses without a secret service.
#include <keyloop/keychaintokenstore.h>

#include "store/recordformat_p.h"
#include "testsupport.h"

#include <qt6keychain/keychain.h>

#include <QtCore/QDirIterator>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

QString service()
{
    return qEnvironmentVariable("KEYLOOP_TEST_SERVICE");
}

Error run(TokenStoreJob *job, SessionRecord *out = nullptr)
{
    job->setAutoDelete(false);
    QSignalSpy spy(job, &Job::finished);
    job->start();
    if (!spy.wait(15000)) {
        delete job;
        return Error(Error::Code::Timeout, QStringLiteral("store job did not finish"));
    }
    const Error e = job->error();
    if (out)
        *out = job->record();
    delete job;
    return e;
}

// Raw QtKeychain access, to look at what the store wrote.
struct Raw
{
    QKeychain::Error error = QKeychain::NoError;
    QByteArray data;
};

Raw rawRead(const QString &key)
{
    QKeychain::ReadPasswordJob job(service());
    job.setAutoDelete(false);
    job.setKey(key);
    QSignalSpy spy(&job, &QKeychain::Job::finished);
    job.start();
    Raw r;
    if (!spy.wait(15000)) {
        r.error = QKeychain::OtherError;
        return r;
    }
    r.error = job.error();
    r.data = job.binaryData();
    return r;
}

QKeychain::Error rawWrite(const QString &key, const QByteArray &data)
{
    QKeychain::WritePasswordJob job(service());
    job.setAutoDelete(false);
    job.setInsecureFallback(false);
    job.setKey(key);
    job.setBinaryData(data);
    QSignalSpy spy(&job, &QKeychain::Job::finished);
    job.start();
    return spy.wait(15000) ? job.error() : QKeychain::OtherError;
}

QKeychain::Error rawDelete(const QString &key)
{
    QKeychain::DeletePasswordJob job(service());
    job.setAutoDelete(false);
    job.setKey(key);
    QSignalSpy spy(&job, &QKeychain::Job::finished);
    job.start();
    return spy.wait(15000) ? job.error() : QKeychain::OtherError;
}

SessionRecord sample(const QByteArray &refreshToken)
{
    SessionRecord r;
    r.setIssuer(QStringLiteral("https://issuer.test"));
    r.setClientId(QStringLiteral("client"));
    r.setAccount(QStringLiteral("alice@example.com"));
    r.setSubject(QStringLiteral("alice"));
    r.setRefreshToken(refreshToken);
    SessionAccessToken at;
    at.token = refreshToken + "-provider-at";
    at.issuedAt = QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC);
    at.expiresAt = at.issuedAt.addSecs(60);
    r.setAccessToken(QString(), at);
    at.token = refreshToken + "-api-at";
    r.setAccessToken(QStringLiteral("https://api.test"), at);
    r.setIdToken(refreshToken + ".id.token");
    r.setOriginalClaims(QJsonObject{{QStringLiteral("sub"), QStringLiteral("alice")}});
    r.setAppData(QJsonObject{{QStringLiteral("ca_file"), QStringLiteral("/tmp/ca.pem")}});
    r.setUpdatedAt(QDateTime::fromMSecsSinceEpoch(1700000001000, Qt::UTC));
    return r;
}

// Every file under the test's HOME / XDG / TMP dirs containing \a needle.
QStringList filesContaining(const QByteArray &needle)
{
    QStringList hits;
    for (const char *var : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "TMPDIR"}) {
        const QString dir = qEnvironmentVariable(var);
        if (dir.isEmpty())
            continue;
        QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QFile f(path);
            if (f.open(QIODevice::ReadOnly) && f.readAll().contains(needle))
                hits << path;
        }
    }
    hits.removeDuplicates();
    return hits;
}

} // namespace

class TestKeychainTokenStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!service().isEmpty(), "KEYLOOP_TEST_SERVICE must be set (run through sandbox-exec.sh)");
        QVERIFY2(!qEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS").isEmpty(), "needs the sandbox's D-Bus session");
    }

    // The foundation's proof: the real keychain stores and returns a secret.
    void qtKeychainRoundTrip()
    {
        const QByteArray secret = Crypto_like_random();
        QCOMPARE(rawWrite(QStringLiteral("roundtrip"), secret), QKeychain::NoError);
        const Raw r = rawRead(QStringLiteral("roundtrip"));
        QCOMPARE(r.error, QKeychain::NoError);
        QVERIFY(r.data == secret);
        QCOMPARE(rawDelete(QStringLiteral("roundtrip")), QKeychain::NoError);
        QCOMPARE(rawRead(QStringLiteral("roundtrip")).error, QKeychain::EntryNotFound);
    }

    void probeSucceeds()
    {
        KeychainTokenStore store(service());
        const Error e = run(store.probe());
        QVERIFY2(!e, qPrintable(e.toString()));
    }

    void writeReadRemoveRoundTrip()
    {
        KeychainTokenStore store(service());
        const QString key = TokenStore::keyFor(QStringLiteral("https://issuer.test"), QStringLiteral("client"),
                                               QStringLiteral("alice@example.com"));
        const QByteArray rt = "rt-" + Crypto_like_random();
        const SessionRecord r = sample(rt);
        QCOMPARE(run(store.read(key)).code(), Error::Code::NotFound);
        Error e = run(store.write(key, r));
        QVERIFY2(!e, qPrintable(e.toString()));

        SessionRecord back;
        e = run(store.read(key), &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(back == r);

        // Layout: the main item has the refresh token but no access or ID token; each
        // secondary item is separate and small.
        const Raw main = rawRead(key);
        QCOMPARE(main.error, QKeychain::NoError);
        QVERIFY(main.data.contains(rt));
        QVERIFY(!main.data.contains("-provider-at"));
        QVERIFY(!main.data.contains(".id.token"));
        const Raw api = rawRead(RecordFormat::accessTokenKey(key, QStringLiteral("https://api.test")));
        QCOMPARE(api.error, QKeychain::NoError);
        QVERIFY(api.data.contains("-api-at"));
        QVERIFY(api.data.size() < 2560);
        QCOMPARE(rawRead(RecordFormat::idTokenKey(key)).error, QKeychain::NoError);

        // Never in a file.
        QCOMPARE(filesContaining(rt), QStringList());

        QVERIFY(!run(store.remove(key)));
        QCOMPARE(run(store.read(key)).code(), Error::Code::NotFound);
        QCOMPARE(rawRead(RecordFormat::accessTokenKey(key, QString())).error, QKeychain::EntryNotFound);
        QCOMPARE(rawRead(RecordFormat::accessTokenKey(key, QStringLiteral("https://api.test"))).error, QKeychain::EntryNotFound);
        QCOMPARE(rawRead(RecordFormat::idTokenKey(key)).error, QKeychain::EntryNotFound);
        QVERIFY(!run(store.remove(key))); // absent is success
    }

    void missingSecondaryItemIsNotFatal()
    {
        KeychainTokenStore store(service());
        const QString key = QStringLiteral("missing-secondary");
        const SessionRecord r = sample("rt-" + Crypto_like_random());
        QVERIFY(!run(store.write(key, r)));
        QCOMPARE(rawDelete(RecordFormat::accessTokenKey(key, QStringLiteral("https://api.test"))), QKeychain::NoError);
        SessionRecord back;
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken() == r.refreshToken());
        QVERIFY(back.accessToken(QStringLiteral("https://api.test")).isNull());
        QVERIFY(!back.accessToken(QString()).isNull());
        QVERIFY(!run(store.remove(key)));
    }

    void secondaryItemOfAnInterruptedWriteIsIgnored()
    {
        KeychainTokenStore store(service());
        const QString key = QStringLiteral("interrupted");
        QVERIFY(!run(store.write(key, sample("rt-old"))));
        const Raw oldAt = rawRead(RecordFormat::accessTokenKey(key, QString()));
        QVERIFY(!run(store.write(key, sample("rt-new"))));
        // Simulate a crash after the new main item: the old access-token item is still there.
        QCOMPARE(rawWrite(RecordFormat::accessTokenKey(key, QString()), oldAt.data), QKeychain::NoError);
        SessionRecord back;
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken() == QByteArray("rt-new"));
        QVERIFY(back.accessToken(QString()).isNull()); // stale item ignored → the session refreshes
        QVERIFY(!run(store.remove(key)));
    }

    void damagedMainItemIsCorrupt_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("garbage") << QByteArray("\x01\x02not json");
        QTest::newRow("unknown version")
            << QByteArray("{\"format\":\"keyloop.session\",\"version\":99,\"generation\":\"g\",\"issuer\":\"i\",\"client_id\":\"c\"}");
    }

    void damagedMainItemIsCorrupt()
    {
        QFETCH(QByteArray, data);
        KeychainTokenStore store(service());
        const QString key = QStringLiteral("corrupt");
        QCOMPARE(rawWrite(key, data), QKeychain::NoError);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("stored session is unreadable")));
        QCOMPARE(run(store.read(key)).code(), Error::Code::StorageCorrupt);
        QVERIFY(!run(store.remove(key))); // a corrupt record can still be removed
        QCOMPARE(rawRead(key).error, QKeychain::EntryNotFound);
    }

    void noSecretServiceIsUnavailable_data()
    {
        QTest::addColumn<QString>("bus"); // "private", "invalid", "none"
        QTest::addColumn<QString>("operation");
        for (const char *op : {"probe", "write"}) {
            QTest::addRow("private bus without secrets, %s", op) << QStringLiteral("private") << QString::fromLatin1(op);
            QTest::addRow("unreachable bus, %s", op) << QStringLiteral("invalid") << QString::fromLatin1(op);
            QTest::addRow("no bus, %s", op) << QStringLiteral("none") << QString::fromLatin1(op);
        }
    }

    void noSecretServiceIsUnavailable()
    {
        QFETCH(QString, bus);
        QFETCH(QString, operation);
        QTemporaryDir configDir;
        QProcess daemon;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (bus == QLatin1String("private")) {
            // A session bus with no service files at all: org.freedesktop.secrets cannot be activated.
            QFile config(configDir.filePath(QStringLiteral("bus.conf")));
            QVERIFY(config.open(QIODevice::WriteOnly));
            config.write("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
                         "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                         "<busconfig><type>session</type><listen>unix:dir=" + QFile::encodeName(configDir.path()) + "</listen>"
                         "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
                         "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n");
            config.close();
            daemon.start(QStringLiteral("dbus-daemon"), {QStringLiteral("--config-file=") + config.fileName(),
                                                          QStringLiteral("--print-address=1"), QStringLiteral("--nofork")});
            QVERIFY(daemon.waitForStarted(5000));
            QTRY_VERIFY_WITH_TIMEOUT(daemon.canReadLine() || daemon.waitForReadyRead(100), 5000);
            const QString address = QString::fromUtf8(daemon.readLine()).trimmed();
            QVERIFY(address.startsWith(QStringLiteral("unix:")));
            env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), address);
        } else if (bus == QLatin1String("invalid")) {
            env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=") + configDir.filePath(QStringLiteral("nobody-listens")));
        } else {
            env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
            env.remove(QStringLiteral("DISPLAY"));
        }
        const QByteArray token = "no-plaintext-" + Crypto_like_random();
        env.insert(QStringLiteral("KEYLOOP_TOOL_TOKEN"), QString::fromLatin1(token));
        QProcess tool;
        tool.setProcessEnvironment(env);
        tool.start(QStringLiteral(KEYLOOP_STORE_TOOL), {operation, service(), QStringLiteral("unavailable")});
        QVERIFY(tool.waitForFinished(30000));
        const QByteArray out = tool.readAllStandardOutput();
        if (daemon.state() != QProcess::NotRunning) {
            daemon.terminate();
            daemon.waitForFinished(5000);
        }
        QCOMPARE(out.trimmed(), QByteArray("result=StorageUnavailable"));
        // Never a plaintext fallback anywhere under HOME / XDG dirs.
        QCOMPARE(filesContaining(token), QStringList());
    }

private:
    static QByteArray Crypto_like_random()
    {
        return QByteArray::number(QRandomGenerator::system()->generate64(), 36);
    }
};

QTEST_GUILESS_MAIN(TestKeychainTokenStore)
#include "tst_keychaintokenstore.moc"
