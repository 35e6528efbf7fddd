// SPDX-License-Identifier: MIT
// Shared pieces of the commands that work on stored sessions.
#pragma once

#include "command.h"

#include <keyloop/accountindex.h>
#include <keyloop/clientconfiguration.h>
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

/// Reads --redirect-host and --port into \a config (the loopback redirect URI of login, and the
/// post_logout_redirect_uri of logout --end-session). Returns a usage message, empty when fine.
QString applyRedirectOptions(const QCommandLineParser &parser, Keyloop::ClientConfiguration *config);
/// Adds --redirect-host and --port.
void addRedirectOptions(QCommandLineParser &parser);

} // namespace KeyloopCli
