// SPDX-License-Identifier: MIT
// Mapping of QtKeychain 0.13 errors to Keyloop errors. Private to the SDK.
#pragma once

#include <keyloop/error.h>

namespace Keyloop {

/// Maps QKeychain::Error \a keychainCode with its \a errorString to a Keyloop error for the
/// operation named \a what ("read", "write", "delete"): NoBackendAvailable, AccessDenied,
/// AccessDeniedByUser, NotImplemented and OtherError from D-Bus / the secret service
/// (no bus, no org.freedesktop.secrets, locked collection, prompt) → StorageUnavailable;
/// EntryNotFound → NotFound; anything else → StorageFailed. Null for NoError.
Error keychainError(int keychainCode, const QString &errorString, const QString &what);

} // namespace Keyloop
