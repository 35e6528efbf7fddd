// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

namespace Keyloop {

/*!
 * \brief The host written into the loopback redirect URI (RFC 8252 §7.3, §8.3).
 *
 * Providers disagree on which loopback host they accept, so it is selectable.
 * The listener never binds all interfaces.
 */
enum class RedirectHost {
    Ipv4,      ///< `http://127.0.0.1:PORT/path` (default; RFC 8252 §8.3 recommends the IP literal)
    Localhost, ///< `http://localhost:PORT/path`; listens on 127.0.0.1 and [::1] on the same port
    Ipv6,      ///< `http://[::1]:PORT/path`
};

} // namespace Keyloop
