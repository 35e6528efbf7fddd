// SPDX-License-Identifier: MIT
// ProcessLock: QLockFile acquired by polling tryLock(0), with contention, timeout and
// recovery of a lock left by a dead process.
#include "store/processlock_p.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

class TestProcessLock : public QObject
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
        // The second keeps polling while the first holds the lock: no acquired() may come.
        QVERIFY(!secondAcquired.wait(100));
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
