// SPDX-License-Identifier: MIT
// KeychainTokenStore against the sandbox's real gnome-keyring (SANDBOX test; service name
// from $KEYLOOP_TEST_SERVICE), and against buses without a secret service.
#include <keyloop/keychaintokenstore.h>

#include "store/chunkformat_p.h"
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

QByteArray filler(qsizetype size, char seed)
{
    QByteArray out;
    out.reserve(size);
    for (qsizetype i = 0; i < size; ++i)
        out += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[(i * 7 + seed) % 64];
    return out;
}

// A session with tokens as large as real providers issue (an Entra access token is ~2-5 KB,
// an ID token with group claims more).
SessionRecord largeSample(const QByteArray &refreshToken)
{
    SessionRecord r = sample(refreshToken);
    r.setRefreshToken(refreshToken + '.' + filler(1800, 'r'));
    r.setDisplayName(QStringLiteral("Zoë Ångström"));
    SessionAccessToken at = r.accessToken(QString());
    at.token = refreshToken + "-provider-at." + filler(4200, 'a');
    r.setAccessToken(QString(), at);
    r.setIdToken(refreshToken + ".id." + filler(5000, 'i'));
    return r;
}

const ChunkFormat::Slot kSlots[] = {ChunkFormat::Slot::A, ChunkFormat::Slot::B};

// How many chunks of \a key exist in \a slot (counting up to the first absent one).
int chunksPresent(const QString &key, ChunkFormat::Slot slot)
{
    int n = 0;
    while (n <= ChunkFormat::MaxChunks && rawRead(ChunkFormat::chunkKey(key, slot, n)).error == QKeychain::NoError)
        ++n;
    return n;
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

    // Issue 10: Windows' Credential Manager takes at most 2,560 bytes per secret. Items above
    // maxItemSize() go in chunks that each fit; nothing is refused, nothing silently dropped.
    void largeItemsAreWrittenInChunksThatFit_data()
    {
        QTest::addColumn<int>("limit");
        QTest::newRow("default: the Windows limit") << 0;
        QTest::newRow("injected 700 bytes") << 700;
        QTest::newRow("injected minimum") << ChunkFormat::MinMaxItemSize;
    }

    void largeItemsAreWrittenInChunksThatFit()
    {
        QFETCH(int, limit);
        KeychainTokenStore store(service());
        if (limit)
            store.setMaxItemSize(limit);
        else
            limit = ChunkFormat::DefaultMaxItemSize;
        QCOMPARE(store.maxItemSize(), limit);
        const QString key = QStringLiteral("large");
        const SessionRecord r = largeSample("rt-" + Crypto_like_random());
        Error e = run(store.write(key, r));
        QVERIFY2(!e, qPrintable(e.toString()));
        SessionRecord back;
        e = run(store.read(key), &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(back == r);

        const QStringList itemKeys{key, RecordFormat::accessTokenKey(key, QString()),
                                   RecordFormat::accessTokenKey(key, QStringLiteral("https://api.test")),
                                   RecordFormat::idTokenKey(key)};
        int chunked = 0;
        for (const QString &itemKey : itemKeys) {
            const Raw item = rawRead(itemKey);
            QCOMPARE(item.error, QKeychain::NoError);
            QVERIFY2(item.data.size() <= limit, qPrintable(itemKey));
            ChunkFormat::Head head;
            if (!ChunkFormat::isHead(item.data))
                continue;
            ++chunked;
            QVERIFY(!ChunkFormat::parseHead(item.data, &head));
            QCOMPARE(chunksPresent(itemKey, head.slot), head.count);
            QCOMPARE(chunksPresent(itemKey, ChunkFormat::otherSlot(head.slot)), 0);
            for (int i = 0; i < head.count; ++i)
                QVERIFY(rawRead(ChunkFormat::chunkKey(itemKey, head.slot, i)).data.size() <= limit);
        }
        // The provider's access token and the ID token are always too large; the main item
        // (1.8 KB refresh token) is at the smaller limits.
        QCOMPARE(chunked, limit < 2560 ? 3 : 2);
        QCOMPARE(filesContaining(r.refreshToken().left(20)), QStringList());

        QVERIFY(!run(store.remove(key)));
        for (const QString &itemKey : itemKeys) {
            QCOMPARE(rawRead(itemKey).error, QKeychain::EntryNotFound);
            for (const ChunkFormat::Slot slot : kSlots)
                QCOMPARE(chunksPresent(itemKey, slot), 0);
        }
    }

    void rewritesAlternateTheMainSlotAndLeaveNoLeftovers()
    {
        KeychainTokenStore store(service());
        store.setMaxItemSize(700);
        const QString key = QStringLiteral("rewrite");
        const QString atKey = RecordFormat::accessTokenKey(key, QString());
        ChunkFormat::Head head;

        QVERIFY(!run(store.write(key, largeSample("rt-1"))));
        QVERIFY(!ChunkFormat::parseHead(rawRead(key).data, &head));
        const ChunkFormat::Slot first = head.slot;
        QVERIFY(chunksPresent(key, first) > 0);

        QVERIFY(!run(store.write(key, largeSample("rt-2"))));
        QVERIFY(!ChunkFormat::parseHead(rawRead(key).data, &head));
        QCOMPARE(head.slot, ChunkFormat::otherSlot(first)); // never over the chunks in force
        QCOMPARE(chunksPresent(key, head.slot), head.count);
        QCOMPARE(chunksPresent(key, first), 0); // the previous record's chunks are gone

        // Back to small tokens: every item whole, no chunk of any of them left behind.
        QVERIFY(!run(store.write(key, sample("rt-3"))));
        QVERIFY(!ChunkFormat::isHead(rawRead(key).data));
        QVERIFY(!ChunkFormat::isHead(rawRead(atKey).data));
        for (const ChunkFormat::Slot slot : kSlots) {
            QCOMPARE(chunksPresent(key, slot), 0);
            QCOMPARE(chunksPresent(atKey, slot), 0);
            QCOMPARE(chunksPresent(RecordFormat::idTokenKey(key), slot), 0);
        }
        SessionRecord back;
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back == sample("rt-3"));
        QVERIFY(!run(store.remove(key)));
    }

    // A session stored by the version-1 build (before chunking) is still read, and the next
    // save writes the current version for such a session (RecordFormat::versionFor(): a session
    // without a DPoP key is written as version 3, which Keyloop 0.2 reads).
    void readsSessionsOfFormatVersion1()
    {
        KeychainTokenStore store(service());
        const QString key = QStringLiteral("version-1");
        const QByteArray main = R"({"format":"keyloop.session","version":1,"generation":"g1","issuer":"https://issuer.test",)"
                                R"("client_id":"client","account":"alice@example.com","subject":"alice","refresh_token":"rt-v1",)"
                                R"("scopes":[],"resources":[],"claims":{"sub":"alice"},"access_token_expiry":{"":1700000060000},)"
                                R"("has_id_token":true,"app_data":{"ca_file":"/tmp/ca.pem"},"updated_at":1700000001000})";
        const QByteArray at = R"({"format":"keyloop.access_token","version":1,"generation":"g1","resource":"",)"
                              R"("access_token":"rt-v1-provider-at","issued_at":1700000000000,"expires_at":1700000060000,"scopes":[]})";
        const QByteArray id = R"({"format":"keyloop.id_token","version":1,"generation":"g1","id_token":"rt-v1.id.token"})";
        QCOMPARE(rawWrite(key, main), QKeychain::NoError);
        QCOMPARE(rawWrite(RecordFormat::accessTokenKey(key, QString()), at), QKeychain::NoError);
        QCOMPARE(rawWrite(RecordFormat::idTokenKey(key), id), QKeychain::NoError);

        SessionRecord back;
        const Error e = run(store.read(key), &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(back.refreshToken() == QByteArray("rt-v1"));
        QVERIFY(back.accessToken(QString()).token == QByteArray("rt-v1-provider-at"));
        QCOMPARE(back.accessToken(QString()).expiresAt, QDateTime::fromMSecsSinceEpoch(1700000060000, Qt::UTC));
        QVERIFY(back.idToken() == QByteArray("rt-v1.id.token"));
        QCOMPARE(back.subject(), QStringLiteral("alice"));
        QCOMPARE(back.appData().value(QStringLiteral("ca_file")).toString(), QStringLiteral("/tmp/ca.pem"));

        QVERIFY(!run(store.write(key, back)));
        QCOMPARE(QJsonDocument::fromJson(rawRead(key).data).object().value(QStringLiteral("version")).toInt(),
                 RecordFormat::versionFor(back));
        QCOMPARE(RecordFormat::versionFor(back), 3);
        QVERIFY(!run(store.remove(key)));
    }

    void chunkOfAnotherWriteIsNeverUsed()
    {
        KeychainTokenStore store(service());
        store.setMaxItemSize(700);
        const QString key = QStringLiteral("mixed");
        const QString atKey = RecordFormat::accessTokenKey(key, QString());
        QVERIFY(!run(store.write(key, largeSample("rt-old"))));
        const Raw oldAtChunk = rawRead(ChunkFormat::chunkKey(atKey, ChunkFormat::Slot::A, 1));
        QCOMPARE(oldAtChunk.error, QKeychain::NoError);
        ChunkFormat::Head head;
        QVERIFY(!ChunkFormat::parseHead(rawRead(key).data, &head));
        const Raw oldMainChunk = rawRead(ChunkFormat::chunkKey(key, head.slot, 1));
        QVERIFY(!run(store.write(key, largeSample("rt-new"))));

        // A secondary item with a chunk of the old write (e.g. a crash, or a concurrent write):
        // that token is ignored, the session refreshes it.
        QCOMPARE(rawWrite(ChunkFormat::chunkKey(atKey, ChunkFormat::Slot::A, 1), oldAtChunk.data), QKeychain::NoError);
        SessionRecord back;
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken().startsWith("rt-new."));
        QVERIFY(back.accessToken(QString()).isNull());
        QVERIFY(back.idToken().startsWith("rt-new.id."));

        // The main item with a chunk of another write: never a mixed refresh token.
        QVERIFY(!ChunkFormat::parseHead(rawRead(key).data, &head));
        QCOMPARE(rawWrite(ChunkFormat::chunkKey(key, head.slot, 1), oldMainChunk.data), QKeychain::NoError);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("stored session is unreadable")));
        QCOMPARE(run(store.read(key)).code(), Error::Code::StorageCorrupt);
        QVERIFY(!run(store.remove(key))); // and it can still be removed, chunks and all
        for (const ChunkFormat::Slot slot : kSlots)
            QCOMPARE(chunksPresent(key, slot), 0);
    }

    void tokenTooLargeForTheKeychainIsKeptInMemoryOnlyAndSaysSo()
    {
        KeychainTokenStore store(service());
        store.setMaxItemSize(ChunkFormat::MinMaxItemSize);
        const QString key = QStringLiteral("too-large");
        SessionRecord r = sample("rt-" + Crypto_like_random());
        SessionAccessToken huge = r.accessToken(QString());
        huge.token = filler(64 * 1024, 'h'); // more than MaxChunks chunks of the smallest size
        r.setAccessToken(QString(), huge);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("too large for the keychain and is kept in memory only")));
        QVERIFY(!run(store.write(key, r)));
        SessionRecord back;
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken() == r.refreshToken());
        QVERIFY(back.accessToken(QString()).isNull()); // refreshed by the next process
        QVERIFY(!back.accessToken(QStringLiteral("https://api.test")).isNull());

        // A refresh token that large cannot be kept: the write fails (never silently).
        r.setRefreshToken(filler(64 * 1024, 'R'));
        QCOMPARE(run(store.write(key, r)).code(), Error::Code::StorageFailed);
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken().startsWith("rt-")); // the stored session is untouched
        QVERIFY(!run(store.remove(key)));
    }

    // A process killed between writing the main item's chunks and its head leaves the previous
    // session whole; killed after the head, the new one (its other tokens get refreshed).
    void crashWhileWritingChunksNeverMixesSessions_data()
    {
        QTest::addColumn<QString>("point");
        QTest::addColumn<bool>("newSession");
        QTest::newRow("after-main-chunks") << QStringLiteral("after-main-chunks") << false;
        QTest::newRow("after-main-write") << QStringLiteral("after-main-write") << true;
        QTest::newRow("after-secondary-chunks") << QStringLiteral("after-secondary-chunks") << true;
    }

    void crashWhileWritingChunksNeverMixesSessions()
    {
#ifndef KEYLOOP_TEST_HOOKS
        QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS (release build): no crash points");
#else
        QFETCH(QString, point);
        QFETCH(bool, newSession);
        KeychainTokenStore store(service());
        store.setMaxItemSize(700);
        const QString key = QStringLiteral("crash-") + point;
        const SessionRecord old = largeSample("rt-old");
        QVERIFY(!run(store.write(key, old)));

        const QByteArray newToken = "rt-new." + filler(1800, 'n'); // the tool's refresh token; its access token is this + "-at"
        auto tool = [&](const QString &killAt) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("KEYLOOP_TOOL_TOKEN"), QString::fromLatin1(newToken));
            env.insert(QStringLiteral("KEYLOOP_TOOL_MAX_ITEM_SIZE"), QStringLiteral("700"));
            if (!killAt.isEmpty())
                env.insert(QStringLiteral("KEYLOOP_TEST_KILL_AT"), killAt);
            QProcess p;
            p.setProcessEnvironment(env);
            p.start(QStringLiteral(KEYLOOP_STORE_TOOL), {QStringLiteral("write"), service(), key});
            p.waitForFinished(30000);
            return p.exitStatus() == QProcess::CrashExit ? QByteArray("crashed") : p.readAllStandardOutput().trimmed();
        };
        QCOMPARE(tool(point), QByteArray("crashed"));

        SessionRecord back;
        const Error e = run(store.read(key), &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        if (newSession) {
            QVERIFY(back.refreshToken() == newToken);
            QVERIFY(back.accessToken(QString()).isNull()); // not written, or of the old write: ignored
        } else {
            QVERIFY(back == old);
        }

        // The next write completes and cleans up whatever the crash left.
        QCOMPARE(tool(QString()), QByteArray("result=NoError"));
        QVERIFY(!run(store.read(key), &back));
        QVERIFY(back.refreshToken() == newToken);
        QVERIFY(back.accessToken(QString()).token == newToken + "-at");
        ChunkFormat::Head head;
        QVERIFY(!ChunkFormat::parseHead(rawRead(key).data, &head));
        QCOMPARE(chunksPresent(key, ChunkFormat::otherSlot(head.slot)), 0);
        QVERIFY(!run(store.remove(key)));
#endif
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
