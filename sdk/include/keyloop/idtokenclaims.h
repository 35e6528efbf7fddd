// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class IdTokenClaimsPrivate;

/*!
 * \brief The claims of a validated ID token (OpenID Connect Core §2, §5.1).
 *
 * Only IdTokenValidator produces non-null claims, after every §3.1.3.7 rule has passed.
 * The typed accessors cover the standard claims; claims() holds the whole claims set,
 * including provider-specific members.
 *
 * Printing through QDebug shows iss, sub and the claim *names* only: values such as
 * nonce or at_hash, or personal data (email, name), are never printed.
 */
class KEYLOOP_EXPORT IdTokenClaims
{
public:
    /// Null claims.
    IdTokenClaims();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    IdTokenClaims(const IdTokenClaims &other);
    IdTokenClaims(IdTokenClaims &&other) noexcept;
    IdTokenClaims &operator=(const IdTokenClaims &other);
    IdTokenClaims &operator=(IdTokenClaims &&other) noexcept;
    ///@}
    ~IdTokenClaims();

    /// True unless the claims come from a validated ID token.
    bool isNull() const;

    /// `iss` — issuer identifier (Core §2).
    QString issuer() const;
    /// `sub` — subject identifier, unique within the issuer (Core §2).
    QString subject() const;
    /// `aud` — audiences; a single string is returned as a one-element list (Core §2).
    QStringList audiences() const;
    /// `azp` — authorized party (Core §2); empty when absent.
    QString authorizedParty() const;
    /// `exp` — expiration time (Core §2, RFC 7519 §4.1.4), UTC, millisecond precision.
    QDateTime expiration() const;
    /// `iat` — issue time (Core §2).
    QDateTime issuedAt() const;
    /// `nbf` — not before (RFC 7519 §4.1.5); invalid QDateTime when absent.
    QDateTime notBefore() const;
    /// `auth_time` — when the end user authenticated (Core §2); invalid when absent.
    QDateTime authTime() const;
    /// `nonce` (Core §2). A secret of the login: never log it.
    QString nonce() const;
    /// `at_hash` — access token hash (Core §3.1.3.6); empty when absent.
    QString accessTokenHash() const;
    /// `acr` — authentication context class reference (Core §2); empty when absent.
    QString authenticationContextClass() const;
    /// `amr` — authentication methods references (Core §2); empty when absent.
    QStringList authenticationMethods() const;

    /// `name` (Core §5.1); empty when absent.
    QString name() const;
    /// `email` (Core §5.1); empty when absent.
    QString email() const;
    /// `email_verified` (Core §5.1); false when absent.
    bool isEmailVerified() const;
    /// `preferred_username` (Core §5.1); empty when absent.
    QString preferredUsername() const;

    /// The whole claims set as received.
    QJsonObject claims() const;
    /// One claim by name; undefined when absent.
    QJsonValue claim(const QString &name) const;

    /// True when both are null, or both hold the same claims set.
    bool operator==(const IdTokenClaims &other) const;
    /// The opposite of operator==().
    bool operator!=(const IdTokenClaims &other) const { return !(*this == other); }

private:
    friend class IdTokenClaimsPrivate;
    friend class IdTokenValidator;
    QSharedDataPointer<IdTokenClaimsPrivate> d;
};

/// Prints `IdTokenClaims(iss=…, sub=…, claims=[names…])`; never claim values beyond iss/sub.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const IdTokenClaims &claims);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::IdTokenClaims)
