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
    explicit ProcessLock(const QString &path, QObject *parent = nullptr);
    ~ProcessLock() override;

    /// The lock file of \a name (e.g. a session key) of the app \a appId:
    /// `<runtime dir>/keyloop/<app id>/<sha256(name) hex>.lock`, where the runtime dir is
    /// QStandardPaths::RuntimeLocation, or `<temp>/keyloop-<uid>` (0700) when there is none.
    /// Creates the directories (0700). Empty on failure.
    static QString lockPath(const QString &appId, const QString &name);

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
