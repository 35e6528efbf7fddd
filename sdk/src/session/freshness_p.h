// SPDX-License-Identifier: MIT
// When is an access token fresh enough to hand out? Private to the SDK.
#pragma once

#include <keyloop/sessionrecord.h>

#include <QtCore/QDateTime>

#include <algorithm>
#include <chrono>

namespace Keyloop::Freshness {

/// The lead time actually used for \a token: \a leadTime, capped at half the token's
/// lifetime (expiresAt − issuedAt), so that a 2-second token is not "stale from birth".
inline std::chrono::milliseconds effectiveLeadTime(const SessionAccessToken &token, std::chrono::milliseconds leadTime)
{
    if (token.issuedAt.isValid() && token.expiresAt.isValid()) {
        const std::chrono::milliseconds lifetime(token.issuedAt.msecsTo(token.expiresAt));
        if (lifetime.count() > 0)
            return std::min(leadTime, lifetime / 2);
        return std::chrono::milliseconds(0);
    }
    return leadTime;
}

/// True when \a token can be handed out at \a now (wall clock): present, and either without
/// a known expiry (RFC 6749 §5.1: expires_in is only RECOMMENDED) or with more than the
/// effective lead time left.
inline bool isFresh(const SessionAccessToken &token, const QDateTime &now, std::chrono::milliseconds leadTime)
{
    if (token.isNull())
        return false;
    if (!token.expiresAt.isValid())
        return true;
    const std::chrono::milliseconds left(now.msecsTo(token.expiresAt));
    return left > effectiveLeadTime(token, leadTime);
}

} // namespace Keyloop::Freshness
