// SPDX-License-Identifier: MIT
// DpopKey: the device-bound key pair of DPoP (RFC 9449) and the proofs it signs, with OpenSSL 3.
#include <keyloop/dpopkey.h>

#include "core/crypto_p.h"

#include <QtCore/QDebug>
#include <QtCore/QHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QMutex>
#include <QtCore/QSharedData>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>

namespace Keyloop {

namespace {

struct PkeyDeleter { void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); } };
struct PkeyCtxDeleter { void operator()(EVP_PKEY_CTX *p) const { EVP_PKEY_CTX_free(p); } };
struct BnDeleter { void operator()(BIGNUM *p) const { BN_clear_free(p); } };
struct BldDeleter { void operator()(OSSL_PARAM_BLD *p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamDeleter { void operator()(OSSL_PARAM *p) const { OSSL_PARAM_free(p); } };
struct SigDeleter { void operator()(ECDSA_SIG *p) const { ECDSA_SIG_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

constexpr int kCoordinateSize = 32; // P-256
constexpr int kEd25519Size = 32;
constexpr qsizetype kMaxNonceSize = 1024;

Error invalidKey(const QString &what)
{
    return Error(Error::Code::JoseInvalidKey, QStringLiteral("DPoP key: %1").arg(what));
}

// RFC 9110 §5.6.2: a method is a token.
bool isToken(const QByteArray &s)
{
    static const QByteArray extra = QByteArrayLiteral("!#$%&'*+-.^_`|~");
    return !s.isEmpty() && std::all_of(s.cbegin(), s.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || extra.contains(c);
    });
}

// RFC 9449 §8.1: nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E (no quote, no backslash):
// safe inside a JSON string without escaping.
bool isNonce(const QByteArray &s)
{
    return !s.isEmpty() && s.size() <= kMaxNonceSize && std::all_of(s.cbegin(), s.cend(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
    });
}

QString originOf(const QUrl &url)
{
    return url.scheme().toLower() + QStringLiteral("://") + url.host().toLower() + QLatin1Char(':')
        + QString::number(url.port(url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0 ? 443 : 80));
}

// A base64url member of exactly \a size decoded bytes.
bool fixedMember(const QJsonObject &jwk, const char *name, int size, QByteArray *out)
{
    const QJsonValue v = jwk.value(QLatin1String(name));
    if (!v.isString())
        return false;
    const auto decoded = Crypto::base64UrlDecode(v.toString().toLatin1());
    if (!decoded || decoded->size() != size)
        return false;
    *out = *decoded;
    return true;
}

QByteArray bnBytes(const BIGNUM *bn, int size)
{
    QByteArray out(size, Qt::Uninitialized);
    if (BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(out.data()), size) != size)
        return {};
    return out;
}

} // namespace

class DpopKeyPrivate : public QSharedData
{
public:
    ~DpopKeyPrivate()
    {
        privateBytes.fill('\0');
    }

    Pkey pkey;
    DpopKey::Algorithm algorithm = DpopKey::Algorithm::ES256;
    QByteArray x, y;          // public coordinates (y: EC only)
    QByteArray privateBytes;  // d; secret
    QByteArray thumbprint;
    QByteArray encodedHeader; // base64url(protected header): the same for every proof

    mutable QMutex nonceMutex;
    QHash<QString, QByteArray> nonces; // origin → last DPoP-Nonce

    bool finish(Error *error);
    QByteArray sign(QByteArrayView input) const;
};

// Derives the JWK members, the thumbprint and the header once the key is known.
bool DpopKeyPrivate::finish(Error *error)
{
    const bool ec = algorithm == DpopKey::Algorithm::ES256;
    if (ec) {
        unsigned char point[1 + 2 * kCoordinateSize];
        size_t len = 0;
        BIGNUM *priv = nullptr;
        if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len) != 1
            || len != sizeof point || point[0] != 0x04
            || EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1) {
            if (error)
                *error = invalidKey(QStringLiteral("OpenSSL could not export the P-256 key"));
            return false;
        }
        std::unique_ptr<BIGNUM, BnDeleter> guard(priv);
        x = QByteArray(reinterpret_cast<const char *>(point + 1), kCoordinateSize);
        y = QByteArray(reinterpret_cast<const char *>(point + 1 + kCoordinateSize), kCoordinateSize);
        privateBytes = bnBytes(priv, kCoordinateSize);
    } else {
        size_t len = kEd25519Size;
        x = QByteArray(kEd25519Size, Qt::Uninitialized);
        privateBytes = QByteArray(kEd25519Size, Qt::Uninitialized);
        if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char *>(x.data()), &len) != 1
            || len != kEd25519Size
            || EVP_PKEY_get_raw_private_key(pkey.get(), reinterpret_cast<unsigned char *>(privateBytes.data()), &len) != 1
            || len != kEd25519Size) {
            if (error)
                *error = invalidKey(QStringLiteral("OpenSSL could not export the Ed25519 key"));
            return false;
        }
    }
    if (privateBytes.size() != (ec ? kCoordinateSize : kEd25519Size)) {
        if (error)
            *error = invalidKey(QStringLiteral("OpenSSL could not export the private key"));
        return false;
    }
    // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
    const QByteArray bx = Crypto::base64UrlEncode(x);
    const QByteArray members = ec
        ? R"({"crv":"P-256","kty":"EC","x":")" + bx + R"(","y":")" + Crypto::base64UrlEncode(y) + R"("})"
        : R"({"crv":"Ed25519","kty":"OKP","x":")" + bx + R"("})";
    thumbprint = Crypto::base64UrlEncode(Crypto::sha256(members));
    // RFC 9449 §4.2: typ, alg and the public jwk (the members of the thumbprint).
    const QByteArray alg = ec ? QByteArrayLiteral("ES256") : QByteArrayLiteral("EdDSA");
    encodedHeader = Crypto::base64UrlEncode(R"({"typ":"dpop+jwt","alg":")" + alg + R"(","jwk":)" + members + '}');
    return true;
}

QByteArray DpopKeyPrivate::sign(QByteArrayView input) const
{
    EVP_MD_CTX *ctx = Crypto::threadDigestContext();
    const bool ec = algorithm == DpopKey::Algorithm::ES256;
    // Ed25519 hashes internally (RFC 8032): no digest is named.
    if (!ctx || EVP_DigestSignInit(ctx, nullptr, ec ? Crypto::fetchedDigest(32) : nullptr, nullptr, pkey.get()) != 1)
        return {};
    // The largest signature: a DER ECDSA P-256 signature is at most 72 bytes, Ed25519's 64.
    size_t len = 80;
    QByteArray sig(qsizetype(len), Qt::Uninitialized);
    const auto *in = reinterpret_cast<const unsigned char *>(input.data());
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len, in, size_t(input.size())) != 1)
        return {};
    sig.truncate(qsizetype(len));
    if (!ec)
        return sig;
    // RFC 7518 §3.4: JWS wants R || S, each 32 bytes; OpenSSL gives DER.
    const auto *der = reinterpret_cast<const unsigned char *>(sig.constData());
    std::unique_ptr<ECDSA_SIG, SigDeleter> es(d2i_ECDSA_SIG(nullptr, &der, long(sig.size())));
    if (!es)
        return {};
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(es.get(), &r, &s);
    const QByteArray raw = bnBytes(r, kCoordinateSize) + bnBytes(s, kCoordinateSize);
    return raw.size() == 2 * kCoordinateSize ? raw : QByteArray();
}

DpopKey::DpopKey() = default;
DpopKey::DpopKey(const DpopKey &other) = default;
DpopKey::DpopKey(DpopKey &&other) noexcept = default;
DpopKey &DpopKey::operator=(const DpopKey &other) = default;
DpopKey &DpopKey::operator=(DpopKey &&other) noexcept = default;
DpopKey::~DpopKey() = default;

DpopKey DpopKey::generate(Algorithm algorithm, Error *error)
{
    QExplicitlySharedDataPointer<DpopKeyPrivate> p(new DpopKeyPrivate);
    p->algorithm = algorithm;
    p->pkey.reset(algorithm == Algorithm::ES256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                                : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!p->pkey) {
        if (error)
            *error = invalidKey(QStringLiteral("OpenSSL could not generate a key pair"));
        return {};
    }
    if (!p->finish(error))
        return {};
    DpopKey key;
    key.d = p;
    if (error)
        *error = Error();
    return key;
}

DpopKey DpopKey::fromPrivateJwk(const QJsonObject &jwk, Error *error)
{
    QExplicitlySharedDataPointer<DpopKeyPrivate> p(new DpopKeyPrivate);
    const QString kty = jwk.value(QLatin1String("kty")).toString();
    const QString crv = jwk.value(QLatin1String("crv")).toString();
    QByteArray x, y, dBytes;
    auto fail = [error](const QString &what) {
        if (error)
            *error = invalidKey(what);
        return DpopKey();
    };
    if (kty == QLatin1String("EC") && crv == QLatin1String("P-256")) {
        p->algorithm = Algorithm::ES256;
        if (!fixedMember(jwk, "x", kCoordinateSize, &x) || !fixedMember(jwk, "y", kCoordinateSize, &y)
            || !fixedMember(jwk, "d", kCoordinateSize, &dBytes))
            return fail(QStringLiteral("a P-256 JWK needs x, y and d of 32 bytes each"));
        std::unique_ptr<BIGNUM, BnDeleter> priv(BN_bin2bn(reinterpret_cast<const unsigned char *>(dBytes.constData()),
                                                          int(dBytes.size()), nullptr));
        dBytes.fill('\0');
        const QByteArray point = QByteArray(1, '\x04') + x + y;
        std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
        if (!priv || !bld
            || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1
            || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(), size_t(point.size())) != 1
            || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1)
            return fail(QStringLiteral("OpenSSL could not read the key"));
        std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
        std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        EVP_PKEY *pkey = nullptr;
        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
            || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1)
            return fail(QStringLiteral("OpenSSL could not read the key"));
        p->pkey.reset(pkey);
        // The public point must be on the curve and belong to d (a damaged or spliced item).
        std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
        if (!check || EVP_PKEY_pairwise_check(check.get()) != 1 || EVP_PKEY_public_check(check.get()) != 1)
            return fail(QStringLiteral("the public key does not belong to the private key"));
    } else if (kty == QLatin1String("OKP") && crv == QLatin1String("Ed25519")) {
        p->algorithm = Algorithm::EdDSA;
        if (!fixedMember(jwk, "x", kEd25519Size, &x) || !fixedMember(jwk, "d", kEd25519Size, &dBytes))
            return fail(QStringLiteral("an Ed25519 JWK needs x and d of 32 bytes each"));
        p->pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                   reinterpret_cast<const unsigned char *>(dBytes.constData()),
                                                   size_t(dBytes.size())));
        dBytes.fill('\0');
        if (!p->pkey)
            return fail(QStringLiteral("OpenSSL could not read the key"));
    } else {
        return fail(QStringLiteral("only EC P-256 and OKP Ed25519 keys are supported"));
    }
    if (!p->finish(error))
        return {};
    if (!Crypto::constantTimeEquals(p->x, x) || (p->algorithm == Algorithm::ES256 && !Crypto::constantTimeEquals(p->y, y)))
        return fail(QStringLiteral("the public key does not belong to the private key"));
    DpopKey key;
    key.d = p;
    if (error)
        *error = Error();
    return key;
}

bool DpopKey::chooseAlgorithm(const QStringList &supported, Algorithm *algorithm)
{
    Algorithm chosen = Algorithm::ES256;
    if (!supported.isEmpty() && !supported.contains(QLatin1String("ES256"))) {
        if (!supported.contains(QLatin1String("EdDSA")))
            return false;
        chosen = Algorithm::EdDSA;
    }
    if (algorithm)
        *algorithm = chosen;
    return true;
}

bool DpopKey::isNull() const { return !d; }
DpopKey::Algorithm DpopKey::algorithm() const { return d ? d->algorithm : Algorithm::ES256; }

QString DpopKey::algorithmName() const
{
    if (!d)
        return {};
    return d->algorithm == Algorithm::ES256 ? QStringLiteral("ES256") : QStringLiteral("EdDSA");
}

QJsonObject DpopKey::publicJwk() const
{
    if (!d)
        return {};
    QJsonObject jwk;
    if (d->algorithm == Algorithm::ES256) {
        jwk.insert(QStringLiteral("kty"), QStringLiteral("EC"));
        jwk.insert(QStringLiteral("crv"), QStringLiteral("P-256"));
        jwk.insert(QStringLiteral("y"), QString::fromLatin1(Crypto::base64UrlEncode(d->y)));
    } else {
        jwk.insert(QStringLiteral("kty"), QStringLiteral("OKP"));
        jwk.insert(QStringLiteral("crv"), QStringLiteral("Ed25519"));
    }
    jwk.insert(QStringLiteral("x"), QString::fromLatin1(Crypto::base64UrlEncode(d->x)));
    return jwk;
}

QJsonObject DpopKey::privateJwk() const
{
    QJsonObject jwk = publicJwk();
    if (d)
        jwk.insert(QStringLiteral("d"), QString::fromLatin1(Crypto::base64UrlEncode(d->privateBytes)));
    return jwk;
}

QByteArray DpopKey::thumbprint() const { return d ? d->thumbprint : QByteArray(); }

QByteArray DpopKey::createProof(const QByteArray &method, const QUrl &url, const QDateTime &issuedAt,
                                const QByteArray &accessToken, const QByteArray &nonce) const
{
    if (!d || !isToken(method) || !url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http")))
        return {};
    // §4.2: htu is the target URI without query and fragment. A fully encoded URL has no
    // quote, backslash or control character: it needs no JSON escaping.
    const QByteArray htu = url.toEncoded(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo);
    if (htu.contains('"') || htu.contains('\\'))
        return {};
    QByteArray payload;
    payload.reserve(200 + htu.size() + nonce.size());
    payload += R"({"jti":")" + Crypto::randomToken(16) + R"(","htm":")" + method + R"(","htu":")" + htu
        + R"(","iat":)" + QByteArray::number(issuedAt.toSecsSinceEpoch());
    if (!accessToken.isEmpty())
        payload += R"(,"ath":")" + Crypto::base64UrlEncode(Crypto::sha256(accessToken)) + '"'; // §4.2
    if (isNonce(nonce))
        payload += R"(,"nonce":")" + nonce + '"';
    payload += '}';
    QByteArray jws;
    jws.reserve(d->encodedHeader.size() + payload.size() * 4 / 3 + 100);
    jws += d->encodedHeader;
    jws += '.';
    jws += Crypto::base64UrlEncode(payload);
    const QByteArray signature = d->sign(jws);
    if (signature.isEmpty())
        return {};
    jws += '.';
    jws += Crypto::base64UrlEncode(signature);
    return jws;
}

QByteArray DpopKey::nonce(const QUrl &url) const
{
    if (!d)
        return {};
    QMutexLocker lock(&d->nonceMutex);
    return d->nonces.value(originOf(url));
}

bool DpopKey::setNonce(const QUrl &url, const QByteArray &nonce) const
{
    if (!d || !isNonce(nonce))
        return false;
    QMutexLocker lock(&d->nonceMutex);
    d->nonces.insert(originOf(url), nonce);
    return true;
}

bool DpopKey::operator==(const DpopKey &other) const
{
    if (!d || !other.d)
        return !d && !other.d;
    return d == other.d || d->thumbprint == other.d->thumbprint;
}

QDebug operator<<(QDebug debug, const DpopKey &key)
{
    QDebugStateSaver saver(debug);
    debug.nospace();
    if (key.isNull())
        return debug << "Keyloop::DpopKey(null)";
    return debug << "Keyloop::DpopKey(" << key.algorithmName() << ", jkt=" << key.thumbprint() << ')';
}

} // namespace Keyloop
