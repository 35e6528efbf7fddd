// SPDX-License-Identifier: MIT
// One exit-code table for the whole CLI (documented in --help and the README).
#pragma once

#include <keyloop/error.h>

namespace KeyloopCli {

enum ExitCode : int {
    ExitOk = 0,
    ExitUsage = 2,          ///< usage or configuration error
    ExitAuthorization = 3,  ///< authorization failed, or the user must sign in again
    ExitStorage = 4,        ///< the OS keychain is unavailable or failed
    ExitNetwork = 5,        ///< network trouble, provider unreachable or failing (5xx)
    ExitHttp = 6,           ///< an API answered with an HTTP error
    ExitCancelled = 130,    ///< cancelled (Ctrl-C)
};

inline int exitCodeFor(const Keyloop::Error &error)
{
    using Keyloop::Error;
    if (error.isNull())
        return ExitOk;
    switch (error.domain()) {
    case Error::Domain::None: return ExitOk;
    case Error::Domain::Configuration: return ExitUsage;
    case Error::Domain::Network: return ExitNetwork;
    case Error::Domain::Storage:
        return error.code() == Error::Code::NotFound ? ExitAuthorization : ExitStorage;
    case Error::Domain::Cancelled: return ExitCancelled;
    case Error::Domain::OAuth:
        return error.isTransient() ? ExitNetwork : ExitAuthorization;
    case Error::Domain::Protocol:
    case Error::Domain::Jose:
    case Error::Domain::IdToken:
    case Error::Domain::Session:
        return ExitAuthorization;
    }
    return ExitAuthorization;
}

inline const char *exitCodeTable()
{
    return "Exit codes:\n"
           "  0    ok\n"
           "  2    usage or configuration error\n"
           "  3    authorization failed, or you must sign in again\n"
           "  4    secure storage (OS keychain) unavailable\n"
           "  5    network error, provider unreachable or failing\n"
           "  6    HTTP error from an API\n"
           "  130  cancelled\n";
}

} // namespace KeyloopCli
