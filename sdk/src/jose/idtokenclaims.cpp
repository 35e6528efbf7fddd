// SPDX-License-Identifier: MIT
#include <keyloop/idtokenclaims.h>

#include "jose/idtokenclaims_p.h"
#include "core/strictjson_p.h"

#include <QtCore/QDebug>
#include <QtCore/QJsonArray>

#include <algorithm>
#include <iterator>

namespace Keyloop {

IdTokenClaimsPrivate::IdTokenClaimsPrivate(const IdTokenClaimsPrivate &other)
    : QSharedData(other), valid(other.valid), payload(other.payload), issuer(other.issuer),
      subject(other.subject), audiences(other.audiences), authorizedParty(other.authorizedParty),
      hasAuthorizedParty(other.hasAuthorizedParty), nonce(other.nonce), hasNonce(other.hasNonce),
      accessTokenHash(other.accessTokenHash), hasAccessTokenHash(other.hasAccessTokenHash),
      exp(other.exp), iat(other.iat), nbf(other.nbf), authTime(other.authTime)
{
    std::copy(std::begin(other.m_raw), std::end(other.m_raw), std::begin(m_raw));
}

QString IdTokenClaimsPrivate::rawString(RawClaim which, const QString &field) const
{
    const RawSpan &span = m_raw[which];
    if (span.offset < 0)
        return field;
    return StrictJson::decodeString(QByteArrayView(payload).sliced(span.offset, span.size));
}

QStringList IdTokenClaimsPrivate::audienceValues() const
{
    const RawSpan &span = m_raw[RawAudience];
    if (span.offset < 0)
        return audiences;
    const QByteArrayView raw = QByteArrayView(payload).sliced(span.offset, span.size);
    QStringList out;
    if (raw.startsWith('"')) {
        out.append(StrictJson::decodeString(raw));
        return out;
    }
    // An array of strings, checked by the validator.
    StrictJson::Limits limits;
    limits.maxDepth = 16;
    StrictJson::scanElements(raw, limits, [](void *context, const StrictJson::Member &m) {
        if (m.type == StrictJson::ValueType::String)
            static_cast<QStringList *>(context)->append(StrictJson::decodeString(m.value));
    }, &out);
    return out;
}

QJsonObject IdTokenClaimsPrivate::claims() const
{
    QMutexLocker locker(&m_mutex);
    if (!m_built) {
        StrictJson::Limits limits;
        limits.maxDepth = 16;
        m_claims = StrictJson::parseObject(payload, limits).value_or(QJsonObject());
        m_built = true;
    }
    return m_claims;
}

IdTokenClaims IdTokenClaimsPrivate::create(IdTokenClaimsPrivate *d)
{
    // Start from a copy of one shared null value rather than a default-constructed one, whose
    // private would be allocated only to be replaced (create() is on the validation hot path).
    static const IdTokenClaims null;
    IdTokenClaims claims(null);
    claims.d = d;
    return claims;
}

IdTokenClaims::IdTokenClaims() : d(new IdTokenClaimsPrivate) {}
IdTokenClaims::IdTokenClaims(const IdTokenClaims &other) = default;
IdTokenClaims::IdTokenClaims(IdTokenClaims &&other) noexcept = default;
IdTokenClaims &IdTokenClaims::operator=(const IdTokenClaims &other) = default;
IdTokenClaims &IdTokenClaims::operator=(IdTokenClaims &&other) noexcept = default;
IdTokenClaims::~IdTokenClaims() = default;

namespace {
QDateTime fromNumericDate(double seconds)
{
    if (std::isnan(seconds))
        return QDateTime();
    return QDateTime::fromMSecsSinceEpoch(qint64(std::floor(seconds * 1000.0)), Qt::UTC);
}

QString stringClaim(const QJsonObject &claims, const char *name)
{
    return claims.value(QLatin1String(name)).toString();
}
} // namespace

bool IdTokenClaims::isNull() const { return !d->valid; }
QString IdTokenClaims::issuer() const { return d->issuer; }
QString IdTokenClaims::subject() const { return d->subjectValue(); }
QStringList IdTokenClaims::audiences() const { return d->audienceValues(); }
QString IdTokenClaims::authorizedParty() const { return d->authorizedPartyValue(); }
QDateTime IdTokenClaims::expiration() const { return fromNumericDate(d->exp); }
QDateTime IdTokenClaims::issuedAt() const { return fromNumericDate(d->iat); }
QDateTime IdTokenClaims::notBefore() const { return fromNumericDate(d->nbf); }
QDateTime IdTokenClaims::authTime() const { return fromNumericDate(d->authTime); }
QString IdTokenClaims::nonce() const { return d->nonceValue(); }
QString IdTokenClaims::accessTokenHash() const { return d->accessTokenHashValue(); }
QString IdTokenClaims::authenticationContextClass() const { return stringClaim(d->claims(), "acr"); }

QStringList IdTokenClaims::authenticationMethods() const
{
    QStringList out;
    const QJsonArray amr = d->claims().value(QLatin1String("amr")).toArray();
    for (const QJsonValue &v : amr) {
        if (v.isString())
            out.append(v.toString());
    }
    return out;
}

QString IdTokenClaims::name() const { return stringClaim(d->claims(), "name"); }
QString IdTokenClaims::email() const { return stringClaim(d->claims(), "email"); }
bool IdTokenClaims::isEmailVerified() const { return d->claims().value(QLatin1String("email_verified")).toBool(false); }
QString IdTokenClaims::preferredUsername() const { return stringClaim(d->claims(), "preferred_username"); }
QJsonObject IdTokenClaims::claims() const { return d->claims(); }
QJsonValue IdTokenClaims::claim(const QString &name) const { return d->claims().value(name); }

bool IdTokenClaims::operator==(const IdTokenClaims &other) const
{
    return d == other.d || (d->valid == other.d->valid && d->payload == other.d->payload);
}

QDebug operator<<(QDebug debug, const IdTokenClaims &claims)
{
    QDebugStateSaver saver(debug);
    debug.nospace().noquote() << "Keyloop::IdTokenClaims(";
    if (claims.isNull())
        return debug << "null)";
    // Only iss and sub values: everything else (nonce, at_hash, personal data) stays out.
    debug << "iss=" << claims.issuer() << ", sub=" << claims.subject() << ", claims=["
          << claims.claims().keys().join(QLatin1Char(',')) << "])";
    return debug;
}

} // namespace Keyloop
