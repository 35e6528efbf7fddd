// SPDX-License-Identifier: MIT
#include "core/logging_p.h"

namespace Keyloop {
Q_LOGGING_CATEGORY(lcCore, "keyloop.core", QtWarningMsg)
Q_LOGGING_CATEGORY(lcDiscovery, "keyloop.discovery", QtWarningMsg)
Q_LOGGING_CATEGORY(lcAuthorization, "keyloop.authorization", QtWarningMsg)
Q_LOGGING_CATEGORY(lcRedirect, "keyloop.redirect", QtWarningMsg)
Q_LOGGING_CATEGORY(lcToken, "keyloop.token", QtWarningMsg)
Q_LOGGING_CATEGORY(lcJose, "keyloop.jose", QtWarningMsg)
Q_LOGGING_CATEGORY(lcStore, "keyloop.store", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSession, "keyloop.session", QtWarningMsg)
Q_LOGGING_CATEGORY(lcNetwork, "keyloop.network", QtWarningMsg)
Q_LOGGING_CATEGORY(lcHttp, "keyloop.http", QtWarningMsg)
} // namespace Keyloop
