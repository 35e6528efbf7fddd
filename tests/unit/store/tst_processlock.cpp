// SPDX-License-Identifier: MIT
// ProcessLock: QLockFile acquired by polling tryLock(0), with contention, timeout and
// recovery of a lock left by a dead process.
#include "store/processlock_p.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {

// Sets (or, with a null value, unsets) an environment variable for one scope.
class ScopedEnv
{
public:
    ScopedEnv(const char *name, const QByteArray &value) : m_name(name), m_had(qEnvironmentVariableIsSet(name)), m_old(qgetenv(name))
    {
        if (value.isNull())
            qunsetenv(name);
        else
            qputenv(name, value);
    }
    ~ScopedEnv()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv &) = delete;
    ScopedEnv &operator=(const ScopedEnv &) = delete;

private:
    const char *m_name;
    bool m_had;
    QByteArray m_old;
};

const QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;

bool isOwnerOnly(const QString &dir)
{
    struct stat st = {};
    return ::lstat(QFile::encodeName(dir).constData(), &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700
        && st.st_uid == ::geteuid();
}

bool makeDir(const QString &path, mode_t mode)
{
    return ::mkdir(QFile::encodeName(path).constData(), mode) == 0 && ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

bool giveAway(const QString &path)
{
    return ::chown(QFile::encodeName(path).constData(), 65534, 65534) == 0; // nobody
}

} // namespace

class TestProcessLock : public QObject
{
    Q_OBJECT
    QTemporaryDir m_runtime;
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_runtime.isValid());
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(m_runtime.path()));
        QFile::setPermissions(m_runtime.path(), kOwnerOnly);
    }

    void lockPathIsPrivateAndPerName()
    {
        const QString a = ProcessLock::lockPath(QStringLiteral("org.example.App"), QStringLiteral("key-a"));
        const QString b = ProcessLock::lockPath(QStringLiteral("org.example.App"), QStringLiteral("key-b"));
        QVERIFY(!a.isEmpty());
        QVERIFY(a != b);
        QVERIFY(a.startsWith(m_runtime.path() + QStringLiteral("/keyloop/org.example.App/")));
        QVERIFY(!a.contains(QStringLiteral("key-a"))); // the name is hashed
        const QFileInfo dir(QFileInfo(a).path());
        QCOMPARE(dir.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
                 QFileDevice::Permissions());
        QVERIFY(!ProcessLock::lockPath(QStringLiteral("../../etc"), QStringLiteral("k")).contains(QStringLiteral("/../")));
    }

    void lockDirectoryIsOwnerOnlyAllTheWayDown()
    {
        const QString path = ProcessLock::lockPath(QStringLiteral("org.example.App"), QStringLiteral("key-a"));
        QVERIFY(isOwnerOnly(m_runtime.path() + QStringLiteral("/keyloop")));
        QVERIFY(isOwnerOnly(m_runtime.path() + QStringLiteral("/keyloop/org.example.App")));
        QCOMPARE(QFileInfo(path).path(), m_runtime.path() + QStringLiteral("/keyloop/org.example.App"));
    }

    void appIdNeverLeavesTheLockDirectory_data()
    {
        QTest::addColumn<QString>("appId");
        QTest::newRow("dot-dot") << QStringLiteral("..");
        QTest::newRow("dot") << QStringLiteral(".");
        QTest::newRow("empty") << QString();
        QTest::newRow("path") << QStringLiteral("../../etc");
        QTest::newRow("absolute") << QStringLiteral("/etc");
    }

    void appIdNeverLeavesTheLockDirectory()
    {
        QFETCH(QString, appId);
        const QString path = ProcessLock::lockPath(appId, QStringLiteral("k"));
        QVERIFY(!path.isEmpty());
        const QString appDir = QFileInfo(path).path();
        QCOMPARE(QFileInfo(appDir).path(), m_runtime.path() + QStringLiteral("/keyloop"));
        QVERIFY(isOwnerOnly(appDir));
    }

    // Issue 10: without $XDG_RUNTIME_DIR the lock files used to go to /tmp/keyloop-<uid>, a
    // path another user can create first. Now: the user's own cache directory.
    void withoutRuntimeDirUsesThePrivateCacheDirectory()
    {
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString cache = home.path() + QStringLiteral("/cache"); // created by lockPath, 0700
        ScopedEnv runtime("XDG_RUNTIME_DIR", QByteArray());
        ScopedEnv cacheHome("XDG_CACHE_HOME", QFile::encodeName(cache));
        Error error;
        const QString path = ProcessLock::lockPath(QStringLiteral("org.example.App"), QStringLiteral("key-a"), &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(path.startsWith(cache + QStringLiteral("/keyloop/locks/org.example.App/")));
        QVERIFY(!path.startsWith(QDir::tempPath() + QStringLiteral("/keyloop-")));
        QVERIFY(isOwnerOnly(cache));
        QVERIFY(isOwnerOnly(cache + QStringLiteral("/keyloop")));
        QVERIFY(isOwnerOnly(cache + QStringLiteral("/keyloop/locks")));
        QVERIFY(isOwnerOnly(cache + QStringLiteral("/keyloop/locks/org.example.App")));

        ProcessLock lock(QStringLiteral("org.example.App"), QStringLiteral("key-a"));
        QCOMPARE(lock.path(), path);
        QSignalSpy acquired(&lock, &ProcessLock::acquired);
        lock.acquire();
        QVERIFY(acquired.wait(2000));
    }

    // A runtime directory that is not what the XDG spec promises (e.g. inherited across su) is
    // not used; the cache directory is, with a warning.
    void unsafeRuntimeDirFallsBackToTheCacheDirectory_data()
    {
        QTest::addColumn<QString>("setup");
        QTest::newRow("open to others") << QStringLiteral("mode-0755");
        QTest::newRow("a symlink") << QStringLiteral("symlink");
        QTest::newRow("missing") << QStringLiteral("missing");
        QTest::newRow("another user's") << QStringLiteral("other-owner");
    }

    void unsafeRuntimeDirFallsBackToTheCacheDirectory()
    {
        QFETCH(QString, setup);
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString runtimeDir = home.path() + QStringLiteral("/runtime");
        const QString cache = home.path() + QStringLiteral("/cache");
        if (setup == QLatin1String("mode-0755")) {
            QVERIFY(makeDir(runtimeDir, 0755));
        } else if (setup == QLatin1String("symlink")) {
            QVERIFY(makeDir(home.path() + QStringLiteral("/real"), 0700));
            QVERIFY(QFile::link(home.path() + QStringLiteral("/real"), runtimeDir));
        } else if (setup == QLatin1String("other-owner")) {
            if (::geteuid() != 0)
                QSKIP("needs root to give a directory to another user");
            QVERIFY(makeDir(runtimeDir, 0700));
            QVERIFY(giveAway(runtimeDir));
        }
        ScopedEnv runtime("XDG_RUNTIME_DIR", QFile::encodeName(runtimeDir));
        ScopedEnv cacheHome("XDG_CACHE_HOME", QFile::encodeName(cache));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("XDG_RUNTIME_DIR is not usable for lock files")));
        Error error;
        const QString path = ProcessLock::lockPath(QStringLiteral("app"), QStringLiteral("k"), &error);
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(path.startsWith(cache + QStringLiteral("/keyloop/locks/app/")));
        QVERIFY(!QFileInfo::exists(runtimeDir + QStringLiteral("/keyloop")));
    }

    // Someone else prepared the path: never followed or used; a typed error instead.
    void refusesLockDirectoryNotPrivateToTheUser_data()
    {
        QTest::addColumn<QString>("setup");
        QTest::newRow("keyloop dir is a symlink") << QStringLiteral("keyloop-symlink");
        QTest::newRow("app dir is a symlink") << QStringLiteral("app-symlink");
        QTest::newRow("keyloop is a file") << QStringLiteral("keyloop-file");
        QTest::newRow("keyloop dir of another user") << QStringLiteral("keyloop-other-owner");
        QTest::newRow("app dir of another user") << QStringLiteral("app-other-owner");
        QTest::newRow("cache dir writable by others") << QStringLiteral("cache-0777");
        QTest::newRow("cache dir of another user") << QStringLiteral("cache-other-owner");
    }

    void refusesLockDirectoryNotPrivateToTheUser()
    {
        QFETCH(QString, setup);
        if (setup.endsWith(QLatin1String("other-owner")) && ::geteuid() != 0)
            QSKIP("needs root to give a directory to another user");
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString runtimeDir = home.path() + QStringLiteral("/runtime");
        const QString cache = home.path() + QStringLiteral("/cache");
        const QString elsewhere = home.path() + QStringLiteral("/elsewhere");
        QVERIFY(makeDir(runtimeDir, 0700));
        QVERIFY(makeDir(elsewhere, 0700));
        const bool useCache = setup.startsWith(QLatin1String("cache"));
        const QString keyloopDir = useCache ? cache + QStringLiteral("/keyloop") : runtimeDir + QStringLiteral("/keyloop");
        const QString appDir = useCache ? keyloopDir + QStringLiteral("/locks/app") : keyloopDir + QStringLiteral("/app");
        if (setup == QLatin1String("keyloop-symlink")) {
            QVERIFY(QFile::link(elsewhere, keyloopDir));
        } else if (setup == QLatin1String("app-symlink")) {
            QVERIFY(makeDir(keyloopDir, 0700));
            QVERIFY(QFile::link(elsewhere, appDir));
        } else if (setup == QLatin1String("keyloop-file")) {
            QFile file(keyloopDir);
            QVERIFY(file.open(QIODevice::WriteOnly));
        } else if (setup == QLatin1String("keyloop-other-owner")) {
            QVERIFY(makeDir(keyloopDir, 0700));
            QVERIFY(giveAway(keyloopDir));
        } else if (setup == QLatin1String("app-other-owner")) {
            QVERIFY(makeDir(keyloopDir, 0700));
            QVERIFY(makeDir(appDir, 0700));
            QVERIFY(giveAway(appDir));
        } else if (setup == QLatin1String("cache-0777")) {
            QVERIFY(makeDir(cache, 0777));
        } else if (setup == QLatin1String("cache-other-owner")) {
            QVERIFY(makeDir(cache, 0700));
            QVERIFY(giveAway(cache));
        }
        ScopedEnv runtime("XDG_RUNTIME_DIR", useCache ? QByteArray() : QFile::encodeName(runtimeDir));
        ScopedEnv cacheHome("XDG_CACHE_HOME", QFile::encodeName(cache));

        Error error;
        QVERIFY(ProcessLock::lockPath(QStringLiteral("app"), QStringLiteral("secret-session-key"), &error).isEmpty());
        QCOMPARE(error.code(), Error::Code::InsecureLockDirectory);
        QCOMPARE(error.domain(), Error::Domain::Storage);
        QVERIFY(!error.isTransient());
        QVERIFY(!error.message().contains(QLatin1String("secret-session-key")));
        QVERIFY(QDir(elsewhere).isEmpty()); // nothing created through a symlink

        // A lock there fails with the same typed error, asynchronously.
        ProcessLock lock(QStringLiteral("app"), QStringLiteral("secret-session-key"));
        QSignalSpy failed(&lock, &ProcessLock::failed);
        lock.acquire();
        QCOMPARE(failed.count(), 0);
        QVERIFY(failed.wait(2000));
        QCOMPARE(failed.first().first().value<Error>().code(), Error::Code::InsecureLockDirectory);
        QVERIFY(!lock.isLocked());
    }

    // Directories of ours with a wider mode (older versions created `keyloop` with the umask's
    // mode) are narrowed to 0700, not refused.
    void narrowsTheModeOfItsOwnDirectories()
    {
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString runtimeDir = home.path() + QStringLiteral("/runtime");
        QVERIFY(makeDir(runtimeDir, 0700));
        QVERIFY(makeDir(runtimeDir + QStringLiteral("/keyloop"), 0775));
        ScopedEnv runtime("XDG_RUNTIME_DIR", QFile::encodeName(runtimeDir));
        Error error;
        QVERIFY(!ProcessLock::lockPath(QStringLiteral("app"), QStringLiteral("k"), &error).isEmpty());
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(isOwnerOnly(runtimeDir + QStringLiteral("/keyloop")));
        QVERIFY(isOwnerOnly(runtimeDir + QStringLiteral("/keyloop/app")));
    }

    void acquiredIsQueuedEvenWhenFree()
    {
        ProcessLock lock(ProcessLock::lockPath(QStringLiteral("t"), QStringLiteral("free")));
        QSignalSpy acquired(&lock, &ProcessLock::acquired);
        lock.acquire();
        QCOMPARE(acquired.count(), 0);
        QVERIFY(acquired.wait(2000));
        QVERIFY(lock.isLocked());
        lock.release();
        QVERIFY(!lock.isLocked());
    }

    void secondHolderWaitsUntilRelease()
    {
        const QString path = ProcessLock::lockPath(QStringLiteral("t"), QStringLiteral("contended"));
        ProcessLock first(path);
        ProcessLock second(path);
        QSignalSpy firstAcquired(&first, &ProcessLock::acquired);
        QSignalSpy secondAcquired(&second, &ProcessLock::acquired);
        QSignalSpy secondFailed(&second, &ProcessLock::failed);
        first.acquire();
        QVERIFY(firstAcquired.wait(2000));
        second.acquire(5s);
        // The second keeps polling while the first holds the lock. A third waiter that gives
        // up after 100 ms is the later event to wait for: by then the second, polling at the
        // same interval since before, has tried several times too, and must still be waiting.
        ProcessLock third(path);
        QSignalSpy thirdFailed(&third, &ProcessLock::failed);
        third.acquire(100ms);
        QVERIFY(thirdFailed.wait(3000));
        QCOMPARE(secondAcquired.count(), 0);
        QCOMPARE(secondFailed.count(), 0);
        first.release();
        QVERIFY(secondAcquired.wait(2000));
        QVERIFY(second.isLocked());
    }

    void timesOutWithTransientError()
    {
        const QString path = ProcessLock::lockPath(QStringLiteral("t"), QStringLiteral("timeout"));
        ProcessLock holder(path);
        QSignalSpy held(&holder, &ProcessLock::acquired);
        holder.acquire();
        QVERIFY(held.wait(2000));
        ProcessLock waiter(path);
        QSignalSpy failed(&waiter, &ProcessLock::failed);
        waiter.acquire(100ms);
        QVERIFY(failed.wait(3000));
        const Error e = failed.first().first().value<Error>();
        QCOMPARE(e.code(), Error::Code::StorageFailed);
        QVERIFY(e.isTransient());
        QVERIFY(!waiter.isLocked());
    }

    void recoversLockOfDeadProcess()
    {
        const QString path = ProcessLock::lockPath(QStringLiteral("t"), QStringLiteral("stale"));
        // A lock file in QLockFile's format naming a process that does not exist.
        QProcess p;
        p.start(QStringLiteral("true"));
        QVERIFY(p.waitForFinished(5000)); // test code may block
        const qint64 deadPid = p.processId() ? p.processId() : 999999;
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::number(deadPid) + "\n" + QCoreApplication::applicationName().toUtf8() + "\n"
                + QSysInfo::machineHostName().toUtf8() + "\n");
        f.close();
        ProcessLock lock(path);
        QSignalSpy acquired(&lock, &ProcessLock::acquired);
        lock.acquire(3s);
        QVERIFY(acquired.wait(3000));
    }

    void recoversLockOlderThanStaleTime()
    {
        const QString path = ProcessLock::lockPath(QStringLiteral("t"), QStringLiteral("old"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // Our own (live) PID, but older than the stale time.
        f.write(QByteArray::number(QCoreApplication::applicationPid()) + "\nother-app\n"
                + QSysInfo::machineHostName().toUtf8() + "\n");
        f.close();
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.setFileTime(QDateTime::currentDateTimeUtc().addSecs(-600), QFileDevice::FileModificationTime));
        f.close();
        ProcessLock lock(path);
        lock.setStaleLockTime(1s);
        QSignalSpy acquired(&lock, &ProcessLock::acquired);
        lock.acquire(3s);
        QVERIFY(acquired.wait(3000));
    }
};

QTEST_GUILESS_MAIN(TestProcessLock)
#include "tst_processlock.moc"
