// SPDX-License-Identifier: MIT
// Logging categories of the SDK. Debug output is off by default; enable with
// QT_LOGGING_RULES="keyloop.*.debug=true" (the CLI's --verbose does this).
// Rule for every log line: log events, never values of tokens, codes, verifiers,
// secrets, state/nonce or full redirect URLs.
#pragma once

#include <QtCore/QLoggingCategory>

namespace Keyloop {
Q_DECLARE_LOGGING_CATEGORY(lcCore)          // keyloop.core
Q_DECLARE_LOGGING_CATEGORY(lcDiscovery)     // keyloop.discovery
Q_DECLARE_LOGGING_CATEGORY(lcAuthorization) // keyloop.authorization
Q_DECLARE_LOGGING_CATEGORY(lcRedirect)      // keyloop.redirect
Q_DECLARE_LOGGING_CATEGORY(lcToken)         // keyloop.token
Q_DECLARE_LOGGING_CATEGORY(lcJose)          // keyloop.jose
Q_DECLARE_LOGGING_CATEGORY(lcStore)         // keyloop.store
Q_DECLARE_LOGGING_CATEGORY(lcSession)       // keyloop.session
Q_DECLARE_LOGGING_CATEGORY(lcNetwork)       // keyloop.network
Q_DECLARE_LOGGING_CATEGORY(lcHttp)          // keyloop.http
} // namespace Keyloop
