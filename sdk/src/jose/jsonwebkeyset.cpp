// SPDX-License-Identifier: MIT
#include <keyloop/jsonwebkeyset.h>

#include "core/logging_p.h"

#include "jose/jsonwebkey_p.h"
#include "core/strictjson_p.h"

#include <QtCore/QJsonArray>

namespace Keyloop {

JsonWebKeySet::JsonWebKeySet() : d(new JsonWebKeySetPrivate) {}
JsonWebKeySet::JsonWebKeySet(const JsonWebKeySet &other) = default;
JsonWebKeySet::JsonWebKeySet(JsonWebKeySet &&other) noexcept = default;
JsonWebKeySet &JsonWebKeySet::operator=(const JsonWebKeySet &other) = default;
JsonWebKeySet &JsonWebKeySet::operator=(JsonWebKeySet &&other) noexcept = default;
JsonWebKeySet::~JsonWebKeySet() = default;

std::optional<JsonWebKeySet> JsonWebKeySet::fromJson(QByteArrayView json, Error *error)
{
    StrictJson::Limits limits;
    limits.maxSize = 512 * 1024;
    limits.maxDepth = 16;
    Error jsonError;
    const std::optional<QJsonObject> object = StrictJson::parseObject(json, limits, &jsonError);
    if (!object) {
        if (error) {
            switch (jsonError.code()) {
            case Error::Code::DuplicateParameter:
                *error = Error(Error::Code::DuplicateParameter, QStringLiteral("RFC 7517 §5: duplicate member name in the JWK Set"));
                break;
            case Error::Code::ResponseTooLarge:
                *error = Error(Error::Code::JoseTooLarge, QStringLiteral("RFC 7517 §5: the JWK Set exceeds the size limit"));
                break;
            default:
                *error = Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7517 §5: the JWK Set is not a JSON object"));
            }
        }
        return std::nullopt;
    }
    return fromJsonObject(*object, error);
}

std::optional<JsonWebKeySet> JsonWebKeySet::fromJsonObject(const QJsonObject &jwks, Error *error)
{
    const QJsonValue keys = jwks.value(QLatin1String("keys"));
    if (!keys.isArray()) {
        if (error)
            *error = Error(Error::Code::JoseMalformed, QStringLiteral("RFC 7517 §5.1: keys is not an array"));
        return std::nullopt;
    }
    JsonWebKeySet set;
    const QJsonArray array = keys.toArray();
    for (const QJsonValue &entry : array) {
        Error keyError;
        // RFC 7517 §5: implementations SHOULD ignore JWKs with unknown kty, missing members or
        // unsupported values; one bad key never makes the whole set unusable.
        const JsonWebKey key = entry.isObject() ? JsonWebKey::fromJson(entry.toObject(), &keyError) : JsonWebKey();
        if (key.isNull()) {
            ++set.d->skipped;
            qCDebug(lcJose) << "JWKS: skipped an unusable key:" << Error::codeName(keyError.code());
            continue;
        }
        set.d->keys.append(key);
    }
    return set;
}

JsonWebKeySet JsonWebKeySet::fromKeys(const QList<JsonWebKey> &keys)
{
    JsonWebKeySet set;
    for (const JsonWebKey &key : keys) {
        if (!key.isNull())
            set.d->keys.append(key);
    }
    return set;
}

QList<JsonWebKey> JsonWebKeySet::keys() const { return d->keys; }
int JsonWebKeySet::size() const { return int(d->keys.size()); }
bool JsonWebKeySet::isEmpty() const { return d->keys.isEmpty(); }
int JsonWebKeySet::skippedKeyCount() const { return d->skipped; }

JsonWebKey JsonWebKeySet::key(const QString &keyId) const
{
    for (const JsonWebKey &k : d->keys) {
        if (k.keyId() == keyId)
            return k;
    }
    return JsonWebKey();
}

bool JsonWebKeySet::containsKeyId(const QString &keyId) const
{
    return !key(keyId).isNull();
}

const JsonWebKeyPrivate *JsonWebKeySetPrivate::select(const JsonWebKeySet &set, JwsAlgorithm alg,
                                                      QByteArrayView keyIdUtf8, bool hasKeyId, Error *error)
{
    const JsonWebKeyPrivate *found = nullptr;
    int candidates = 0;
    for (const JsonWebKey &key : set.d->keys) {
        const JsonWebKeyPrivate *k = JsonWebKeyPrivate::get(key);
        if (hasKeyId && (!k->keyIdMatchable || QByteArrayView(k->keyIdUtf8) != keyIdUtf8))
            continue;
        if (!k->supports(alg))
            continue;
        found = k;
        ++candidates;
    }
    if (candidates == 1)
        return found;
    if (error) {
        if (candidates == 0)
            *error = Error(Error::Code::JoseKeyNotFound,
                           hasKeyId ? QStringLiteral("OIDC Core §10.1: no key in the JWKS has the token's kid and suits its alg")
                                    : QStringLiteral("OIDC Core §10.1: no key in the JWKS suits the token's alg"));
        else
            *error = Error(Error::Code::JoseInvalidKey,
                           QStringLiteral("OIDC Core §10.1: key selection is ambiguous (several keys match and the token has no distinguishing kid)"));
    }
    return nullptr;
}

} // namespace Keyloop
