// SPDX-License-Identifier: MIT
#include "store/processlock_p.h"

#include "core/logging_p.h"
#include "store/lockdirectory_p.h"

#include <QtCore/QCryptographicHash>

namespace Keyloop {

ProcessLock::ProcessLock(const QString &path, QObject *parent) : QObject(parent), m_path(path)
{
    m_timer.setInterval(15);
    connect(&m_timer, &QTimer::timeout, this, &ProcessLock::poll);
}

ProcessLock::ProcessLock(const QString &appId, const QString &name, QObject *parent)
    : ProcessLock(QString(), parent)
{
    m_path = lockPath(appId, name, &m_pathError);
}

ProcessLock::~ProcessLock()
{
    release();
}

QString ProcessLock::lockPath(const QString &appId, const QString &name, Error *error)
{
    Error why;
    const QString dir = LockDirectory::forApp(appId, &why);
    if (error)
        *error = why;
    if (dir.isEmpty()) {
        qCDebug(lcStore) << "no safe directory for lock files:" << why;
        return QString();
    }
    const QByteArray hash = QCryptographicHash::hash(name.toUtf8(), QCryptographicHash::Sha256).toHex().left(32);
    return dir + QLatin1Char('/') + QString::fromLatin1(hash) + QStringLiteral(".lock");
}

QString ProcessLock::path() const { return m_path; }
bool ProcessLock::isLocked() const { return m_locked; }
std::chrono::milliseconds ProcessLock::staleLockTime() const { return m_staleTime; }
void ProcessLock::setStaleLockTime(std::chrono::milliseconds time) { m_staleTime = time; }
void ProcessLock::setPollInterval(std::chrono::milliseconds interval) { m_timer.setInterval(interval); }

void ProcessLock::acquire(std::chrono::milliseconds timeout)
{
    if (m_acquiring)
        return;
    if (m_locked) {
        QTimer::singleShot(0, this, &ProcessLock::acquired);
        return;
    }
    if (m_path.isEmpty()) {
        const Error error = m_pathError ? m_pathError
                                        : Error(Error::Code::StorageFailed, QStringLiteral("no directory for the session lock file"));
        QTimer::singleShot(0, this, [this, error] { Q_EMIT failed(error); });
        return;
    }
    m_lock = std::make_unique<QLockFile>(m_path);
    m_lock->setStaleLockTime(m_staleTime);
    m_timeout = timeout;
    m_acquiring = true;
    m_reportedBusy = false;
    m_elapsed.start();
    // First attempt from the event loop too, so that acquired()/failed() are always queued.
    QTimer::singleShot(0, this, &ProcessLock::poll);
    m_timer.start();
}

void ProcessLock::poll()
{
    if (!m_acquiring)
        return;
    if (m_lock->tryLock(0)) { // never blocks
        m_acquiring = false;
        m_locked = true;
        m_timer.stop();
        qCDebug(lcStore) << "session lock acquired";
        Q_EMIT acquired();
        return;
    }
    const QLockFile::LockError e = m_lock->error();
    if (e == QLockFile::LockFailedError && !m_reportedBusy) {
        m_reportedBusy = true;
        qCDebug(lcStore) << "session lock held by another process; waiting";
    }
    if (e == QLockFile::PermissionError || e == QLockFile::UnknownError || m_elapsed.elapsed() >= m_timeout.count()) {
        m_acquiring = false;
        m_timer.stop();
        m_lock.reset();
        Error error = e == QLockFile::LockFailedError
            ? Error(Error::Code::StorageFailed, QStringLiteral("timed out waiting for another process's session lock"))
            : Error(Error::Code::StorageFailed, QStringLiteral("cannot create the session lock file"));
        error.setTransient(e == QLockFile::LockFailedError);
        qCDebug(lcStore) << "session lock not acquired";
        Q_EMIT failed(error);
    }
}

void ProcessLock::release()
{
    m_timer.stop();
    m_acquiring = false;
    if (m_lock && m_locked)
        m_lock->unlock();
    m_locked = false;
    m_lock.reset();
}

} // namespace Keyloop
