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
//
// testPausePoint("name") stops the process (event loop included) when KEYLOOP_TEST_PAUSE_AT
// equals "name" and KEYLOOP_TEST_PAUSE_FILE names a file: it creates "<file>.paused", then
// waits (at most 60 s) until the test deletes <file>. Used to hold a process at a point while
// another process runs (e.g. `keyloop token` paused after the refresh response, holding the
// account lock, while `keyloop logout` runs). Named points:
//   after-refresh-response  — session: token response received, nothing saved yet
#pragma once

#if defined(KEYLOOP_TEST_HOOKS)
#  include <QtCore/QByteArray>
#  include <QtCore/QElapsedTimer>
#  include <QtCore/QFile>
#  include <QtCore/QThread>
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

inline void testPausePoint(const char *name)
{
    static const QByteArray wanted = qgetenv("KEYLOOP_TEST_PAUSE_AT");
    const QString file = qEnvironmentVariable("KEYLOOP_TEST_PAUSE_FILE");
    if (wanted.isEmpty() || wanted != name || file.isEmpty())
        return;
    QFile marker(file + QStringLiteral(".paused"));
    if (!marker.open(QIODevice::WriteOnly))
        return;
    marker.close();
    QElapsedTimer elapsed;
    elapsed.start();
    // A deliberate blocking wait: this is the pause (test builds only).
    while (QFile::exists(file) && elapsed.elapsed() < 60000)
        QThread::msleep(5);
}
#else
inline void testKillPoint(const char *) {}
inline void testPausePoint(const char *) {}
#endif

} // namespace Keyloop
