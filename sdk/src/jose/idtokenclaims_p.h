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

    /// The string claims the validator checked are kept as their raw JSON text in payload and
    /// decoded only when asked for (validation compares bytes and builds no QString). A claim
    /// without a raw span uses the field below (set directly, e.g. by Session). The spans index
    /// payload: once one is set, payload must not change.
    enum RawClaim { RawSubject, RawAudience, RawAuthorizedParty, RawNonce, RawAccessTokenHash, RawClaimCount };
    struct RawSpan
    {
        qsizetype offset = -1; ///< into payload; -1: not set
        qsizetype size = 0;
    };
    void setRaw(RawClaim which, QByteArrayView value)
    {
        m_raw[which].offset = value.data() - payload.constData();
        m_raw[which].size = value.size();
    }
    QString subjectValue() const { return rawString(RawSubject, subject); }
    QStringList audienceValues() const;
    QString authorizedPartyValue() const { return rawString(RawAuthorizedParty, authorizedParty); }
    QString nonceValue() const { return rawString(RawNonce, nonce); }
    QString accessTokenHashValue() const { return rawString(RawAccessTokenHash, accessTokenHash); }

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
    QString rawString(RawClaim which, const QString &field) const;

    RawSpan m_raw[RawClaimCount];
    mutable QMutex m_mutex;
    mutable bool m_built = false;
    mutable QJsonObject m_claims;
};

} // namespace Keyloop
