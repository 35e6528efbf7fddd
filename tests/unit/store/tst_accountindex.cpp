// SPDX-License-Identifier: MIT
// AccountIndex: non-secret list of stored sessions, written atomically under the app's lock.
#include <keyloop/accountindex.h>

#include "store/processlock_p.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

AccountIndexEntry entry(const QString &account, const QString &name = QString())
{
    AccountIndexEntry e;
    e.issuer = QStringLiteral("https://login.example.com");
    e.clientId = QStringLiteral("app");
    e.account = account;
    e.subject = QStringLiteral("sub-") + account;
    e.displayName = name;
    e.updatedAt = QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC);
    return e;
}

Error upsert(AccountIndex &index, const AccountIndexEntry &e)
{
    Error result(Error::Code::Timeout, QStringLiteral("not called"));
    bool called = false;
    QObject context;
    index.upsert(e, &context, [&](const Error &err) { result = err; called = true; });
    if (!QTest::qWaitFor([&] { return called; }, 5000))
        return Error(Error::Code::Timeout, QStringLiteral("upsert did not finish"));
    return result;
}

} // namespace

class TestAccountIndex : public QObject
{
    Q_OBJECT
    QTemporaryDir m_runtime;
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_runtime.isValid());
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
        QFile::setPermissions(m_runtime.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }

    void missingFileIsEmpty()
    {
        QTemporaryDir dir;
        AccountIndex index(QStringLiteral("org.keyloop.test"), dir.path());
        Error e;
        QVERIFY(index.entries(&e).isEmpty());
        QVERIFY(!e);
    }

    void upsertReplacesByKeyAndRemoveDeletes()
    {
        QTemporaryDir dir;
        AccountIndex index(QStringLiteral("org.keyloop.test"), dir.path());
        QVERIFY(!upsert(index, entry(QStringLiteral("b"))));
        QVERIFY(!upsert(index, entry(QStringLiteral("a"), QStringLiteral("Alice"))));
        QVERIFY(!upsert(index, entry(QStringLiteral("a"), QStringLiteral("Alice 2"))));
        const QList<AccountIndexEntry> list = index.entries();
        QCOMPARE(list.size(), 2);
        QCOMPARE(list.at(0).account, QStringLiteral("a")); // sorted
        QCOMPARE(list.at(0).displayName, QStringLiteral("Alice 2"));
        QCOMPARE(list.at(1), entry(QStringLiteral("b")));

        // A second AccountIndex (another process) sees the same file.
        AccountIndex other(QStringLiteral("org.keyloop.test"), dir.path());
        QCOMPARE(other.entries().size(), 2);

        bool called = false;
        Error result;
        index.remove(QStringLiteral("https://login.example.com"), QStringLiteral("app"), QStringLiteral("a"), this,
                     [&](const Error &err) { result = err; called = true; });
        QTRY_VERIFY(called);
        QVERIFY(!result);
        QCOMPARE(index.entries().size(), 1);
    }

    void fileIsWrittenAtomicallyAndPrivately()
    {
        QTemporaryDir dir;
        AccountIndex index(QStringLiteral("org.keyloop.test"), dir.path());
        QVERIFY(!upsert(index, entry(QStringLiteral("a"))));
        const QFileInfo info(index.filePath());
        QVERIFY(info.exists());
        QCOMPARE(info.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteOther),
                 QFileDevice::Permissions());
        // No temporary file left beside it.
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("accounts.json")});
    }

    void concurrentUpsertsAllLand()
    {
        QTemporaryDir dir;
        AccountIndex a(QStringLiteral("org.keyloop.test"), dir.path());
        AccountIndex b(QStringLiteral("org.keyloop.test"), dir.path());
        int done = 0;
        for (int i = 0; i < 5; ++i) {
            (i % 2 ? a : b).upsert(entry(QString::number(i)), this, [&](const Error &err) {
                QVERIFY(!err);
                ++done;
            });
        }
        QTRY_COMPARE(done, 5);
        QCOMPARE(a.entries().size(), 5); // serialised by the lock: no lost update
    }

    void damagedFileIsReportedAndRewritten()
    {
        QTemporaryDir dir;
        AccountIndex index(QStringLiteral("org.keyloop.test"), dir.path());
        QFile f(index.filePath());
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{not json");
        f.close();
        Error e;
        QVERIFY(index.entries(&e).isEmpty());
        QCOMPARE(e.code(), Error::Code::StorageCorrupt);
        QTest::ignoreMessage(QtWarningMsg, "the account index was damaged; rewriting it");
        QVERIFY(!upsert(index, entry(QStringLiteral("a"))));
        QCOMPARE(index.entries(&e).size(), 1);
        QVERIFY(!e);
    }

    void holdsNoSecretFields()
    {
        QTemporaryDir dir;
        AccountIndex index(QStringLiteral("org.keyloop.test"), dir.path());
        QVERIFY(!upsert(index, entry(QStringLiteral("a"))));
        QFile f(index.filePath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray data = f.readAll();
        QVERIFY(!data.contains("token"));
        QVERIFY(data.contains("\"subject\""));
    }
};

QTEST_GUILESS_MAIN(TestAccountIndex)
#include "tst_accountindex.moc"
