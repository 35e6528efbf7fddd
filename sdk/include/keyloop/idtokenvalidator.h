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
    IdTokenExpectations();
    IdTokenExpectations(const IdTokenExpectations &other);
    IdTokenExpectations(IdTokenExpectations &&other) noexcept;
    IdTokenExpectations &operator=(const IdTokenExpectations &other);
    IdTokenExpectations &operator=(IdTokenExpectations &&other) noexcept;
    ~IdTokenExpectations();

    QString nonce() const;
    void setNonce(const QString &nonce);

    std::optional<std::chrono::seconds> maxAge() const;
    void setMaxAge(std::chrono::seconds maxAge);
    void clearMaxAge();

    QByteArray accessToken() const;
    void setAccessToken(const QByteArray &accessToken);

    /// The `acr_values` sent with the authorization request (OIDC Core §3.1.2.1). When set, the
    /// ID token's `acr` must be one of them (OIDC Core 3.1.3.7 rule 12: an app that asks for an
    /// authentication level must not silently get a weaker one). Empty: acr is not checked.
    QStringList acrValues() const;
    void setAcrValues(const QStringList &values);

    IdTokenClaims previousClaims() const;
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
    IdTokenValidator();
    IdTokenValidator(const QString &issuer, const QString &clientId);
    IdTokenValidator(const IdTokenValidator &other);
    IdTokenValidator(IdTokenValidator &&other) noexcept;
    IdTokenValidator &operator=(const IdTokenValidator &other);
    IdTokenValidator &operator=(IdTokenValidator &&other) noexcept;
    ~IdTokenValidator();

    /// The expected `iss`, compared exactly (rule 2): give it as issuerIdentifier() does, the
    /// form discovery (OIDC Discovery §4.3) and RFC 9207 compare with.
    QString issuer() const;
    void setIssuer(const QString &issuer);

    /// The client_id that must be in `aud` (rule 3) and equal `azp` (rules 4–5).
    QString clientId() const;
    void setClientId(const QString &clientId);

    /// The final allow-list of JWS algorithms (rule 7). Names other than RS*, PS*, ES* and
    /// EdDSA are dropped: `none` and HS* are never accepted for ID tokens (rule 8).
    QStringList allowedAlgorithms() const;
    void setAllowedAlgorithms(const QStringList &algorithms);

    /// Allowed clock skew for exp, iat, nbf and auth_time. Default 60 s.
    std::chrono::seconds leeway() const;
    void setLeeway(std::chrono::seconds leeway);

    /// How old iat may be (rule 10). Default 10 minutes.
    std::chrono::seconds maxIssuedAtAge() const;
    void setMaxIssuedAtAge(std::chrono::seconds age);

    /// Largest accepted token in bytes. Default 16384.
    qsizetype maxTokenSize() const;
    void setMaxTokenSize(qsizetype bytes);

    /// The clock for time checks; never owned. Default Clock::system().
    const Clock *clock() const;
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
