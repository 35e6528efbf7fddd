// SPDX-License-Identifier: MIT
// JWS compact serialization (RFC 7515 §7.1) and the signature algorithms of RFC 7518 §3 /
// RFC 8037 §3.1, verified with OpenSSL 3. Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <memory>
#include <optional>

typedef struct evp_pkey_st EVP_PKEY;

namespace Keyloop {

class JsonWebKeyPrivate;

/// JWS "alg" values (RFC 7518 §3.1, RFC 8037 §3.1). Only the asymmetric ones can be verified.
enum class JwsAlgorithm : quint8 {
    Unknown = 0,
    RS256, RS384, RS512,
    PS256, PS384, PS512,
    ES256, ES384, ES512,
    EdDSA,
    None,            ///< "none" in any spelling: never accepted
    HS256, HS384, HS512, ///< MAC algorithms: never accepted for ID tokens (public clients have no secret)
};

/// A set of JwsAlgorithm values.
class JwsAlgorithmSet
{
public:
    constexpr JwsAlgorithmSet() = default;
    void insert(JwsAlgorithm alg) { m_bits |= bit(alg); }
    bool contains(JwsAlgorithm alg) const { return (m_bits & bit(alg)) != 0; }
    bool isEmpty() const { return m_bits == 0; }
    static JwsAlgorithmSet fromNames(const QStringList &names); ///< unknown/none/HS* names are dropped
    QStringList names() const;

private:
    static constexpr quint32 bit(JwsAlgorithm alg) { return quint32(1) << quint32(alg); }
    quint32 m_bits = 0;
};

namespace Jwa {
/// Exact, case-sensitive mapping (RFC 7515 §4.1.1: alg is case-sensitive). "none" in any
/// case maps to None so that it can be named in errors and always refused.
JwsAlgorithm fromName(QByteArrayView name);
JwsAlgorithm fromName(QStringView name);
QString name(JwsAlgorithm alg);
/// True for the algorithms Keyloop can verify (RS*, PS*, ES*, EdDSA).
bool isAsymmetric(JwsAlgorithm alg);
/// The hash of the algorithm in bytes (32/48/64); for EdDSA (Ed25519) 64 (SHA-512).
int hashSize(JwsAlgorithm alg);
} // namespace Jwa

/// Bytes on the stack up to N, on the heap beyond: decoding without allocations for
/// typical sizes. Not copyable (views into it must stay valid).
template <qsizetype N>
class ScratchBuffer
{
public:
    ScratchBuffer() = default;
    ScratchBuffer(const ScratchBuffer &) = delete;
    ScratchBuffer &operator=(const ScratchBuffer &) = delete;

    /// Room for \a size bytes (previous content is lost).
    char *allocate(qsizetype size)
    {
        m_size = size;
        if (size <= N) {
            m_data = m_inline;
        } else {
            m_heap.reset(new char[size_t(size)]);
            m_data = m_heap.get();
        }
        return m_data;
    }
    QByteArrayView view() const { return QByteArrayView(m_data, m_size); }

private:
    char m_inline[N];
    std::unique_ptr<char[]> m_heap;
    char *m_data = m_inline;
    qsizetype m_size = 0;
};

/*!
 * A JWS in compact serialization split and checked (RFC 7515 §5.2, §7.1) without heap
 * allocations for typical tokens: the ID token hot path. Every view points into the token
 * passed to parse() or into this object, which is therefore neither copyable nor movable.
 * JwsCompact is the same result as an ordinary value.
 */
struct JwsToken
{
    JwsToken() = default;
    JwsToken(const JwsToken &) = delete;
    JwsToken &operator=(const JwsToken &) = delete;

    /// See JwsCompact::parse(). Builds an Error (into \a error, if set) only on failure.
    bool parse(QByteArrayView token, qsizetype maxSize, Error *error);

    QByteArrayView signingInput;   ///< ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    QByteArrayView encodedPayload; ///< the second part, still base64url
    QByteArrayView headerJson;     ///< the decoded protected header (a strict JSON object)
    QByteArrayView signature;      ///< decoded
    JwsAlgorithm algorithm = JwsAlgorithm::Unknown;
    QByteArrayView keyId;          ///< "kid" as UTF-8 (unescaped), empty when absent
    bool hasKeyId = false;

private:
    ScratchBuffer<256> m_header;
    ScratchBuffer<512> m_signature; // RSA up to 4096 bits, every EC and EdDSA signature
    QByteArray m_keyId;             // an escaped kid, unescaped (rare)
};

/*!
 * A parsed JWS in compact serialization. The signing input is a view into the token passed
 * to parse(), which must outlive this object.
 */
struct JwsCompact
{
    static constexpr qsizetype DefaultMaxSize = 16 * 1024;

    QByteArrayView signingInput;   ///< ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    QByteArrayView encodedPayload; ///< the second part, still base64url
    QByteArray headerJson;         ///< the decoded protected header (a strict JSON object)
    QByteArray signature;          ///< decoded
    JwsAlgorithm algorithm = JwsAlgorithm::Unknown;
    QString keyId;                 ///< "kid", empty when absent
    bool hasKeyId = false;

    /*!
     * Splits and decodes \a token (RFC 7515 §5.2): exactly three base64url parts without
     * padding, a protected header that is a strict JSON object with a string "alg", no
     * unknown "crit" names (§4.1.11). The payload is decoded by decodePayload().
     * The jku, jwk, x5u and x5c header parameters are never used: keys come only from the
     * issuer's JWKS.
     */
    static std::optional<JwsCompact> parse(QByteArrayView token, Error *error,
                                           qsizetype maxSize = DefaultMaxSize);

    /// The decoded payload bytes.
    std::optional<QByteArray> decodePayload(Error *error) const;
    /// The protected header as a QJsonObject (built on demand; parse() does not need it).
    QJsonObject header() const;
};

/*!
 * Verifies \a signature over \a signingInput with \a key for \a alg. The key must suit the
 * algorithm (checked by the caller through JsonWebKeyPrivate::supports()).
 * ES*: the signature must be the raw R||S of exactly 2×the coordinate size, with R and S
 * in [1, n-1] (CVE-2022-21449), converted to DER for OpenSSL. PS*: salt length = hash length.
 */
Error verifyJwsSignature(JwsAlgorithm alg, const JsonWebKeyPrivate &key, QByteArrayView signingInput,
                         QByteArrayView signature);
/// The same, building an Error (into \a error, if set) only on failure: the hot path.
bool verifyJwsSignature(JwsAlgorithm alg, const JsonWebKeyPrivate &key, QByteArrayView signingInput,
                        QByteArrayView signature, Error *error);

} // namespace Keyloop
