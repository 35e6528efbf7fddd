// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>

#include <QtCore/QExplicitlySharedDataPointer>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaType>
#include <QtCore/QString>
#include <QtCore/QStringList>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class JsonWebKeyPrivate;

/*!
 * \brief A public signature-verification key from a JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
 *
 * Supported: `"kty":"RSA"` with a modulus of at least 2048 bits, `"kty":"EC"` on P-256, P-384
 * and P-521 (the point must lie on the curve), and `"kty":"OKP"` with `"crv":"Ed25519"`.
 * The OpenSSL key is built once, when the JWK is parsed, and shared by every copy.
 * Private key members (d, p, q, …) are ignored; only the public half is used.
 *
 * Parameters that restrict the key are honoured when present: `use` must be `sig`
 * (RFC 7517 §4.2), `key_ops` must contain `verify` (§4.3), and `alg` (§4.4) pins the one
 * algorithm the key may be used with.
 *
 * \code
 * Keyloop::Error error;
 * const auto key = Keyloop::JsonWebKey::fromJson(jwkObject, &error);
 * if (key.isNull()) qWarning() << error;
 * \endcode
 */
class KEYLOOP_EXPORT JsonWebKey
{
public:
    /// The key type (`kty`, RFC 7517 §4.1).
    enum class Type {
        Invalid, ///< a null key
        Rsa,     ///< `RSA` (RFC 7518 §6.3)
        Ec,      ///< `EC` (RFC 7518 §6.2)
        Okp      ///< `OKP` (RFC 8037 §2), Ed25519 only
    };

    /// A null key.
    JsonWebKey();
    /// Copies share the key (it is immutable). A moved-from key is null.
    ///@{
    JsonWebKey(const JsonWebKey &other);
    JsonWebKey(JsonWebKey &&other) noexcept;
    JsonWebKey &operator=(const JsonWebKey &other);
    JsonWebKey &operator=(JsonWebKey &&other) noexcept;
    ///@}
    ~JsonWebKey();

    /// Parses one JWK. Returns a null key and sets \a error (JoseInvalidKey or JoseMalformed)
    /// when the key is malformed, of an unsupported type/curve, too small, or not for signatures.
    static JsonWebKey fromJson(const QJsonObject &jwk, Error *error = nullptr);

    /// True for a default-constructed key, or one fromJson() rejected.
    bool isNull() const;
    /// The key type; Type::Invalid when null.
    Type type() const;
    /// `kid` (RFC 7517 §4.5); empty when absent.
    QString keyId() const;
    /// `alg` (RFC 7517 §4.4); empty when the key does not restrict the algorithm.
    QString algorithm() const;
    /// `use` (RFC 7517 §4.2); empty when absent.
    QString use() const;
    /// `key_ops` (RFC 7517 §4.3); empty when absent.
    QStringList keyOperations() const;
    /// `crv` for EC and OKP keys ("P-256", "P-384", "P-521", "Ed25519").
    QString curve() const;
    /// Key size in bits (RSA modulus, EC field size, 256 for Ed25519).
    int bits() const;
    /// True if this key may verify signatures made with the JWS algorithm \a alg (e.g. "ES256").
    bool canVerify(const QString &alg) const;
    /// The public members as a JWK (RFC 7517 §4), as parsed.
    QJsonObject toJson() const;

    /// True when both are the same parsed key (copies of one fromJson() result), or both null.
    bool operator==(const JsonWebKey &other) const { return d == other.d; }
    /// The opposite of operator==().
    bool operator!=(const JsonWebKey &other) const { return d != other.d; }

private:
    friend class JsonWebKeySet;
    friend class JsonWebKeyPrivate;
    QExplicitlySharedDataPointer<JsonWebKeyPrivate> d;
};

/// Prints the key type, `kid`, size, curve and `alg`: public metadata only.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const JsonWebKey &key);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::JsonWebKey)
