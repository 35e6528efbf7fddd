// SPDX-License-Identifier: MIT
#include "store/lockdirectory_p.h"

#include "core/logging_p.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QMutex>
#include <QtCore/QStandardPaths>
#include <QtCore/QStringList>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Keyloop::LockDirectory {

namespace {

constexpr mode_t kPrivateMode = S_IRWXU; // 0700

Error insecure(const QString &what)
{
    return Error(Error::Code::InsecureLockDirectory, QStringLiteral("lock directory %1").arg(what));
}

Error failed(const QString &what, int errorNumber)
{
    return Error(Error::Code::StorageFailed,
                 QStringLiteral("lock directory %1 (%2)").arg(what, QString::fromLocal8Bit(std::strerror(errorNumber))));
}

enum class Symlink { Refuse, Follow };

// The base directory ($XDG_RUNTIME_DIR or the cache directory) must be a directory of this
// user in which no other user may create, rename or delete entries (\a forbidden: the mode
// bits refused). $XDG_RUNTIME_DIR must not be a symlink; the cache directory may be one (a
// user's ~/.cache often is, and it lives in the home directory).
Error checkBase(const QString &path, mode_t forbidden, Symlink symlink)
{
    struct stat st = {};
    const QByteArray native = QFile::encodeName(path);
    if ((symlink == Symlink::Follow ? ::stat(native.constData(), &st) : ::lstat(native.constData(), &st)) != 0)
        return failed(QStringLiteral("base %1 cannot be read").arg(path), errno);
    if (S_ISLNK(st.st_mode))
        return insecure(QStringLiteral("base %1 is a symlink").arg(path));
    if (!S_ISDIR(st.st_mode))
        return insecure(QStringLiteral("base %1 is not a directory").arg(path));
    if (st.st_uid != ::geteuid())
        return insecure(QStringLiteral("base %1 belongs to another user").arg(path));
    if (st.st_mode & forbidden)
        return insecure(QStringLiteral("base %1 is open to other users (mode %2)")
                            .arg(path)
                            .arg(st.st_mode & 07777, 4, 8, QLatin1Char('0')));
    return {};
}

// One directory inside a checked parent: created 0700 if missing, then opened without
// following a symlink and checked through the open descriptor (no race between the check
// and the use: nobody else can write to the parent, so nobody can swap the entry later).
Error ensurePrivate(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    if (::mkdir(native.constData(), kPrivateMode) != 0 && errno != EEXIST)
        return failed(QStringLiteral("%1 cannot be created").arg(path), errno);
    const int fd = ::open(native.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == ELOOP || e == ENOTDIR)
            return insecure(QStringLiteral("%1 is a symlink or not a directory").arg(path));
        return failed(QStringLiteral("%1 cannot be opened").arg(path), e);
    }
    struct stat st = {};
    Error error;
    if (::fstat(fd, &st) != 0)
        error = failed(QStringLiteral("%1 cannot be read").arg(path), errno);
    else if (!S_ISDIR(st.st_mode))
        error = insecure(QStringLiteral("%1 is not a directory").arg(path));
    else if (st.st_uid != ::geteuid())
        error = insecure(QStringLiteral("%1 belongs to another user").arg(path));
    else if ((st.st_mode & 07777) != kPrivateMode && ::fchmod(fd, kPrivateMode) != 0)
        error = failed(QStringLiteral("%1 cannot be made private").arg(path), errno);
    ::close(fd);
    return error;
}

// Creates the missing directories of \a path (the cache base) with mode 0700.
bool makeBase(const QString &path)
{
    if (QDir(path).exists())
        return true;
    const QString parent = QDir::cleanPath(path + QStringLiteral("/.."));
    if (parent == path || !makeBase(parent))
        return false;
    return ::mkdir(QFile::encodeName(path).constData(), kPrivateMode) == 0 || errno == EEXIST;
}

struct Base
{
    QString path;
    QStringList below; ///< the directories under the base, ending with the app's
};

} // namespace

QString safeComponent(const QString &appId)
{
    QString out;
    for (const QChar c : appId) {
        const bool ok = c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_';
        out += (ok && c.unicode() < 128) ? c : QChar(u'_');
    }
    out = out.left(100);
    if (out.isEmpty() || out == QLatin1String(".") || out == QLatin1String(".."))
        out.prepend(u'_');
    return out;
}

QString forApp(const QString &appId, Error *error)
{
    const QString app = safeComponent(appId);
    Base base;
    // XDG Base Directory spec: $XDG_RUNTIME_DIR "MUST be owned by the user, and he MUST be the
    // only one having read and write access to it. Its Unix access mode MUST be 0700."
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QDir::isAbsolutePath(runtime)) {
        if (const Error e = checkBase(runtime, S_IRWXG | S_IRWXO, Symlink::Refuse)) {
            // E.g. a variable inherited across su/sudo. Qt would fall back to /tmp/runtime-<user>,
            // which another user can create first; the cache directory is ours. Said once per
            // value, not at every refresh.
            static QMutex mutex;
            static QString warnedFor;
            const QMutexLocker locker(&mutex);
            if (warnedFor != runtime) {
                warnedFor = runtime;
                qCWarning(lcStore).noquote() << "$XDG_RUNTIME_DIR is not usable for lock files:" << e.message()
                                             << "- using the cache directory instead";
            }
        } else {
            base = Base{runtime, {QStringLiteral("keyloop"), app}};
        }
    }
    if (base.path.isEmpty()) {
        // The spec's "replacement directory with similar capabilities": private, in the home
        // directory, never a shared temporary directory.
        const QString cache = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
        if (cache.isEmpty() || !QDir::isAbsolutePath(cache)) {
            *error = Error(Error::Code::StorageFailed,
                           QStringLiteral("no directory for lock files: neither $XDG_RUNTIME_DIR nor a home directory"));
            return QString();
        }
        if (!makeBase(cache)) {
            *error = failed(QStringLiteral("base %1 cannot be created").arg(cache), errno);
            return QString();
        }
        if (Error e = checkBase(cache, S_IWGRP | S_IWOTH, Symlink::Follow)) {
            *error = e;
            return QString();
        }
        base = Base{cache, {QStringLiteral("keyloop"), QStringLiteral("locks"), app}};
    }

    QString path = base.path;
    for (const QString &component : std::as_const(base.below)) {
        path += QLatin1Char('/') + component;
        if (Error e = ensurePrivate(path)) {
            *error = e;
            return QString();
        }
    }
    *error = Error();
    return path;
}

} // namespace Keyloop::LockDirectory
