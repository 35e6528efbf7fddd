// SPDX-License-Identifier: MIT
// Cross-process lock per account (and per app, for the account index). Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QLockFile>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <chrono>
#include <memory>

namespace Keyloop {

/*!
 * A QLockFile acquired asynchronously: tryLock(0) polled from a QTimer, never the blocking
 * lock() / tryLock(ms). QLockFile recovers a lock whose holder process died (its PID no
 * longer runs) and treats a lock older than staleLockTime() as abandoned.
 *
 * acquire() emits exactly one of acquired() / failed(Error) — always asynchronously
 * (queued), also when the lock is free. The lock is held until release() or destruction.
 */
class ProcessLock : public QObject
{
    Q_OBJECT
public:
    /// A lock on the file at \a path.
    explicit ProcessLock(const QString &path, QObject *parent = nullptr);
    /// The lock of \a name (e.g. a session key) of the app \a appId, at lockPath(). When there
    /// is no safe place for it, acquire() fails with the reason (e.g. InsecureLockDirectory).
    ProcessLock(const QString &appId, const QString &name, QObject *parent = nullptr);
    ~ProcessLock() override;

    /// The lock file of \a name of the app \a appId:
    /// `<lock directory>/<first 32 hex digits of sha256(name)>.lock`, in the app's private
    /// lock directory (store/lockdirectory_p.h: under $XDG_RUNTIME_DIR, else the user's cache
    /// directory; never a shared temp directory). Creates and checks the directories. Empty on
    /// failure, with the reason in \a error (InsecureLockDirectory or StorageFailed).
    static QString lockPath(const QString &appId, const QString &name, Error *error = nullptr);

    QString path() const;
    bool isLocked() const;

    /// A held lock older than this is considered abandoned (default 120 s, longer than a
    /// refresh with its retries can take).
    std::chrono::milliseconds staleLockTime() const;
    void setStaleLockTime(std::chrono::milliseconds time);
    /// Polling interval (default 15 ms).
    void setPollInterval(std::chrono::milliseconds interval);

    /// Starts acquiring; gives up after \a timeout with a StorageFailed error (transient).
    void acquire(std::chrono::milliseconds timeout = std::chrono::seconds(45));
    void release();

Q_SIGNALS:
    void acquired();
    void failed(const Keyloop::Error &error);

private:
    void poll();

    QString m_path;
    Error m_pathError; ///< why there is no path
    std::unique_ptr<QLockFile> m_lock;
    QTimer m_timer;
    QElapsedTimer m_elapsed;
    std::chrono::milliseconds m_timeout{0};
    std::chrono::milliseconds m_staleTime{std::chrono::seconds(120)};
    bool m_locked = false;
    bool m_acquiring = false;
    bool m_reportedBusy = false;
};

} // namespace Keyloop
