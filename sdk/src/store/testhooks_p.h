// SPDX-License-Identifier: MIT
// Test-build-only crash points. With KEYLOOP_TEST_HOOKS defined (cmake -DKEYLOOP_TEST_HOOKS=ON,
// never for releases), testKillPoint("name") raises SIGKILL when the environment variable
// KEYLOOP_TEST_KILL_AT equals "name". Without the define it compiles to nothing.
//
// Named points (between receiving and saving tokens):
//   after-refresh-response  — session: token response received, nothing saved yet
//   after-main-chunks       — keychain store: a chunked main item's chunks written, its head not yet
//   after-main-write        — keychain store: main item (refresh token) written
//   after-secondary-chunks  — keychain store: a chunked secondary item's chunks written, its head not yet
//   after-secondary-write   — keychain store: an access-token / ID-token item written
//   before-unlock           — session: everything saved, cross-process lock still held
#pragma once

#if defined(KEYLOOP_TEST_HOOKS)
#  include <QtCore/QByteArray>
#  include <csignal>
#endif

namespace Keyloop {

#if defined(KEYLOOP_TEST_HOOKS)
inline void testKillPoint(const char *name)
{
    static const QByteArray wanted = qgetenv("KEYLOOP_TEST_KILL_AT");
    if (!wanted.isEmpty() && wanted == name)
        std::raise(SIGKILL);
}
#else
inline void testKillPoint(const char *) {}
#endif

} // namespace Keyloop
