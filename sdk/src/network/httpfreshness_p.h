// SPDX-License-Identifier: MIT
// How long a fetched document may be used without fetching it again (RFC 9111 §4.2), bounded.
// Shared by the JWKS cache and discovery. Private to the SDK.
#pragma once

#include <QtCore/QByteArray>

#include <chrono>

namespace Keyloop::HttpFreshness {

/// The bounds Keyloop applies to provider metadata and keys: a hostile or misconfigured server
/// can neither make every start refetch (less than 5 minutes) nor pin a document for ever
/// (more than 24 hours); without caching headers, 1 hour.
constexpr std::chrono::seconds kDefaultLifetime{3600};
constexpr std::chrono::seconds kMinimumLifetime{300};
constexpr std::chrono::seconds kMaximumLifetime{86400};

/*!
 * The freshness lifetime of a response with these \a cacheControl and \a expires header values
 * (empty when absent), received at \a now: `Cache-Control: max-age` (RFC 9111 §5.2.2.1), else
 * `Expires` minus now (§5.3; an invalid date means already expired), else \a defaultLifetime;
 * `no-cache` counts as 0 (we do not revalidate). The result is clamped to [\a minimum,
 * max(\a minimum, \a maximum)]. \a noStore (optional) says whether `no-store` was present: the
 * caller must then not keep the document at all.
 */
std::chrono::seconds lifetime(const QByteArray &cacheControl, const QByteArray &expires,
                              std::chrono::system_clock::time_point now,
                              std::chrono::seconds defaultLifetime = kDefaultLifetime,
                              std::chrono::seconds minimum = kMinimumLifetime,
                              std::chrono::seconds maximum = kMaximumLifetime, bool *noStore = nullptr);

} // namespace Keyloop::HttpFreshness
