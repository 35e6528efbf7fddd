// SPDX-License-Identifier: MIT
// When is an access token fresh enough to hand out? Private to the SDK.
#pragma once

#include <keyloop/sessionrecord.h>

#include "core/crypto_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

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

/*!
 * The lifetime of a raw ID token (a JWS, OIDC Core §2): its `iat` as issuedAt and its `exp` as
 * expiresAt, read from the payload without verifying anything — the session validated the
 * token when it received it (at sign-in, or after a refresh, §12.2). The result is null (no
 * token) when \a idToken is not a JWS with a JSON payload, and has no expiresAt when `exp` is
 * not a NumericDate (RFC 7519 §2): such a token is never fresh.
 */
inline SessionAccessToken idTokenLifetime(const QByteArray &idToken)
{
    SessionAccessToken out;
    const QList<QByteArray> parts = idToken.split('.');
    if (parts.size() != 3)
        return out;
    const std::optional<QByteArray> payload = Crypto::base64UrlDecode(parts.at(1));
    if (!payload)
        return out;
    const QJsonObject claims = QJsonDocument::fromJson(*payload).object();
    if (claims.isEmpty())
        return out;
    out.token = idToken;
    const auto time = [&claims](const char *name) {
        const QJsonValue v = claims.value(QLatin1String(name));
        return v.isDouble() && v.toDouble() > 0
            ? QDateTime::fromMSecsSinceEpoch(qint64(v.toDouble() * 1000), Qt::UTC)
            : QDateTime();
    };
    out.issuedAt = time("iat");
    out.expiresAt = time("exp");
    return out;
}

/// True when \a idToken can be handed out at \a now: it has an `exp` (OIDC Core §2: REQUIRED)
/// with more than the effective lead time left (\a leadTime capped at half of exp − iat, as
/// for access tokens).
inline bool isIdTokenFresh(const QByteArray &idToken, const QDateTime &now, std::chrono::milliseconds leadTime)
{
    const SessionAccessToken lifetime = idTokenLifetime(idToken);
    return !lifetime.isNull() && lifetime.expiresAt.isValid() && isFresh(lifetime, now, leadTime);
}

} // namespace Keyloop::Freshness
