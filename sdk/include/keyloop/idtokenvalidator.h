// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/jsonwebkeyset.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QStringList>

#include <chrono>
#include <optional>

namespace Keyloop {

class IdTokenExpectationsPrivate;

/*!
 * \brief What one particular ID token must match, beyond the validator's configuration.
 *
 * - nonce(): the nonce sent with this login (OIDC Core §3.1.3.7 rule 11). When set, the token
 *   must carry exactly this nonce. Leave empty only for a refresh.
 * - maxAge(): the max_age sent with the authorization request; auth_time is then required and
 *   checked (rule 13).
 * - accessToken(): the access token issued with the ID token; when the token has at_hash, it
 *   must match (§3.1.3.8).
 * - previousClaims(): for an ID token returned by a refresh (§12.2): iss, sub, aud and azp
 *   must be those of the original ID token, and auth_time (if present) too; a nonce is not
 *   required.
 */
class KEYLOOP_EXPORT IdTokenExpectations
{
public:
    /// No expectations: no nonce, max_age, at_hash, acr or refresh checks.
    IdTokenExpectations();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    IdTokenExpectations(const IdTokenExpectations &other);
    IdTokenExpectations(IdTokenExpectations &&other) noexcept;
    IdTokenExpectations &operator=(const IdTokenExpectations &other);
    IdTokenExpectations &operator=(IdTokenExpectations &&other) noexcept;
    ///@}
    ~IdTokenExpectations();

    /// The `nonce` the token must carry (rule 11); empty: not checked.
    QString nonce() const;
    /// Sets nonce().
    void setNonce(const QString &nonce);

    /// The `max_age` that was sent; std::nullopt (default): auth_time is not required.
    std::optional<std::chrono::seconds> maxAge() const;
    /// Sets maxAge().
    void setMaxAge(std::chrono::seconds maxAge);
    /// Unsets maxAge().
    void clearMaxAge();

    /// The access token issued with the ID token, for `at_hash`; empty: at_hash is not checked.
    QByteArray accessToken() const;
    /// Sets accessToken().
    void setAccessToken(const QByteArray &accessToken);

    /// The `acr_values` sent with the authorization request (OIDC Core §3.1.2.1). When set, the
    /// ID token's `acr` must be one of them (OIDC Core 3.1.3.7 rule 12: an app that asks for an
    /// authentication level must not silently get a weaker one). Empty: acr is not checked.
    QStringList acrValues() const;
    /// Sets acrValues().
    void setAcrValues(const QStringList &values);

    /// The claims of the session's original ID token, for a refreshed one; null (default) for
    /// a sign-in.
    IdTokenClaims previousClaims() const;
    /// Sets previousClaims().
    void setPreviousClaims(const IdTokenClaims &claims);
    /// True when previousClaims() is set (validation of a refreshed ID token, §12.2).
    bool isRefresh() const;

private:
    friend class IdTokenValidator;
    QSharedDataPointer<IdTokenExpectationsPrivate> d;
};

class IdTokenValidatorPrivate;

/*!
 * \brief Validates ID tokens per OpenID Connect Core §3.1.3.7, signature included.
 *
 * Configure it once per provider and client:
 * \code
 * Keyloop::IdTokenValidator validator(Keyloop::issuerIdentifier(provider.issuer()), clientId);
 * validator.setAllowedAlgorithms(Keyloop::IdTokenValidator::intersectAlgorithms(
 *     Keyloop::IdTokenValidator::defaultAlgorithms(), provider.idTokenSigningAlgValuesSupported()));
 * Keyloop::IdTokenExpectations expect;
 * expect.setNonce(nonce);
 * Keyloop::Error error;
 * if (auto claims = validator.validate(idToken, jwks, expect, &error))
 *     qDebug() << "signed in:" << claims->subject();
 * \endcode
 *
 * validate() is synchronous and fast (the keys are already parsed); to fetch the provider's
 * JWKS and follow key rotation, use IdTokenValidationJob with a JwksCache.
 *
 * Defaults: algorithms RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA
 * (`none` and HS* can never be allowed); leeway 60 s; maximum iat age 10 minutes (an ID token
 * is validated right after the token response that carried it, so an older iat means a replayed
 * or badly delayed token; raise it for providers with slow clocks); maximum token size 16 KiB;
 * the system clock.
 */
class KEYLOOP_EXPORT IdTokenValidator
{
public:
    /// A validator with the defaults and no issuer or client id: validate() fails with
    /// InvalidConfiguration until both are set.
    IdTokenValidator();
    /// A validator for tokens of \a issuer (see issuer()) issued to \a clientId.
    IdTokenValidator(const QString &issuer, const QString &clientId);
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    IdTokenValidator(const IdTokenValidator &other);
    IdTokenValidator(IdTokenValidator &&other) noexcept;
    IdTokenValidator &operator=(const IdTokenValidator &other);
    IdTokenValidator &operator=(IdTokenValidator &&other) noexcept;
    ///@}
    ~IdTokenValidator();

    /// The expected `iss`, compared exactly (rule 2): give it as issuerIdentifier() does, the
    /// form discovery (OIDC Discovery §4.3) and RFC 9207 compare with.
    QString issuer() const;
    /// Sets issuer().
    void setIssuer(const QString &issuer);

    /// The client_id that must be in `aud` (rule 3) and equal `azp` (rules 4–5).
    QString clientId() const;
    /// Sets clientId().
    void setClientId(const QString &clientId);

    /// The final allow-list of JWS algorithms (rule 7). Names other than RS*, PS*, ES* and
    /// EdDSA are dropped: `none` and HS* are never accepted for ID tokens (rule 8).
    QStringList allowedAlgorithms() const;
    /// Sets allowedAlgorithms().
    void setAllowedAlgorithms(const QStringList &algorithms);

    /// Allowed clock skew for exp, iat, nbf and auth_time. Default 60 s.
    std::chrono::seconds leeway() const;
    /// Sets leeway() (negative: 0).
    void setLeeway(std::chrono::seconds leeway);

    /// How old iat may be (rule 10). Default 10 minutes.
    std::chrono::seconds maxIssuedAtAge() const;
    /// Sets maxIssuedAtAge() (negative: 0).
    void setMaxIssuedAtAge(std::chrono::seconds age);

    /// Largest accepted token in bytes. Default 16384.
    qsizetype maxTokenSize() const;
    /// Sets maxTokenSize().
    void setMaxTokenSize(qsizetype bytes);

    /// The clock for time checks; never owned. Default Clock::system().
    const Clock *clock() const;
    /// Sets clock(); nullptr: Clock::system().
    void setClock(const Clock *clock);

    /// RS256…RS512, PS256…PS512, ES256…ES512, EdDSA.
    static QStringList defaultAlgorithms();
    /*!
     * The allow-list for a provider: \a configured ∩ \a providerSupported (the provider's
     * `id_token_signing_alg_values_supported`), without `none` and HS*. When the provider
     * lists nothing, RS256 is assumed (OIDC Core §3.1.3.7 rule 7: "the default alg value is
     * RS256"; OIDC Discovery §3 requires RS256 support).
     */
    static QStringList intersectAlgorithms(const QStringList &configured, const QStringList &providerSupported);

    /*!
     * Validates \a token (compact JWS) against \a keys and \a expect. On success returns the
     * claims; otherwise std::nullopt with \a error set to a Jose* or IdToken* code whose
     * message names the rule (and claim names only, never values).
     * A JoseKeyNotFound error means that no key in \a keys matches; the caller may refetch
     * the JWKS once (key rotation) and try again.
     */
    std::optional<IdTokenClaims> validate(QByteArrayView token, const JsonWebKeySet &keys,
                                          const IdTokenExpectations &expect, Error *error = nullptr) const;

private:
    QSharedDataPointer<IdTokenValidatorPrivate> d;
};

/*!
 * OIDC Core §5.3.2: the `sub` of a UserInfo response must equal the ID token's; otherwise the
 * UserInfo response must not be used. Returns UserInfoSubjectMismatch (or IdTokenInvalidClaim
 * when `sub` is missing or not a string), or a null Error.
 */
KEYLOOP_EXPORT Error checkUserInfoSubject(const QJsonObject &userinfo, const IdTokenClaims &claims);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::IdTokenExpectations)
