// SPDX-License-Identifier: MIT
// Shared pieces of the commands that work on stored sessions.
#pragma once

#include "command.h"

#include <keyloop/accountindex.h>
#include <keyloop/keychaintokenstore.h>

namespace KeyloopCli {

/// The OS keychain store for \a appId (the keychain service name). Never a plaintext fallback.
inline Keyloop::TokenStore *storeFor(const QString &appId, QObject *parent)
{
    return new Keyloop::KeychainTokenStore(appId, parent);
}

/// Picks the stored account matching --account (and --issuer/--client-id when given).
/// Returns NotFound ("sign in first") or InvalidConfiguration ("several match; pass --issuer").
Keyloop::Error findAccount(const QCommandLineParser &parser, const QString &appId,
                           Keyloop::AccountIndexEntry *entry);

} // namespace KeyloopCli
