// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/jsonwebkey.h>
#include <keyloop/jsonwebkeyset.h>

#include "jose/jws_p.h"

#include <QtCore/QList>
#include <QtCore/QSharedData>

namespace Keyloop {

class JsonWebKeyPrivate : public QSharedData
{
public:
    JsonWebKeyPrivate() = default;
    JsonWebKeyPrivate(const JsonWebKeyPrivate &) = delete;
    ~JsonWebKeyPrivate();

    /// True when this key may verify \a alg: matching kty/curve, and `alg` (if set) equal.
    bool supports(JwsAlgorithm alg) const;

    static const JsonWebKeyPrivate *get(const JsonWebKey &key) { return key.d.data(); }

    EVP_PKEY *pkey = nullptr;        ///< owned; built once at parse time
    JsonWebKey::Type type = JsonWebKey::Type::Invalid;
    QString keyId;
    QByteArray keyIdUtf8;            ///< keyId as UTF-8, for matching a token's kid without a QString
    bool keyIdMatchable = true;      ///< false when keyId is not valid UTF-16 (no token kid can equal it)
    QString algorithmName;
    JwsAlgorithm algorithm = JwsAlgorithm::Unknown; ///< Unknown = not restricted
    QString use;
    QStringList keyOperations;
    QString curve;
    int bits = 0;
    int signatureSize = 0;           ///< exact JWS signature size: RSA modulus bytes, 2×EC coordinate, 64 for Ed25519
    unsigned char ecOrder[66] = {};  ///< EC group order n, big-endian, padded to the coordinate size
    QJsonObject json;                ///< public members as parsed
};

class JsonWebKeySetPrivate : public QSharedData
{
public:
    QList<JsonWebKey> keys;
    int skipped = 0;

    /*!
     * Key selection for a JWS (RFC 7515 §6, OIDC Core §10.1): with a kid, the key with that
     * kid, which must support \a alg; without a kid, the single key that supports \a alg
     * (kty/crv/alg/use); several candidates are ambiguous. JoseKeyNotFound when there is none.
     * \a keyIdUtf8 is the token's kid as UTF-8 (compared bytewise, no QString is built).
     */
    static const JsonWebKeyPrivate *select(const JsonWebKeySet &set, JwsAlgorithm alg,
                                           QByteArrayView keyIdUtf8, bool hasKeyId, Error *error);
};

} // namespace Keyloop
