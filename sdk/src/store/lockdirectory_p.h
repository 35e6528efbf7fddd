// SPDX-License-Identifier: MIT
// Where the cross-process lock files live: a directory private to this user. Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QString>

namespace Keyloop::LockDirectory {

/*!
 * The directory for the lock files of the app \a appId, created if needed:
 *
 * - `$XDG_RUNTIME_DIR/keyloop/<app id>` when `$XDG_RUNTIME_DIR` is set and is what the XDG Base
 *   Directory spec promises (a directory owned by this user, mode 0700);
 * - otherwise `<cache dir>/keyloop/locks/<app id>` (QStandardPaths::GenericCacheLocation:
 *   `$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS), which must be owned
 *   by this user and writable by nobody else.
 *
 * Never a shared temporary directory such as `/tmp`, where another user could create the path
 * first. Each directory below that base must be a real directory (a symlink is refused, not
 * followed) owned by this user; it is created with mode 0700, and an existing one of ours with a
 * wider mode is narrowed to 0700.
 *
 * On failure the result is empty and \a error says why: Error::Code::InsecureLockDirectory for a
 * directory of another user, a symlink, something that is not a directory, or a base that others
 * may write to; Error::Code::StorageFailed when a directory cannot be created or opened.
 * Messages name the directory, which holds no secret.
 */
QString forApp(const QString &appId, Error *error);

/// \a appId as one path component: ASCII letters, digits, '.', '-' and '_' (everything else
/// becomes '_'), at most 100 characters, never empty, "." or "..".
QString safeComponent(const QString &appId);

} // namespace Keyloop::LockDirectory
