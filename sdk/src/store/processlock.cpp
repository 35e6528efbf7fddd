// SPDX-License-Identifier: MIT
#include "store/processlock_p.h"

#include "core/logging_p.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QStandardPaths>

#include <unistd.h>

namespace Keyloop {

namespace {

bool ensurePrivateDir(const QString &path)
{
    QDir dir;
    if (!dir.mkpath(path))
        return false;
    QFileInfo info(path);
    // The lock directory must be ours and not writable by others.
    if (!info.isDir() || info.ownerId() != ::getuid())
        return false;
    return QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

QString safeComponent(const QString &s)
{
    QString out;
    for (const QChar c : s) {
        const bool ok = c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_';
        out += (ok && c.unicode() < 128) ? c : QChar(u'_');
    }
    return out.isEmpty() ? QStringLiteral("_") : out.left(100);
}

} // namespace

ProcessLock::ProcessLock(const QString &path, QObject *parent) : QObject(parent), m_path(path)
{
    m_timer.setInterval(15);
    connect(&m_timer, &QTimer::timeout, this, &ProcessLock::poll);
}

ProcessLock::~ProcessLock()
{
    release();
}

QString ProcessLock::lockPath(const QString &appId, const QString &name)
{
    QString base = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
    if (base.isEmpty() || !QFileInfo(base).isDir())
        base = QDir::tempPath() + QStringLiteral("/keyloop-%1").arg(::getuid());
    const QString dir = base + QStringLiteral("/keyloop/") + safeComponent(appId);
    if (!ensurePrivateDir(base) && base.startsWith(QDir::tempPath()))
        return QString();
    if (!ensurePrivateDir(dir))
        return QString();
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
        QTimer::singleShot(0, this, [this] {
            Q_EMIT failed(Error(Error::Code::StorageFailed, QStringLiteral("no directory for the session lock file")));
        });
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
