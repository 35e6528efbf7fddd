// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/idtokenclaims.h>

#include <QtCore/QMutex>
#include <QtCore/QSharedData>

#include <cmath>
#include <limits>

namespace Keyloop {

class IdTokenClaimsPrivate : public QSharedData
{
public:
    static constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

    IdTokenClaimsPrivate() = default;
    IdTokenClaimsPrivate(const IdTokenClaimsPrivate &other);

    static IdTokenClaimsPrivate *get(IdTokenClaims &claims) { return claims.d.data(); }
    static const IdTokenClaimsPrivate *get(const IdTokenClaims &claims) { return claims.d.data(); }
    static IdTokenClaims create(IdTokenClaimsPrivate *d);

    /// The whole claims set, parsed from payload on first use: validation reads only the
    /// claims it checks (straight from the strict scan), so the QJsonObject is built only for
    /// apps that ask for it. Thread-safe.
    QJsonObject claims() const;

    bool valid = false;
    QByteArray payload; ///< the JSON claims set as received (already checked by StrictJson)
    QString issuer;
    QString subject;
    QStringList audiences;
    QString authorizedParty;
    bool hasAuthorizedParty = false;
    QString nonce;
    bool hasNonce = false;
    QString accessTokenHash;
    bool hasAccessTokenHash = false;
    // NumericDates in seconds (may be fractional, RFC 7519 §2); NaN when absent.
    double exp = kAbsent;
    double iat = kAbsent;
    double nbf = kAbsent;
    double authTime = kAbsent;

private:
    mutable QMutex m_mutex;
    mutable bool m_built = false;
    mutable QJsonObject m_claims;
};

} // namespace Keyloop
