// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QExplicitlySharedDataPointer>
#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class DpopKeyPrivate;

/*!
 * \brief The key pair that binds a session's tokens to this device (DPoP, RFC 9449), and the
 * proofs made with it.
 *
 * With ClientConfiguration::setDpopEnabled(), a sign-in creates one key per account
 * (generate()), sends a proof with every token request (§4), and the provider binds the access
 * and refresh tokens to the key (`cnf.jkt`, §6; a public client's refresh token too, §5). The
 * private key is kept in the session's main keychain item, in the same write as the refresh
 * token (SessionRecord::dpopKey()), so the two are never saved apart, and it is deleted with
 * the session at sign-out. A token copied elsewhere is useless without it.
 *
 * An explicitly shared handle: copies share the key and the server nonces (§8, §9) remembered
 * per origin (scheme, host, port) — so a nonce learnt by the token requests is used by the next
 * proofs of the same process. The handle is thread-safe.
 *
 * The private key never appears in a log: QDebug prints the algorithm and thumbprint only.
 */
class KEYLOOP_EXPORT DpopKey
{
public:
    /// The signature algorithms of DPoP proofs this SDK makes (RFC 9449 §4.2, RFC 7518 §3.4,
    /// RFC 8037 §3.1).
    enum class Algorithm {
        ES256, ///< ECDSA P-256 with SHA-256: the default, supported by every DPoP server
        EdDSA, ///< Ed25519
    };

    /// A null key.
    DpopKey();
    /// Copies share the key (explicit sharing).
    ///@{
    DpopKey(const DpopKey &other);
    DpopKey(DpopKey &&other) noexcept;
    DpopKey &operator=(const DpopKey &other);
    DpopKey &operator=(DpopKey &&other) noexcept;
    ///@}
    ~DpopKey();

    /// A new random key pair for \a algorithm (OpenSSL's CSPRNG). Null, with \a error set, only
    /// when OpenSSL fails.
    static DpopKey generate(Algorithm algorithm = Algorithm::ES256, Error *error = nullptr);

    /*!
     * The key in \a jwk, a private JWK as privateJwk() writes it (RFC 7517 §4, RFC 7518 §6.2.2,
     * RFC 8037 §2): EC P-256 with `x`, `y` and `d`, or OKP Ed25519 with `x` and `d`. The public
     * members must belong to the private key. Null, with \a error (JoseInvalidKey), otherwise.
     */
    static DpopKey fromPrivateJwk(const QJsonObject &jwk, Error *error = nullptr);

    /*!
     * The algorithm for a provider that lists \a supported in its
     * `dpop_signing_alg_values_supported` (RFC 9449 §5.1): ES256 when it is listed or when the
     * list is empty (not advertised), else EdDSA when listed. False when the provider lists
     * neither.
     */
    static bool chooseAlgorithm(const QStringList &supported, Algorithm *algorithm);

    /// True when there is no key.
    bool isNull() const;
    /// The signature algorithm.
    Algorithm algorithm() const;
    /// The JWS `alg` name: "ES256" or "EdDSA".
    QString algorithmName() const;
    /// The public key as a JWK: only `kty`, `crv`, `x` (and `y`) — what a proof's header carries.
    QJsonObject publicJwk() const;
    /// The private key as a JWK (the public members and `d`). Secret: store it only where the
    /// refresh token is stored (the keychain); never log it.
    QJsonObject privateJwk() const;
    /// The JWK SHA-256 thumbprint (RFC 7638 §3), base64url: the `jkt` a provider binds tokens to
    /// (RFC 9449 §6.1). Not secret.
    QByteArray thumbprint() const;

    /*!
     * A DPoP proof JWT (RFC 9449 §4.2) for one request: header `typ` `dpop+jwt`, `alg` and the
     * public `jwk`; claims `jti` (128 random bits), `htm` = \a method, `htu` = \a url without
     * query and fragment (§4.2), `iat` = \a issuedAt; `ath` = base64url(SHA-256(\a accessToken))
     * when an access token is presented with it (§4.2, §7.1); `nonce` when one is given (§8).
     * Empty for a null key, a method that is not an HTTP token, or a URL that is not absolute
     * http(s).
     */
    QByteArray createProof(const QByteArray &method, const QUrl &url, const QDateTime &issuedAt,
                           const QByteArray &accessToken = QByteArray(), const QByteArray &nonce = QByteArray()) const;

    /// The last nonce the server at \a url's origin gave (`DPoP-Nonce`, RFC 9449 §8.1, §9), empty
    /// when none.
    QByteArray nonce(const QUrl &url) const;
    /*!
     * Remembers \a nonce for the server at \a url's origin, for the next proofs of every copy of
     * this key. A value that is not a nonce's syntax (1*NQCHAR, §8.1; at most 1024 bytes) is
     * ignored and false returned.
     */
    bool setNonce(const QUrl &url, const QByteArray &nonce) const;

    /// True when both are null or both hold the same key.
    bool operator==(const DpopKey &other) const;
    /// The opposite of operator==().
    bool operator!=(const DpopKey &other) const { return !(*this == other); }

private:
    QExplicitlySharedDataPointer<DpopKeyPrivate> d;
};

/// Prints the algorithm and thumbprint, never the private key.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const DpopKey &key);

} // namespace Keyloop
