// SPDX-License-Identifier: MIT
#include "jose/jws_p.h"

#include "core/crypto_p.h"
#include "jose/jsonwebkey_p.h"
#include "core/strictjson_p.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstring>

namespace Keyloop {

// ---------------------------------------------------------------------------------------------
// Algorithm names (RFC 7518 §3.1, RFC 8037 §3.1)

namespace {
struct AlgName
{
    const char *name;
    JwsAlgorithm alg;
};
constexpr AlgName kAlgNames[] = {
    {"RS256", JwsAlgorithm::RS256}, {"RS384", JwsAlgorithm::RS384}, {"RS512", JwsAlgorithm::RS512},
    {"PS256", JwsAlgorithm::PS256}, {"PS384", JwsAlgorithm::PS384}, {"PS512", JwsAlgorithm::PS512},
    {"ES256", JwsAlgorithm::ES256}, {"ES384", JwsAlgorithm::ES384}, {"ES512", JwsAlgorithm::ES512},
    {"EdDSA", JwsAlgorithm::EdDSA},
    {"HS256", JwsAlgorithm::HS256}, {"HS384", JwsAlgorithm::HS384}, {"HS512", JwsAlgorithm::HS512},
};
} // namespace

JwsAlgorithm Jwa::fromName(QByteArrayView name)
{
    for (const AlgName &entry : kAlgNames) {
        if (name == QByteArrayView(entry.name))
            return entry.alg;
    }
    // RFC 7518 §3.6: "none" — refused in every spelling (none, None, NONE, nOnE …).
    if (name.size() == 4 && QByteArrayView(name).compare("none", Qt::CaseInsensitive) == 0)
        return JwsAlgorithm::None;
    return JwsAlgorithm::Unknown;
}

JwsAlgorithm Jwa::fromName(QStringView name)
{
    if (name.size() > 8)
        return JwsAlgorithm::Unknown;
    char buffer[8];
    for (qsizetype i = 0; i < name.size(); ++i) {
        const char16_t c = name[i].unicode();
        if (c > 0x7e)
            return JwsAlgorithm::Unknown;
        buffer[i] = char(c);
    }
    return fromName(QByteArrayView(buffer, name.size()));
}

QString Jwa::name(JwsAlgorithm alg)
{
    if (alg == JwsAlgorithm::None)
        return QStringLiteral("none");
    for (const AlgName &entry : kAlgNames) {
        if (entry.alg == alg)
            return QString::fromLatin1(entry.name);
    }
    return QString();
}

bool Jwa::isAsymmetric(JwsAlgorithm alg)
{
    return alg >= JwsAlgorithm::RS256 && alg <= JwsAlgorithm::EdDSA;
}

int Jwa::hashSize(JwsAlgorithm alg)
{
    switch (alg) {
    case JwsAlgorithm::RS256: case JwsAlgorithm::PS256: case JwsAlgorithm::ES256: case JwsAlgorithm::HS256:
        return 32;
    case JwsAlgorithm::RS384: case JwsAlgorithm::PS384: case JwsAlgorithm::ES384: case JwsAlgorithm::HS384:
        return 48;
    case JwsAlgorithm::RS512: case JwsAlgorithm::PS512: case JwsAlgorithm::ES512: case JwsAlgorithm::HS512:
    case JwsAlgorithm::EdDSA:
        return 64;
    default:
        return 0;
    }
}

JwsAlgorithmSet JwsAlgorithmSet::fromNames(const QStringList &names)
{
    JwsAlgorithmSet set;
    for (const QString &name : names) {
        const JwsAlgorithm alg = Jwa::fromName(QStringView(name));
        if (Jwa::isAsymmetric(alg))
            set.insert(alg);
    }
    return set;
}

QStringList JwsAlgorithmSet::names() const
{
    QStringList out;
    for (int i = int(JwsAlgorithm::RS256); i <= int(JwsAlgorithm::EdDSA); ++i) {
        if (contains(JwsAlgorithm(i)))
            out.append(Jwa::name(JwsAlgorithm(i)));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Compact serialization (RFC 7515 §7.1, §5.2)

static Error malformed(const char *what)
{
    return Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7515 §5.2: %1").arg(QLatin1String(what)));
}

// QByteArrayView::indexOf(char) goes through Qt's generic substring search: memchr is faster.
static qsizetype indexOfDot(QByteArrayView token, qsizetype from)
{
    if (from >= token.size())
        return -1;
    const void *dot = std::memchr(token.data() + from, '.', size_t(token.size() - from));
    return dot ? static_cast<const char *>(dot) - token.data() : -1;
}

bool JwsToken::parse(QByteArrayView token, qsizetype maxSize, Error *error)
{
    auto fail = [error](Error e) {
        if (error)
            *error = std::move(e);
        return false;
    };
    if (token.size() > maxSize)
        return fail(Error(Error::Code::JoseTooLarge, QStringLiteral("the JWS exceeds the size limit")));

    const qsizetype dot1 = indexOfDot(token, 0);
    if (dot1 < 0)
        return fail(malformed("a JWS needs exactly three parts"));
    const qsizetype dot2 = indexOfDot(token, dot1 + 1);
    if (dot2 < 0 || indexOfDot(token, dot2 + 1) >= 0)
        return fail(malformed("a JWS needs exactly three parts")); // a 5-part JWE lands here too
    if (dot1 == 0)
        return fail(malformed("empty protected header"));

    signingInput = token.first(dot2);
    encodedPayload = token.sliced(dot1 + 1, dot2 - dot1 - 1);

    const QByteArrayView encodedHeader = token.first(dot1);
    const qsizetype headerSize = Crypto::base64UrlDecodedSize(encodedHeader.size());
    if (headerSize < 0 || !Crypto::base64UrlDecodeTo(encodedHeader, m_header.allocate(headerSize)))
        return fail(malformed("the protected header is not base64url without padding"));
    headerJson = m_header.view();
    const QByteArrayView encodedSignature = token.sliced(dot2 + 1);
    const qsizetype signatureSize = Crypto::base64UrlDecodedSize(encodedSignature.size());
    if (signatureSize < 0 || !Crypto::base64UrlDecodeTo(encodedSignature, m_signature.allocate(signatureSize)))
        return fail(malformed("the signature is not base64url without padding"));
    signature = m_signature.view();

    struct HeaderMembers
    {
        StrictJson::Member alg{{}, {}, StrictJson::ValueType::Null};
        StrictJson::Member kid{{}, {}, StrictJson::ValueType::Null};
        bool hasAlg = false;
        bool hasKid = false;
        bool hasCrit = false;
    } members;
    StrictJson::Limits limits;
    limits.maxSize = maxSize;
    limits.maxDepth = 16;
    const Error::Code jsonError = StrictJson::scanMembers(headerJson, limits, [](void *context, const StrictJson::Member &m) {
        auto *h = static_cast<HeaderMembers *>(context);
        if (m.name == "alg") {
            h->alg = m;
            h->hasAlg = true;
        } else if (m.name == "kid") {
            h->kid = m;
            h->hasKid = true;
        } else if (m.name == "crit") {
            h->hasCrit = true;
        }
    }, &members);
    if (jsonError != Error::Code::NoError) {
        if (jsonError == Error::Code::DuplicateParameter)
            return fail(Error(Error::Code::DuplicateParameter,
                              QStringLiteral("RFC 7515 §5.2: duplicate member name in the JOSE header")));
        return fail(malformed("the protected header is not a JSON object"));
    }

    // RFC 7515 §4.1.1: alg is required, a case-sensitive string.
    if (!members.hasAlg || members.alg.type != StrictJson::ValueType::String)
        return fail(Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7515 §4.1.1: the alg header is missing")));
    algorithm = members.alg.hasEscapes ? Jwa::fromName(QByteArrayView(StrictJson::decodeStringUtf8(members.alg.value)))
                                       : Jwa::fromName(members.alg.value.sliced(1, members.alg.value.size() - 2));
    if (algorithm == JwsAlgorithm::Unknown)
        return fail(Error(Error::Code::JoseUnsupportedAlgorithm, QStringLiteral("RFC 7515 §4.1.1: unknown alg")));

    // RFC 7515 §4.1.11: crit lists extensions that MUST be understood. Keyloop implements no
    // JWS extension (b64, …), so any crit header is refused.
    if (members.hasCrit)
        return fail(Error(Error::Code::JoseUnknownCritical,
                          QStringLiteral("RFC 7515 §4.1.11: crit names a header parameter that is not understood")));

    // RFC 7515 §4.1.4
    if (members.hasKid) {
        if (members.kid.type != StrictJson::ValueType::String)
            return fail(Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7515 §4.1.4: kid is not a string")));
        if (members.kid.hasEscapes) {
            m_keyId = StrictJson::decodeStringUtf8(members.kid.value);
            keyId = m_keyId;
        } else {
            keyId = members.kid.value.sliced(1, members.kid.value.size() - 2);
        }
        hasKeyId = true;
    }
    // jku, jwk, x5u, x5c (RFC 7515 §4.1.2-4.1.6) are deliberately ignored: a key named by the
    // token itself proves nothing. Keys come only from the issuer's jwks_uri (OIDC Core §10.1).
    return true;
}

std::optional<JwsCompact> JwsCompact::parse(QByteArrayView token, Error *error, qsizetype maxSize)
{
    JwsToken parsed;
    if (!parsed.parse(token, maxSize, error))
        return std::nullopt;
    JwsCompact jws;
    jws.signingInput = parsed.signingInput;
    jws.encodedPayload = parsed.encodedPayload;
    jws.headerJson = parsed.headerJson.toByteArray();
    jws.signature = parsed.signature.toByteArray();
    jws.algorithm = parsed.algorithm;
    if (parsed.hasKeyId) {
        jws.keyId = QString::fromUtf8(parsed.keyId.isNull() ? QByteArrayView("") : parsed.keyId);
        jws.hasKeyId = true;
    }
    return jws;
}

std::optional<QByteArray> JwsCompact::decodePayload(Error *error) const
{
    std::optional<QByteArray> payload = Crypto::base64UrlDecode(encodedPayload);
    if (!payload && error)
        *error = malformed("the payload is not base64url without padding");
    return payload;
}

QJsonObject JwsCompact::header() const
{
    return StrictJson::parseObject(headerJson).value_or(QJsonObject());
}

// ---------------------------------------------------------------------------------------------
// Signature verification on OpenSSL 3

namespace {

using Crypto::fetchedDigest;

EVP_MD_CTX *threadContext() { return Crypto::threadDigestContext(); }

// Leaves no OpenSSL errors behind on this thread, and builds the Error only if asked.
bool invalidSignature(Error *error, const char *what)
{
    ERR_clear_error();
    if (error)
        *error = Error(Error::Code::JoseInvalidSignature, QLatin1String(what));
    return false;
}

// DER INTEGER for a big-endian unsigned value (X.690 §8.3): minimal, with a 0x00 pad when the
// top bit is set.
int derInteger(unsigned char *out, const unsigned char *value, int length)
{
    while (length > 1 && value[0] == 0) {
        ++value;
        --length;
    }
    const int pad = (value[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = static_cast<unsigned char>(length + pad);
    if (pad)
        out[2] = 0;
    std::memcpy(out + 2 + pad, value, size_t(length));
    return 2 + pad + length;
}

bool isZero(const unsigned char *p, int n)
{
    unsigned char acc = 0;
    for (int i = 0; i < n; ++i)
        acc |= p[i];
    return acc == 0;
}

} // namespace

Error verifyJwsSignature(JwsAlgorithm alg, const JsonWebKeyPrivate &key, QByteArrayView signingInput,
                         QByteArrayView signature)
{
    Error error;
    verifyJwsSignature(alg, key, signingInput, signature, &error);
    return error;
}

bool verifyJwsSignature(JwsAlgorithm alg, const JsonWebKeyPrivate &key, QByteArrayView signingInput,
                        QByteArrayView signature, Error *error)
{
    if (!key.pkey || !key.supports(alg)) {
        if (error)
            *error = Error(Error::Code::JoseInvalidKey, QStringLiteral("RFC 7515 §6: the key does not suit the alg"));
        return false;
    }
    const auto *sig = reinterpret_cast<const unsigned char *>(signature.data());
    size_t sigLength = size_t(signature.size());

    // Exact sizes: RFC 7518 §3.3 (RSA: k octets), §3.4 (ECDSA: 2×coordinate), RFC 8032 §5.1.7 (64).
    if (signature.size() != key.signatureSize)
        return invalidSignature(error, "RFC 7518 §3: the signature has the wrong length");

    unsigned char der[3 + 2 * (3 + 66)];
    if (alg == JwsAlgorithm::ES256 || alg == JwsAlgorithm::ES384 || alg == JwsAlgorithm::ES512) {
        // RFC 7518 §3.4: R||S, each exactly the coordinate size. Both must be in [1, n-1]:
        // Java's CVE-2022-21449 accepted r = s = 0 for any message.
        const int half = key.signatureSize / 2;
        const unsigned char *r = sig;
        const unsigned char *s = sig + half;
        if (isZero(r, half) || isZero(s, half) || std::memcmp(r, key.ecOrder, size_t(half)) >= 0
            || std::memcmp(s, key.ecOrder, size_t(half)) >= 0)
            return invalidSignature(error, "RFC 7518 §3.4: ECDSA r or s is out of range");
        unsigned char body[2 * (3 + 66)];
        int bodyLength = derInteger(body, r, half);
        bodyLength += derInteger(body + bodyLength, s, half);
        int offset = 0;
        der[offset++] = 0x30;
        if (bodyLength >= 0x80)
            der[offset++] = 0x81;
        der[offset++] = static_cast<unsigned char>(bodyLength);
        std::memcpy(der + offset, body, size_t(bodyLength));
        sig = der;
        sigLength = size_t(offset + bodyLength);
    }

    EVP_MD_CTX *ctx = threadContext();
    if (!ctx)
        return invalidSignature(error, "OpenSSL could not allocate a digest context");
    EVP_PKEY_CTX *pctx = nullptr;
    const EVP_MD *md = alg == JwsAlgorithm::EdDSA ? nullptr : fetchedDigest(Jwa::hashSize(alg));
    if (alg != JwsAlgorithm::EdDSA && !md)
        return invalidSignature(error, "OpenSSL has no digest for the alg");
    if (EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key.pkey) != 1)
        return invalidSignature(error, "OpenSSL could not initialise the verification");
    if (alg == JwsAlgorithm::PS256 || alg == JwsAlgorithm::PS384 || alg == JwsAlgorithm::PS512) {
        // RFC 7518 §3.5: MGF1 with the same hash, salt length = hash length.
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
            return invalidSignature(error, "OpenSSL could not set up RSASSA-PSS");
    }
    const int ok = EVP_DigestVerify(ctx, sig, sigLength,
                                    reinterpret_cast<const unsigned char *>(signingInput.data()),
                                    size_t(signingInput.size()));
    if (ok != 1)
        return invalidSignature(error, "RFC 7515 §5.2: the signature does not verify");
    return true;
}

} // namespace Keyloop
