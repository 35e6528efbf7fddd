// SPDX-License-Identifier: MIT
#include <keyloop/idtokenvalidator.h>

#include "core/crypto_p.h"
#include "jose/idtokenclaims_p.h"
#include "jose/jsonwebkey_p.h"
#include "jose/jws_p.h"
#include "jose/strictjson_p.h"

#include <QtCore/QJsonArray>

#include <algorithm>
#include <cmath>
#include <string_view>

namespace Keyloop {

// ---------------------------------------------------------------------------------------------
// IdTokenExpectations

class IdTokenExpectationsPrivate : public QSharedData
{
public:
    QString nonce;
    std::optional<std::chrono::seconds> maxAge;
    QByteArray accessToken;
    IdTokenClaims previous;
};

IdTokenExpectations::IdTokenExpectations() : d(new IdTokenExpectationsPrivate) {}
IdTokenExpectations::IdTokenExpectations(const IdTokenExpectations &other) = default;
IdTokenExpectations::IdTokenExpectations(IdTokenExpectations &&other) noexcept = default;
IdTokenExpectations &IdTokenExpectations::operator=(const IdTokenExpectations &other) = default;
IdTokenExpectations &IdTokenExpectations::operator=(IdTokenExpectations &&other) noexcept = default;
IdTokenExpectations::~IdTokenExpectations() = default;

QString IdTokenExpectations::nonce() const { return d->nonce; }
void IdTokenExpectations::setNonce(const QString &nonce) { d->nonce = nonce; }
std::optional<std::chrono::seconds> IdTokenExpectations::maxAge() const { return d->maxAge; }
void IdTokenExpectations::setMaxAge(std::chrono::seconds maxAge) { d->maxAge = maxAge; }
void IdTokenExpectations::clearMaxAge() { d->maxAge.reset(); }
QByteArray IdTokenExpectations::accessToken() const { return d->accessToken; }
void IdTokenExpectations::setAccessToken(const QByteArray &accessToken) { d->accessToken = accessToken; }
IdTokenClaims IdTokenExpectations::previousClaims() const { return d->previous; }
void IdTokenExpectations::setPreviousClaims(const IdTokenClaims &claims) { d->previous = claims; }
bool IdTokenExpectations::isRefresh() const { return !d->previous.isNull(); }

// ---------------------------------------------------------------------------------------------
// IdTokenValidator

class IdTokenValidatorPrivate : public QSharedData
{
public:
    QString issuer;
    QString clientId;
    JwsAlgorithmSet allowed = JwsAlgorithmSet::fromNames(IdTokenValidator::defaultAlgorithms());
    std::chrono::seconds leeway{60};
    std::chrono::seconds maxIatAge{600};
    qsizetype maxTokenSize = JwsCompact::DefaultMaxSize;
    const Clock *clock = Clock::system();
};

IdTokenValidator::IdTokenValidator() : d(new IdTokenValidatorPrivate) {}

IdTokenValidator::IdTokenValidator(const QString &issuer, const QString &clientId)
    : d(new IdTokenValidatorPrivate)
{
    d->issuer = issuer;
    d->clientId = clientId;
}

IdTokenValidator::IdTokenValidator(const IdTokenValidator &other) = default;
IdTokenValidator::IdTokenValidator(IdTokenValidator &&other) noexcept = default;
IdTokenValidator &IdTokenValidator::operator=(const IdTokenValidator &other) = default;
IdTokenValidator &IdTokenValidator::operator=(IdTokenValidator &&other) noexcept = default;
IdTokenValidator::~IdTokenValidator() = default;

QString IdTokenValidator::issuer() const { return d->issuer; }
void IdTokenValidator::setIssuer(const QString &issuer) { d->issuer = issuer; }
QString IdTokenValidator::clientId() const { return d->clientId; }
void IdTokenValidator::setClientId(const QString &clientId) { d->clientId = clientId; }
QStringList IdTokenValidator::allowedAlgorithms() const { return d->allowed.names(); }
void IdTokenValidator::setAllowedAlgorithms(const QStringList &algorithms) { d->allowed = JwsAlgorithmSet::fromNames(algorithms); }
std::chrono::seconds IdTokenValidator::leeway() const { return d->leeway; }
void IdTokenValidator::setLeeway(std::chrono::seconds leeway) { d->leeway = std::max(leeway, std::chrono::seconds(0)); }
std::chrono::seconds IdTokenValidator::maxIssuedAtAge() const { return d->maxIatAge; }
void IdTokenValidator::setMaxIssuedAtAge(std::chrono::seconds age) { d->maxIatAge = std::max(age, std::chrono::seconds(0)); }
qsizetype IdTokenValidator::maxTokenSize() const { return d->maxTokenSize; }
void IdTokenValidator::setMaxTokenSize(qsizetype bytes) { d->maxTokenSize = bytes; }
const Clock *IdTokenValidator::clock() const { return d->clock; }
void IdTokenValidator::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }

QStringList IdTokenValidator::defaultAlgorithms()
{
    return {QStringLiteral("RS256"), QStringLiteral("RS384"), QStringLiteral("RS512"),
            QStringLiteral("PS256"), QStringLiteral("PS384"), QStringLiteral("PS512"),
            QStringLiteral("ES256"), QStringLiteral("ES384"), QStringLiteral("ES512"),
            QStringLiteral("EdDSA")};
}

QStringList IdTokenValidator::intersectAlgorithms(const QStringList &configured, const QStringList &providerSupported)
{
    const JwsAlgorithmSet mine = JwsAlgorithmSet::fromNames(configured);
    // OIDC Core §3.1.3.7 rule 7: the default alg is RS256.
    const JwsAlgorithmSet theirs = JwsAlgorithmSet::fromNames(
        providerSupported.isEmpty() ? QStringList{QStringLiteral("RS256")} : providerSupported);
    JwsAlgorithmSet both;
    for (int i = int(JwsAlgorithm::RS256); i <= int(JwsAlgorithm::EdDSA); ++i) {
        if (mine.contains(JwsAlgorithm(i)) && theirs.contains(JwsAlgorithm(i)))
            both.insert(JwsAlgorithm(i));
    }
    return both.names();
}

namespace {

// RFC 7519 §2 NumericDate: a JSON number of seconds, possibly non-integer. Strings, negative
// numbers, NaN/inf and dates after 9999-12-31 are refused, so later arithmetic never overflows.
constexpr double kMaxNumericDate = 253402300799.0;

enum ClaimIndex { Iss, Sub, Aud, Azp, Exp, Iat, Nbf, AuthTime, Nonce, AtHash, ClaimCount };
constexpr std::string_view kClaimNames[ClaimCount] = {"iss", "sub", "aud", "azp", "exp", "iat", "nbf",
                                                      "auth_time", "nonce", "at_hash"};

// The claims the validator checks, as views into the payload (filled by the strict scan).
struct Found
{
    QByteArrayView value[ClaimCount];
    StrictJson::ValueType type[ClaimCount] = {};
    bool present[ClaimCount] = {};

    bool is(ClaimIndex i, StrictJson::ValueType t) const { return present[i] && type[i] == t; }

    static void visit(void *context, const StrictJson::Member &m)
    {
        auto *f = static_cast<Found *>(context);
        for (int i = 0; i < ClaimCount; ++i) {
            if (m.name == kClaimNames[i]) {
                f->value[i] = m.value;
                f->type[i] = m.type;
                f->present[i] = true;
                return;
            }
        }
    }
};

enum class DateResult { Absent, Ok, Invalid };

DateResult numericDate(const Found &found, ClaimIndex i, double *out)
{
    if (!found.present[i])
        return DateResult::Absent;
    if (found.type[i] != StrictJson::ValueType::Number)
        return DateResult::Invalid;
    const double d = StrictJson::decodeNumber(found.value[i]);
    if (!std::isfinite(d) || d < 0 || d > kMaxNumericDate)
        return DateResult::Invalid;
    *out = d;
    return DateResult::Ok;
}

Error claimError(Error::Code code, const char *text)
{
    return Error(code, QLatin1String(text));
}

bool sameAudiences(QStringList a, QStringList b)
{
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

} // namespace

std::optional<IdTokenClaims> IdTokenValidator::validate(QByteArrayView token, const JsonWebKeySet &keys,
                                                         const IdTokenExpectations &expect, Error *error) const
{
    auto fail = [error](Error e) -> std::optional<IdTokenClaims> {
        if (error)
            *error = std::move(e);
        return std::nullopt;
    };
    const IdTokenValidatorPrivate &cfg = *d;
    if (cfg.issuer.isEmpty() || cfg.clientId.isEmpty())
        return fail(Error(Error::Code::InvalidConfiguration, QStringLiteral("the ID token validator needs an issuer and a client_id")));

    // OIDC Core 3.1.3.7 rule 1: encrypted ID tokens are not supported; a 5-part JWE fails here.
    Error e;
    std::optional<JwsCompact> jws = JwsCompact::parse(token, &e, cfg.maxTokenSize);
    if (!jws)
        return fail(e);

    // OIDC Core 3.1.3.7 rule 8: MAC algorithms need a client secret shared with the provider;
    // a public client has none, so HS* (and the unsigned "none", RFC 7518 §3.6) are refused.
    if (jws->algorithm == JwsAlgorithm::None)
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 7: alg none is never accepted"));
    if (!Jwa::isAsymmetric(jws->algorithm))
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 8: MAC-based alg is not accepted for ID tokens"));
    // OIDC Core 3.1.3.7 rule 7: alg must be one the client allows and the provider supports.
    if (!cfg.allowed.contains(jws->algorithm))
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 7: alg is not in the allowed algorithms"));

    // OIDC Core 3.1.3.7 rule 6: the signature is always verified (TLS alone is not trusted),
    // with a key of the issuer's JWKS chosen by kid (OIDC Core §10.1).
    const JsonWebKeyPrivate *key = JsonWebKeySetPrivate::select(keys, jws->algorithm, jws->keyId, jws->hasKeyId, &e);
    if (!key)
        return fail(e);
    e = verifyJwsSignature(jws->algorithm, *key, jws->signingInput, jws->signature);
    if (e)
        return fail(e);

    auto *c = new IdTokenClaimsPrivate;
    IdTokenClaims result = IdTokenClaimsPrivate::create(c);
    {
        std::optional<QByteArray> payload = jws->decodePayload(&e);
        if (!payload)
            return fail(e);
        c->payload = std::move(*payload);
    }
    // One strict scan of the claims set (duplicates, UTF-8, grammar) that also picks out the
    // claims checked below; the full QJsonObject is only built if the app asks for it.
    StrictJson::Limits limits;
    limits.maxSize = cfg.maxTokenSize;
    limits.maxDepth = 16;
    Found found;
    e = StrictJson::scanObject(c->payload, limits, &Found::visit, &found);
    if (e) {
        if (e.code() == Error::Code::DuplicateParameter)
            return fail(claimError(Error::Code::DuplicateParameter, "RFC 7519 §4: duplicate claim name in the ID token"));
        return fail(claimError(Error::Code::JoseMalformed, "RFC 7519 §7.2: the ID token payload is not a JSON object"));
    }
    using VT = StrictJson::ValueType;

    // OIDC Core 3.1.3.7 rule 2: iss must exactly match the issuer (no prefix/suffix/case games).
    if (!found.is(Iss, VT::String) || StrictJson::decodeString(found.value[Iss]) != cfg.issuer)
        return fail(claimError(Error::Code::IdTokenInvalidIssuer, "OIDC Core 3.1.3.7 rule 2: iss does not match the issuer"));
    c->issuer = cfg.issuer;

    // OIDC Core §2: sub is REQUIRED, a string of at most 255 ASCII characters.
    if (found.is(Sub, VT::String))
        c->subject = StrictJson::decodeString(found.value[Sub]);
    if (c->subject.isEmpty() || c->subject.size() > 255)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: sub is missing, empty or too long"));

    // OIDC Core 3.1.3.7 rule 3: aud must contain the client_id. aud is a string or an array
    // of strings (OIDC Core §2).
    if (found.is(Aud, VT::String)) {
        c->audiences.append(StrictJson::decodeString(found.value[Aud]));
    } else if (found.is(Aud, VT::Array)) {
        StrictJson::Limits arrayLimits;
        arrayLimits.maxDepth = 16;
        const QJsonArray array = StrictJson::parse(found.value[Aud], arrayLimits).value_or(QJsonValue()).toArray();
        for (const QJsonValue &v : array) {
            if (!v.isString())
                return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: aud is not a string or an array of strings"));
            c->audiences.append(v.toString());
        }
    } else {
        return fail(claimError(Error::Code::IdTokenInvalidAudience, "OIDC Core 3.1.3.7 rule 3: aud is missing"));
    }
    if (!c->audiences.contains(cfg.clientId))
        return fail(claimError(Error::Code::IdTokenInvalidAudience, "OIDC Core 3.1.3.7 rule 3: aud does not contain the client_id"));

    if (found.present[Azp]) {
        if (found.type[Azp] != VT::String)
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: azp is not a string"));
        c->authorizedParty = StrictJson::decodeString(found.value[Azp]);
        c->hasAuthorizedParty = true;
    }
    // OIDC Core 3.1.3.7 rule 4: with several audiences, azp must be present.
    if (c->audiences.size() > 1 && !c->hasAuthorizedParty)
        return fail(claimError(Error::Code::IdTokenInvalidAuthorizedParty, "OIDC Core 3.1.3.7 rule 4: several audiences but no azp"));
    // OIDC Core 3.1.3.7 rule 5: azp, when present, must be the client_id.
    if (c->hasAuthorizedParty && c->authorizedParty != cfg.clientId)
        return fail(claimError(Error::Code::IdTokenInvalidAuthorizedParty, "OIDC Core 3.1.3.7 rule 5: azp is not the client_id"));

    // Time claims: JSON numbers only (RFC 7519 §2 NumericDate); "exp":"123" is refused.
    if (numericDate(found, Exp, &c->exp) != DateResult::Ok)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: exp is missing or not a NumericDate"));
    if (numericDate(found, Iat, &c->iat) != DateResult::Ok)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: iat is missing or not a NumericDate"));
    if (numericDate(found, Nbf, &c->nbf) == DateResult::Invalid)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "RFC 7519 §4.1.5: nbf is not a NumericDate"));
    if (numericDate(found, AuthTime, &c->authTime) == DateResult::Invalid)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: auth_time is not a NumericDate"));

    // All in double seconds: every operand is bounded (dates <= year 9999, durations clamped),
    // so nothing overflows.
    const double now = double(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  cfg.clock->now().time_since_epoch()).count()) / 1000.0;
    const double leeway = double(std::min<qint64>(cfg.leeway.count(), qint64(kMaxNumericDate)));
    const double maxIatAge = double(std::min<qint64>(cfg.maxIatAge.count(), qint64(kMaxNumericDate)));

    // OIDC Core 3.1.3.7 rule 9: the current time must be before exp (plus leeway).
    if (now >= c->exp + leeway)
        return fail(claimError(Error::Code::IdTokenExpired, "OIDC Core 3.1.3.7 rule 9: the ID token has expired (exp)"));
    // OIDC Core 3.1.3.7 rule 10: iat must not be in the future, nor too far in the past.
    if (c->iat > now + leeway)
        return fail(claimError(Error::Code::IdTokenIssuedInFuture, "OIDC Core 3.1.3.7 rule 10: iat is in the future"));
    if (c->iat < now - maxIatAge - leeway)
        return fail(claimError(Error::Code::IdTokenTooOld, "OIDC Core 3.1.3.7 rule 10: iat is older than the maximum age"));
    // RFC 7519 §4.1.5: not before nbf.
    if (!std::isnan(c->nbf) && c->nbf > now + leeway)
        return fail(claimError(Error::Code::IdTokenNotYetValid, "RFC 7519 §4.1.5: the ID token is not yet valid (nbf)"));

    if (found.present[Nonce]) {
        if (found.type[Nonce] != VT::String)
            return fail(claimError(Error::Code::IdTokenInvalidNonce, "OIDC Core 3.1.3.7 rule 11: nonce is not a string"));
        c->nonce = StrictJson::decodeString(found.value[Nonce]);
        c->hasNonce = true;
    }
    // OIDC Core 3.1.3.7 rule 11: the nonce must be the one sent in this authentication request.
    const QString &expectedNonce = expect.d->nonce;
    if (!expectedNonce.isEmpty()) {
        if (!c->hasNonce)
            return fail(claimError(Error::Code::IdTokenInvalidNonce, "OIDC Core 3.1.3.7 rule 11: nonce is missing"));
        if (!Crypto::constantTimeEquals(c->nonce.toUtf8(), expectedNonce.toUtf8()))
            return fail(claimError(Error::Code::IdTokenInvalidNonce, "OIDC Core 3.1.3.7 rule 11: nonce does not match"));
    }

    // OIDC Core 3.1.3.7 rule 12: acr is not checked here; the app reads
    // authenticationContextClass() if it requested acr_values.

    // OIDC Core 3.1.3.7 rule 13: with max_age, auth_time is required and must be recent enough.
    if (expect.d->maxAge) {
        if (std::isnan(c->authTime))
            return fail(claimError(Error::Code::IdTokenInvalidAuthTime, "OIDC Core 3.1.3.7 rule 13: auth_time is missing but max_age was requested"));
        const double maxAge = double(std::clamp<qint64>(expect.d->maxAge->count(), 0, qint64(kMaxNumericDate)));
        if (c->authTime + maxAge + leeway < now)
            return fail(claimError(Error::Code::IdTokenInvalidAuthTime, "OIDC Core 3.1.3.7 rule 13: auth_time is older than max_age"));
        if (c->authTime > now + leeway)
            return fail(claimError(Error::Code::IdTokenInvalidAuthTime, "OIDC Core 3.1.3.7 rule 13: auth_time is in the future"));
    }

    // OIDC Core 3.1.3.8 (and 3.2.2.9): at_hash = base64url(left half of hash(access_token)),
    // with the hash of the ID token's alg. For EdDSA (Ed25519) SHA-512 is used, as Ed25519 does.
    if (found.present[AtHash]) {
        if (found.type[AtHash] != VT::String)
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §3.1.3.6: at_hash is not a string"));
        c->accessTokenHash = StrictJson::decodeString(found.value[AtHash]);
        c->hasAccessTokenHash = true;
        if (!expect.d->accessToken.isEmpty()) {
            const int size = Jwa::hashSize(jws->algorithm);
            const QByteArray digest = size == 32 ? Crypto::sha256(expect.d->accessToken)
                                    : size == 48 ? Crypto::sha384(expect.d->accessToken)
                                                 : Crypto::sha512(expect.d->accessToken);
            const QByteArray expected = Crypto::base64UrlEncode(QByteArrayView(digest).first(digest.size() / 2));
            if (!Crypto::constantTimeEquals(expected, c->accessTokenHash.toLatin1()))
                return fail(claimError(Error::Code::IdTokenInvalidAccessTokenHash, "OIDC Core 3.1.3.8: at_hash does not match the access token"));
        }
    }

    // OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud, azp and auth_time of the
    // original; nonce is not required (there was no new authentication request).
    if (expect.isRefresh()) {
        const IdTokenClaimsPrivate &prev = *IdTokenClaimsPrivate::get(expect.d->previous);
        if (prev.issuer != c->issuer)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: iss differs from the original ID token"));
        if (prev.subject != c->subject)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: sub differs from the original ID token"));
        if (!sameAudiences(prev.audiences, c->audiences))
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: aud differs from the original ID token"));
        if (prev.hasAuthorizedParty != c->hasAuthorizedParty || prev.authorizedParty != c->authorizedParty)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: azp differs from the original ID token"));
        if (!std::isnan(prev.authTime) && !std::isnan(c->authTime) && prev.authTime != c->authTime)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: auth_time differs from the original authentication"));
        if (expectedNonce.isEmpty() && prev.hasNonce && c->hasNonce && prev.nonce != c->nonce)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: nonce differs from the original ID token"));
    }

    c->valid = true;
    return result;
}

Error checkUserInfoSubject(const QJsonObject &userinfo, const IdTokenClaims &claims)
{
    const QJsonValue sub = userinfo.value(QLatin1String("sub"));
    // OIDC Core §5.3.2: the sub Claim MUST always be returned in the UserInfo Response.
    if (!sub.isString() || sub.toString().isEmpty())
        return Error(Error::Code::IdTokenInvalidClaim, QStringLiteral("OIDC Core §5.3.2: the UserInfo response has no sub"));
    // OIDC Core §5.3.2: if sub does not match the ID token's, the response MUST NOT be used.
    if (claims.isNull() || sub.toString() != claims.subject())
        return Error(Error::Code::UserInfoSubjectMismatch, QStringLiteral("OIDC Core §5.3.2: the UserInfo sub differs from the ID token's"));
    return Error();
}

} // namespace Keyloop
