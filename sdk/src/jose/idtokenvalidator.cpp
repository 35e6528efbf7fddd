// SPDX-License-Identifier: MIT
#include <keyloop/idtokenvalidator.h>

#include "core/crypto_p.h"
#include "jose/idtokenclaims_p.h"
#include "jose/jsonwebkey_p.h"
#include "jose/jws_p.h"
#include "core/strictjson_p.h"

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
    QByteArray nonceUtf8; ///< nonce.toUtf8(), computed once: validate() compares bytes
    std::optional<std::chrono::seconds> maxAge;
    QByteArray accessToken;
    QStringList acrValues;
    IdTokenClaims previous;
};

IdTokenExpectations::IdTokenExpectations() : d(new IdTokenExpectationsPrivate) {}
IdTokenExpectations::IdTokenExpectations(const IdTokenExpectations &other) = default;
IdTokenExpectations::IdTokenExpectations(IdTokenExpectations &&other) noexcept = default;
IdTokenExpectations &IdTokenExpectations::operator=(const IdTokenExpectations &other) = default;
IdTokenExpectations &IdTokenExpectations::operator=(IdTokenExpectations &&other) noexcept = default;
IdTokenExpectations::~IdTokenExpectations() = default;

QString IdTokenExpectations::nonce() const { return d->nonce; }
void IdTokenExpectations::setNonce(const QString &nonce)
{
    d->nonce = nonce;
    d->nonceUtf8 = nonce.toUtf8();
}
std::optional<std::chrono::seconds> IdTokenExpectations::maxAge() const { return d->maxAge; }
void IdTokenExpectations::setMaxAge(std::chrono::seconds maxAge) { d->maxAge = maxAge; }
void IdTokenExpectations::clearMaxAge() { d->maxAge.reset(); }
QStringList IdTokenExpectations::acrValues() const { return d->acrValues; }
void IdTokenExpectations::setAcrValues(const QStringList &values) { d->acrValues = values; }
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
    // The UTF-8 form of a configured string, computed once, so that validate() compares the
    // token's raw bytes with it. A string that is not valid UTF-16 can equal no decoded claim.
    struct Utf8Text
    {
        QByteArray bytes;
        bool matchable = true;
        void set(const QString &text)
        {
            bytes = text.toUtf8();
            matchable = text.isValidUtf16();
        }
    };

    QString issuer;
    QString clientId;
    Utf8Text issuerUtf8;
    Utf8Text clientIdUtf8;
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
    d->issuerUtf8.set(issuer);
    d->clientIdUtf8.set(clientId);
}

IdTokenValidator::IdTokenValidator(const IdTokenValidator &other) = default;
IdTokenValidator::IdTokenValidator(IdTokenValidator &&other) noexcept = default;
IdTokenValidator &IdTokenValidator::operator=(const IdTokenValidator &other) = default;
IdTokenValidator &IdTokenValidator::operator=(IdTokenValidator &&other) noexcept = default;
IdTokenValidator::~IdTokenValidator() = default;

QString IdTokenValidator::issuer() const { return d->issuer; }
void IdTokenValidator::setIssuer(const QString &issuer)
{
    d->issuer = issuer;
    d->issuerUtf8.set(issuer);
}
QString IdTokenValidator::clientId() const { return d->clientId; }
void IdTokenValidator::setClientId(const QString &clientId)
{
    d->clientId = clientId;
    d->clientIdUtf8.set(clientId);
}
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

using Utf8Text = IdTokenValidatorPrivate::Utf8Text;

// RFC 7519 §2 NumericDate: a JSON number of seconds, possibly non-integer. Strings, negative
// numbers, NaN/inf and dates after 9999-12-31 are refused, so later arithmetic never overflows.
constexpr double kMaxNumericDate = 253402300799.0;

enum ClaimIndex { Iss, Sub, Aud, Azp, Exp, Iat, Nbf, AuthTime, Nonce, AtHash, ClaimCount };

// The claims the validator checks, as views into the payload (filled by the strict scan).
struct Found
{
    QByteArrayView value[ClaimCount];
    StrictJson::ValueType type[ClaimCount] = {};
    bool escaped[ClaimCount] = {};
    bool present[ClaimCount] = {};

    bool is(ClaimIndex i, StrictJson::ValueType t) const { return present[i] && type[i] == t; }

    static int index(std::string_view name)
    {
        switch (name.size()) {
        case 3:
            switch (name[0]) {
            case 'i': return name == "iss" ? Iss : name == "iat" ? Iat : -1;
            case 's': return name == "sub" ? Sub : -1;
            case 'a': return name == "aud" ? Aud : name == "azp" ? Azp : -1;
            case 'e': return name == "exp" ? Exp : -1;
            case 'n': return name == "nbf" ? Nbf : -1;
            default: return -1;
            }
        case 5: return name == "nonce" ? Nonce : -1;
        case 7: return name == "at_hash" ? AtHash : -1;
        case 9: return name == "auth_time" ? AuthTime : -1;
        default: return -1;
        }
    }

    static void visit(void *context, const StrictJson::Member &m)
    {
        const int i = index(m.name);
        if (i < 0)
            return;
        auto *f = static_cast<Found *>(context);
        f->value[i] = m.value;
        f->type[i] = m.type;
        f->escaped[i] = m.hasEscapes;
        f->present[i] = true;
    }

    /// The string claim i (present, a string) equals the configured text.
    bool equals(ClaimIndex i, const Utf8Text &text) const
    {
        return text.matchable && StrictJson::stringEquals(value[i], escaped[i], text.bytes);
    }

    /// The string claim i (present, a string) equals \a secret, compared in constant time.
    bool equalsSecret(ClaimIndex i, QByteArrayView secret) const
    {
        if (escaped[i])
            return Crypto::constantTimeEquals(StrictJson::decodeStringUtf8(value[i]), secret);
        return Crypto::constantTimeEquals(value[i].sliced(1, value[i].size() - 2), secret);
    }
};

// The aud array (OIDC Core §2): how many entries, whether one is the client_id, whether one
// is not a string.
struct Audiences
{
    const Utf8Text *clientId;
    int count = 0;
    bool containsClientId = false;
    bool nonString = false;

    static void visit(void *context, const StrictJson::Member &m)
    {
        auto *a = static_cast<Audiences *>(context);
        ++a->count;
        if (m.type != StrictJson::ValueType::String)
            a->nonString = true;
        else if (!a->containsClientId && a->clientId->matchable)
            a->containsClientId = StrictJson::stringEquals(m.value, m.hasEscapes, a->clientId->bytes);
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

// The hot path builds no QString, QJsonObject or Error unless validation fails: the token is
// split and decoded into stack buffers, the claims are read as views into the decoded payload
// and compared as bytes with the UTF-8 forms of the configuration, computed once.
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
    JwsToken jws;
    if (!jws.parse(token, cfg.maxTokenSize, error))
        return std::nullopt;

    // OIDC Core 3.1.3.7 rule 8: MAC algorithms need a client secret shared with the provider;
    // a public client has none, so HS* (and the unsigned "none", RFC 7518 §3.6) are refused.
    if (jws.algorithm == JwsAlgorithm::None)
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 7: alg none is never accepted"));
    if (!Jwa::isAsymmetric(jws.algorithm))
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 8: MAC-based alg is not accepted for ID tokens"));
    // OIDC Core 3.1.3.7 rule 7: alg must be one the client allows and the provider supports.
    if (!cfg.allowed.contains(jws.algorithm))
        return fail(claimError(Error::Code::JoseUnsupportedAlgorithm, "OIDC Core 3.1.3.7 rule 7: alg is not in the allowed algorithms"));

    // OIDC Core 3.1.3.7 rule 6: the signature is always verified (TLS alone is not trusted),
    // with a key of the issuer's JWKS chosen by kid (OIDC Core §10.1).
    const JsonWebKeyPrivate *key = JsonWebKeySetPrivate::select(keys, jws.algorithm, jws.keyId, jws.hasKeyId, error);
    if (!key)
        return std::nullopt;
    if (!verifyJwsSignature(jws.algorithm, *key, jws.signingInput, jws.signature, error))
        return std::nullopt;

    auto *c = new IdTokenClaimsPrivate;
    IdTokenClaims result = IdTokenClaimsPrivate::create(c);
    if (!Crypto::base64UrlDecodeInto(jws.encodedPayload, &c->payload))
        return fail(claimError(Error::Code::JoseMalformed, "RFC 7515 §5.2: the payload is not base64url without padding"));
    // One strict scan of the claims set (duplicates, UTF-8, grammar) that also picks out the
    // claims checked below; the full QJsonObject is only built if the app asks for it.
    StrictJson::Limits limits;
    limits.maxSize = cfg.maxTokenSize;
    limits.maxDepth = 16;
    Found found;
    const Error::Code scanned = StrictJson::scanMembers(c->payload, limits, &Found::visit, &found);
    if (scanned != Error::Code::NoError) {
        if (scanned == Error::Code::DuplicateParameter)
            return fail(claimError(Error::Code::DuplicateParameter, "RFC 7519 §4: duplicate claim name in the ID token"));
        return fail(claimError(Error::Code::JoseMalformed, "RFC 7519 §7.2: the ID token payload is not a JSON object"));
    }
    using VT = StrictJson::ValueType;

    // OIDC Core 3.1.3.7 rule 2: iss must exactly match the issuer (no prefix/suffix/case games).
    if (!found.is(Iss, VT::String) || !found.equals(Iss, cfg.issuerUtf8))
        return fail(claimError(Error::Code::IdTokenInvalidIssuer, "OIDC Core 3.1.3.7 rule 2: iss does not match the issuer"));
    c->issuer = cfg.issuer;

    // OIDC Core §2: sub is REQUIRED, a string of at most 255 ASCII characters (counted, as
    // ever, in UTF-16 units: at most one per byte, so only a long one needs counting).
    qsizetype subjectLength = 0;
    if (found.is(Sub, VT::String)) {
        const qsizetype bytes = found.value[Sub].size() - 2;
        subjectLength = bytes <= 255 && !found.escaped[Sub] ? bytes : StrictJson::stringUtf16Length(found.value[Sub], found.escaped[Sub]);
    }
    if (subjectLength == 0 || subjectLength > 255)
        return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: sub is missing, empty or too long"));
    c->setRaw(IdTokenClaimsPrivate::RawSubject, found.value[Sub]);

    // OIDC Core 3.1.3.7 rule 3: aud must contain the client_id. aud is a string or an array
    // of strings (OIDC Core §2).
    Audiences audiences{&cfg.clientIdUtf8};
    if (found.is(Aud, VT::String)) {
        audiences.count = 1;
        audiences.containsClientId = found.equals(Aud, cfg.clientIdUtf8);
    } else if (found.is(Aud, VT::Array)) {
        StrictJson::Limits arrayLimits;
        arrayLimits.maxDepth = 16;
        StrictJson::scanElements(found.value[Aud], arrayLimits, &Audiences::visit, &audiences);
        if (audiences.nonString)
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: aud is not a string or an array of strings"));
    } else {
        return fail(claimError(Error::Code::IdTokenInvalidAudience, "OIDC Core 3.1.3.7 rule 3: aud is missing"));
    }
    if (!audiences.containsClientId)
        return fail(claimError(Error::Code::IdTokenInvalidAudience, "OIDC Core 3.1.3.7 rule 3: aud does not contain the client_id"));
    c->setRaw(IdTokenClaimsPrivate::RawAudience, found.value[Aud]);

    if (found.present[Azp]) {
        if (found.type[Azp] != VT::String)
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core §2: azp is not a string"));
        c->setRaw(IdTokenClaimsPrivate::RawAuthorizedParty, found.value[Azp]);
        c->hasAuthorizedParty = true;
    }
    // OIDC Core 3.1.3.7 rule 4: with several audiences, azp must be present.
    if (audiences.count > 1 && !c->hasAuthorizedParty)
        return fail(claimError(Error::Code::IdTokenInvalidAuthorizedParty, "OIDC Core 3.1.3.7 rule 4: several audiences but no azp"));
    // OIDC Core 3.1.3.7 rule 5: azp, when present, must be the client_id.
    if (c->hasAuthorizedParty && !found.equals(Azp, cfg.clientIdUtf8))
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
        c->setRaw(IdTokenClaimsPrivate::RawNonce, found.value[Nonce]);
        c->hasNonce = true;
    }
    // OIDC Core 3.1.3.7 rule 11: the nonce must be the one sent in this authentication request.
    const bool expectsNonce = !expect.d->nonce.isEmpty();
    if (expectsNonce) {
        if (!c->hasNonce)
            return fail(claimError(Error::Code::IdTokenInvalidNonce, "OIDC Core 3.1.3.7 rule 11: nonce is missing"));
        if (!found.equalsSecret(Nonce, expect.d->nonceUtf8))
            return fail(claimError(Error::Code::IdTokenInvalidNonce, "OIDC Core 3.1.3.7 rule 11: nonce does not match"));
    }

    // OIDC Core 3.1.3.7 rule 12: if acr was requested (acr_values), the asserted acr must be
    // appropriate — here: one of the requested values. Off the hot path: only when asked.
    if (!expect.d->acrValues.isEmpty()) {
        const QString acr = result.authenticationContextClass();
        if (acr.isEmpty())
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core 3.1.3.7 rule 12: acr is missing but acr_values were requested"));
        if (!expect.d->acrValues.contains(acr))
            return fail(claimError(Error::Code::IdTokenInvalidClaim, "OIDC Core 3.1.3.7 rule 12: acr is not one of the requested acr_values"));
    }

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
        c->setRaw(IdTokenClaimsPrivate::RawAccessTokenHash, found.value[AtHash]);
        c->hasAccessTokenHash = true;
        if (!expect.d->accessToken.isEmpty()) {
            const int size = Jwa::hashSize(jws.algorithm);
            const QByteArray digest = size == 32 ? Crypto::sha256(expect.d->accessToken)
                                    : size == 48 ? Crypto::sha384(expect.d->accessToken)
                                                 : Crypto::sha512(expect.d->accessToken);
            const QByteArray expected = Crypto::base64UrlEncode(QByteArrayView(digest).first(digest.size() / 2));
            if (!found.equalsSecret(AtHash, expected))
                return fail(claimError(Error::Code::IdTokenInvalidAccessTokenHash, "OIDC Core 3.1.3.8: at_hash does not match the access token"));
        }
    }

    // OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud, azp and auth_time of the
    // original; nonce is not required (there was no new authentication request).
    if (expect.isRefresh()) {
        const IdTokenClaimsPrivate &prev = *IdTokenClaimsPrivate::get(expect.d->previous);
        if (prev.issuer != c->issuer)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: iss differs from the original ID token"));
        if (prev.subjectValue() != c->subjectValue())
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: sub differs from the original ID token"));
        if (!sameAudiences(prev.audienceValues(), c->audienceValues()))
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: aud differs from the original ID token"));
        if (prev.hasAuthorizedParty != c->hasAuthorizedParty || prev.authorizedPartyValue() != c->authorizedPartyValue())
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: azp differs from the original ID token"));
        if (!std::isnan(prev.authTime) && !std::isnan(c->authTime) && prev.authTime != c->authTime)
            return fail(claimError(Error::Code::IdTokenRefreshMismatch, "OIDC Core §12.2: auth_time differs from the original authentication"));
        if (!expectsNonce && prev.hasNonce && c->hasNonce && prev.nonceValue() != c->nonceValue())
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
