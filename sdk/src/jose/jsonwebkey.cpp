// SPDX-License-Identifier: MIT
#include <keyloop/jsonwebkey.h>

#include "core/crypto_p.h"
#include "jose/jsonwebkey_p.h"

#include <QtCore/QDebug>
#include <QtCore/QJsonArray>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <memory>

namespace Keyloop {

JsonWebKeyPrivate::~JsonWebKeyPrivate()
{
    EVP_PKEY_free(pkey);
}

bool JsonWebKeyPrivate::supports(JwsAlgorithm alg) const
{
    if (algorithm != JwsAlgorithm::Unknown && algorithm != alg)
        return false; // RFC 7517 §4.4: alg pins the key to one algorithm
    switch (type) {
    case JsonWebKey::Type::Rsa:
        return alg >= JwsAlgorithm::RS256 && alg <= JwsAlgorithm::PS512;
    case JsonWebKey::Type::Ec:
        return (alg == JwsAlgorithm::ES256 && bits == 256) || (alg == JwsAlgorithm::ES384 && bits == 384)
            || (alg == JwsAlgorithm::ES512 && bits == 521);
    case JsonWebKey::Type::Okp:
        return alg == JwsAlgorithm::EdDSA;
    case JsonWebKey::Type::Invalid:
        break;
    }
    return false;
}

namespace {

struct BnDeleter { void operator()(BIGNUM *p) const { BN_free(p); } };
struct BldDeleter { void operator()(OSSL_PARAM_BLD *p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamDeleter { void operator()(OSSL_PARAM *p) const { OSSL_PARAM_free(p); } };
struct PkeyCtxDeleter { void operator()(EVP_PKEY_CTX *p) const { EVP_PKEY_CTX_free(p); } };
struct GroupDeleter { void operator()(EC_GROUP *p) const { EC_GROUP_free(p); } };

Error invalidKey(const QString &what)
{
    ERR_clear_error();
    return Error(Error::Code::JoseInvalidKey, what);
}

std::optional<QByteArray> member(const QJsonObject &jwk, const char *name)
{
    const QJsonValue v = jwk.value(QLatin1String(name));
    if (!v.isString())
        return std::nullopt;
    return Crypto::base64UrlDecode(v.toString().toLatin1());
}

EVP_PKEY *fromData(const char *type, OSSL_PARAM_BLD *bld)
{
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *pkey = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    return pkey;
}

bool publicCheck(EVP_PKEY *pkey)
{
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

// RFC 7518 §6.3.1
Error buildRsa(const QJsonObject &jwk, JsonWebKeyPrivate *d)
{
    const auto n = member(jwk, "n");
    const auto e = member(jwk, "e");
    if (!n || !e || n->isEmpty() || e->isEmpty())
        return Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7518 §6.3.1: n and e must be base64url strings"));
    std::unique_ptr<BIGNUM, BnDeleter> bnN(BN_bin2bn(reinterpret_cast<const unsigned char *>(n->constData()), int(n->size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> bnE(BN_bin2bn(reinterpret_cast<const unsigned char *>(e->constData()), int(e->size()), nullptr));
    if (!bnN || !bnE)
        return invalidKey(QStringLiteral("RSA key could not be read"));
    const int bits = BN_num_bits(bnN.get());
    // RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used".
    if (bits < 2048)
        return invalidKey(QStringLiteral("RFC 7518 §3.3: RSA key smaller than 2048 bits"));
    if (bits > 16384)
        return invalidKey(QStringLiteral("RSA key larger than 16384 bits"));
    if (!BN_is_odd(bnE.get()) || BN_num_bits(bnE.get()) < 2 || BN_num_bits(bnE.get()) > 64)
        return invalidKey(QStringLiteral("RSA public exponent is not acceptable"));
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bnN.get()) != 1
        || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bnE.get()) != 1)
        return invalidKey(QStringLiteral("RSA key could not be built"));
    d->pkey = fromData("RSA", bld.get());
    if (!d->pkey)
        return invalidKey(QStringLiteral("RSA key could not be built"));
    d->type = JsonWebKey::Type::Rsa;
    d->bits = bits;
    d->signatureSize = EVP_PKEY_get_size(d->pkey);
    return Error();
}

// RFC 7518 §6.2.1
Error buildEc(const QJsonObject &jwk, JsonWebKeyPrivate *d)
{
    const QString crv = jwk.value(QLatin1String("crv")).toString();
    int size = 0;
    int nid = 0;
    int bits = 0;
    if (crv == QLatin1String("P-256")) { size = 32; nid = NID_X9_62_prime256v1; bits = 256; }
    else if (crv == QLatin1String("P-384")) { size = 48; nid = NID_secp384r1; bits = 384; }
    else if (crv == QLatin1String("P-521")) { size = 66; nid = NID_secp521r1; bits = 521; }
    else
        return invalidKey(QStringLiteral("RFC 7518 §6.2.1.1: unsupported EC curve"));
    const auto x = member(jwk, "x");
    const auto y = member(jwk, "y");
    // RFC 7518 §6.2.1.2/3: x and y MUST be the full coordinate size.
    if (!x || !y || x->size() != size || y->size() != size)
        return Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7518 §6.2.1: x and y must be full-size coordinates"));
    QByteArray point;
    point.reserve(1 + 2 * size);
    point.append(char(0x04)).append(*x).append(*y);
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    const char *groupName = OBJ_nid2sn(nid);
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, groupName, 0) != 1
        || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(), size_t(point.size())) != 1)
        return invalidKey(QStringLiteral("EC key could not be built"));
    d->pkey = fromData("EC", bld.get());
    // The point must be on the curve and not the identity (invalid-curve attacks).
    if (!d->pkey || !publicCheck(d->pkey))
        return invalidKey(QStringLiteral("RFC 7518 §6.2.1: the EC point is not on the curve"));
    std::unique_ptr<EC_GROUP, GroupDeleter> group(EC_GROUP_new_by_curve_name(nid));
    const BIGNUM *order = group ? EC_GROUP_get0_order(group.get()) : nullptr;
    if (!order || BN_bn2binpad(order, d->ecOrder, size) != size)
        return invalidKey(QStringLiteral("EC group order unavailable"));
    d->type = JsonWebKey::Type::Ec;
    d->curve = crv;
    d->bits = bits;
    d->signatureSize = 2 * size;
    return Error();
}

// RFC 8037 §2
Error buildOkp(const QJsonObject &jwk, JsonWebKeyPrivate *d)
{
    const QString crv = jwk.value(QLatin1String("crv")).toString();
    if (crv != QLatin1String("Ed25519"))
        return invalidKey(QStringLiteral("RFC 8037 §2: unsupported OKP curve (only Ed25519)"));
    const auto x = member(jwk, "x");
    if (!x || x->size() != 32)
        return Error(Error::Code::JoseMalformed, QStringLiteral("RFC 8037 §2: x must be 32 bytes"));
    d->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char *>(x->constData()), 32);
    if (!d->pkey)
        return invalidKey(QStringLiteral("Ed25519 key could not be built"));
    d->type = JsonWebKey::Type::Okp;
    d->curve = crv;
    d->bits = 256;
    d->signatureSize = 64;
    return Error();
}

} // namespace

JsonWebKey::JsonWebKey() = default;
JsonWebKey::JsonWebKey(const JsonWebKey &other) = default;
JsonWebKey::JsonWebKey(JsonWebKey &&other) noexcept = default;
JsonWebKey &JsonWebKey::operator=(const JsonWebKey &other) = default;
JsonWebKey &JsonWebKey::operator=(JsonWebKey &&other) noexcept = default;
JsonWebKey::~JsonWebKey() = default;

JsonWebKey JsonWebKey::fromJson(const QJsonObject &jwk, Error *error)
{
    auto fail = [error](Error e) {
        if (error)
            *error = std::move(e);
        return JsonWebKey();
    };
    QExplicitlySharedDataPointer<JsonWebKeyPrivate> d(new JsonWebKeyPrivate);

    // RFC 7517 §4.2: use, if present, must be "sig" for a verification key.
    const QJsonValue use = jwk.value(QLatin1String("use"));
    if (!use.isUndefined()) {
        if (use.toString() != QLatin1String("sig"))
            return fail(invalidKey(QStringLiteral("RFC 7517 §4.2: use is not sig")));
        d->use = use.toString();
    }
    // RFC 7517 §4.3: key_ops, if present, must allow verify.
    const QJsonValue ops = jwk.value(QLatin1String("key_ops"));
    if (!ops.isUndefined()) {
        if (!ops.isArray())
            return fail(Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7517 §4.3: key_ops is not an array")));
        for (const QJsonValue &op : ops.toArray()) {
            if (!op.isString())
                return fail(Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7517 §4.3: key_ops is not an array of strings")));
            d->keyOperations.append(op.toString());
        }
        if (!d->keyOperations.contains(QLatin1String("verify")))
            return fail(invalidKey(QStringLiteral("RFC 7517 §4.3: key_ops does not allow verify")));
    }
    // RFC 7517 §4.5
    const QJsonValue kid = jwk.value(QLatin1String("kid"));
    if (!kid.isUndefined()) {
        if (!kid.isString())
            return fail(Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7517 §4.5: kid is not a string")));
        d->keyId = kid.toString();
        d->keyIdUtf8 = d->keyId.toUtf8();
        d->keyIdMatchable = d->keyId.isValidUtf16();
    }
    // RFC 7517 §4.4: alg, if present, must be a signature algorithm we verify.
    const QJsonValue alg = jwk.value(QLatin1String("alg"));
    if (!alg.isUndefined()) {
        d->algorithm = Jwa::fromName(QStringView(alg.toString()));
        if (!alg.isString() || !Jwa::isAsymmetric(d->algorithm))
            return fail(invalidKey(QStringLiteral("RFC 7517 §4.4: alg is not a supported signature algorithm")));
        d->algorithmName = alg.toString();
    }

    const QString kty = jwk.value(QLatin1String("kty")).toString();
    Error e;
    if (kty == QLatin1String("RSA"))
        e = buildRsa(jwk, d.data());
    else if (kty == QLatin1String("EC"))
        e = buildEc(jwk, d.data());
    else if (kty == QLatin1String("OKP"))
        e = buildOkp(jwk, d.data());
    else
        e = invalidKey(QStringLiteral("RFC 7517 §4.1: unsupported kty"));
    if (e)
        return fail(e);
    if (d->algorithm != JwsAlgorithm::Unknown && !d->supports(d->algorithm))
        return fail(invalidKey(QStringLiteral("RFC 7517 §4.4: alg does not match the key type")));

    // Keep the public members only.
    static const char *const kPublic[] = {"kty", "use", "key_ops", "alg", "kid", "n", "e", "crv", "x", "y"};
    for (const char *name : kPublic) {
        const QJsonValue v = jwk.value(QLatin1String(name));
        if (!v.isUndefined())
            d->json.insert(QLatin1String(name), v);
    }
    JsonWebKey key;
    key.d = d;
    return key;
}

bool JsonWebKey::isNull() const { return !d; }
JsonWebKey::Type JsonWebKey::type() const { return d ? d->type : Type::Invalid; }
QString JsonWebKey::keyId() const { return d ? d->keyId : QString(); }
QString JsonWebKey::algorithm() const { return d ? d->algorithmName : QString(); }
QString JsonWebKey::use() const { return d ? d->use : QString(); }
QStringList JsonWebKey::keyOperations() const { return d ? d->keyOperations : QStringList(); }
QString JsonWebKey::curve() const { return d ? d->curve : QString(); }
int JsonWebKey::bits() const { return d ? d->bits : 0; }
QJsonObject JsonWebKey::toJson() const { return d ? d->json : QJsonObject(); }

bool JsonWebKey::canVerify(const QString &alg) const
{
    return d && d->supports(Jwa::fromName(QStringView(alg)));
}

QDebug operator<<(QDebug debug, const JsonWebKey &key)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::JsonWebKey(";
    if (key.isNull())
        return debug << "null)";
    static const char *const kTypes[] = {"invalid", "RSA", "EC", "OKP"};
    debug << kTypes[int(key.type())] << ", kid=" << key.keyId() << ", bits=" << key.bits();
    if (!key.curve().isEmpty())
        debug << ", crv=" << key.curve();
    if (!key.algorithm().isEmpty())
        debug << ", alg=" << key.algorithm();
    return debug << ')';
}

} // namespace Keyloop
