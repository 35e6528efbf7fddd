// SPDX-License-Identifier: MIT
// Test helpers: generate keys with OpenSSL, export them as JWKs and sign JWS tokens, so that
// the SDK's verifier is checked against an independent signer. Header-only (also used by the
// benchmark).
#pragma once

#include <keyloop/clock.h>

#include "core/crypto_p.h"

#include <QtCore/QByteArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

namespace JoseTest {

using PKey = std::shared_ptr<EVP_PKEY>;

inline PKey wrap(EVP_PKEY *p) { return PKey(p, EVP_PKEY_free); }
inline PKey generateRsa(int bits = 2048) { return wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(bits))); }
inline PKey generateEc(const char *curve) { return wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }
inline PKey generateEd25519() { return wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

inline QByteArray b64(QByteArrayView data) { return Keyloop::Crypto::base64UrlEncode(data); }
inline QString b64s(QByteArrayView data) { return QString::fromLatin1(b64(data)); }

inline QByteArray bnParam(EVP_PKEY *key, const char *name, int pad = 0)
{
    BIGNUM *bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        return {};
    const int size = pad ? pad : BN_num_bytes(bn);
    QByteArray out(size, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(out.data()), size);
    BN_free(bn);
    return out;
}

inline int ecCoordinateSize(EVP_PKEY *key) { return (EVP_PKEY_get_bits(key) + 7) / 8; }

/// The public JWK of \a key.
inline QJsonObject publicJwk(EVP_PKEY *key, const QString &kid = {}, const QString &alg = {})
{
    QJsonObject jwk;
    if (EVP_PKEY_is_a(key, "RSA")) {
        jwk[QStringLiteral("kty")] = QStringLiteral("RSA");
        jwk[QStringLiteral("n")] = b64s(bnParam(key, OSSL_PKEY_PARAM_RSA_N));
        jwk[QStringLiteral("e")] = b64s(bnParam(key, OSSL_PKEY_PARAM_RSA_E));
    } else if (EVP_PKEY_is_a(key, "EC")) {
        char group[32] = {};
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr);
        const QByteArray g(group);
        const int size = ecCoordinateSize(key);
        jwk[QStringLiteral("kty")] = QStringLiteral("EC");
        jwk[QStringLiteral("crv")] = g == "prime256v1" ? QStringLiteral("P-256")
                                   : g == "secp384r1" ? QStringLiteral("P-384") : QStringLiteral("P-521");
        jwk[QStringLiteral("x")] = b64s(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, size));
        jwk[QStringLiteral("y")] = b64s(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, size));
    } else {
        unsigned char raw[32];
        size_t length = sizeof raw;
        EVP_PKEY_get_raw_public_key(key, raw, &length);
        jwk[QStringLiteral("kty")] = QStringLiteral("OKP");
        jwk[QStringLiteral("crv")] = QStringLiteral("Ed25519");
        jwk[QStringLiteral("x")] = b64s(QByteArrayView(reinterpret_cast<const char *>(raw), qsizetype(length)));
    }
    if (!kid.isEmpty())
        jwk[QStringLiteral("kid")] = kid;
    if (!alg.isEmpty())
        jwk[QStringLiteral("alg")] = alg;
    return jwk;
}

inline const EVP_MD *digestFor(const QString &alg)
{
    if (alg.endsWith(QLatin1String("256"))) return EVP_sha256();
    if (alg.endsWith(QLatin1String("384"))) return EVP_sha384();
    if (alg.endsWith(QLatin1String("512"))) return EVP_sha512();
    return nullptr;
}

/// A JWS signature (raw R||S for ES*) over \a input made by OpenSSL directly.
inline QByteArray sign(EVP_PKEY *key, const QString &alg, QByteArrayView input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = nullptr;
    const EVP_MD *md = alg == QLatin1String("EdDSA") ? nullptr : digestFor(alg);
    EVP_DigestSignInit(ctx, &pctx, md, nullptr, key);
    if (alg.startsWith(QLatin1String("PS"))) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t length = 0;
    EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size()));
    QByteArray sig(qsizetype(length), '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &length,
                   reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size()));
    sig.resize(qsizetype(length));
    EVP_MD_CTX_free(ctx);
    if (alg.startsWith(QLatin1String("ES"))) {
        const auto *p = reinterpret_cast<const unsigned char *>(sig.constData());
        ECDSA_SIG *es = d2i_ECDSA_SIG(nullptr, &p, long(sig.size()));
        const int size = ecCoordinateSize(key);
        QByteArray raw(2 * size, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char *>(raw.data()), size);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char *>(raw.data()) + size, size);
        ECDSA_SIG_free(es);
        return raw;
    }
    return sig;
}

/// The DER form of an ES signature as OpenSSL produces it (for "DER is refused" tests).
inline QByteArray signDer(EVP_PKEY *key, const QString &alg, QByteArrayView input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, digestFor(alg), nullptr, key);
    size_t length = 0;
    EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size()));
    QByteArray sig(qsizetype(length), '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &length,
                   reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size()));
    sig.resize(qsizetype(length));
    EVP_MD_CTX_free(ctx);
    return sig;
}

inline QByteArray hmacSha256(QByteArrayView secret, QByteArrayView input)
{
    unsigned char out[32];
    size_t length = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), size_t(secret.size()),
              reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size()), out, sizeof out, &length);
    return QByteArray(reinterpret_cast<const char *>(out), qsizetype(length));
}

inline QByteArray publicKeyPem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    QByteArray pem(data, qsizetype(length));
    BIO_free(bio);
    return pem;
}

inline QByteArray compactJson(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

/// header.payload.signature from raw JSON texts, signed with \a key for \a alg.
inline QByteArray makeTokenRaw(EVP_PKEY *key, const QString &alg, const QByteArray &headerJson, const QByteArray &payloadJson)
{
    const QByteArray input = b64(headerJson) + '.' + b64(payloadJson);
    return input + '.' + b64(sign(key, alg, input));
}

inline QByteArray makeToken(EVP_PKEY *key, const QString &alg, const QString &kid, const QJsonObject &claims,
                            QJsonObject extraHeader = {})
{
    extraHeader[QStringLiteral("alg")] = alg;
    if (!kid.isEmpty())
        extraHeader[QStringLiteral("kid")] = kid;
    return makeTokenRaw(key, alg, compactJson(extraHeader), compactJson(claims));
}

/// A clock that stands still until moved.
class ManualClock : public Keyloop::Clock
{
public:
    explicit ManualClock(qint64 secondsSinceEpoch = 1700000000) { setSeconds(secondsSinceEpoch); }
    std::chrono::system_clock::time_point now() const override { return m_now; }
    void setSeconds(qint64 s) { m_now = std::chrono::system_clock::time_point(std::chrono::seconds(s)); }
    void advance(std::chrono::seconds by) { m_now += by; }
    qint64 seconds() const { return std::chrono::duration_cast<std::chrono::seconds>(m_now.time_since_epoch()).count(); }

private:
    std::chrono::system_clock::time_point m_now;
};

} // namespace JoseTest
