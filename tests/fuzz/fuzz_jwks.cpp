// SPDX-License-Identifier: MIT
// libFuzzer target for JWK / JWK Set parsing (RFC 7517) and building OpenSSL keys from them.
// Needs the sdk modules: core, network, jose.
// Invariants: no crash/UB/leak; every key that parses has a type and a positive size, and its
// canVerify() answers never contradict its type.
#include <keyloop/jsonwebkeyset.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace Keyloop;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView json(reinterpret_cast<const char *>(data), qsizetype(size));
    Error error;
    const auto set = JsonWebKeySet::fromJson(json, &error);
    if (!set) {
        if (error.isNull())
            std::abort();
        return 0;
    }
    for (const JsonWebKey &key : set->keys()) {
        if (key.isNull() || key.type() == JsonWebKey::Type::Invalid || key.bits() <= 0)
            std::abort();
        if (key.type() == JsonWebKey::Type::Rsa && (key.bits() < 2048 || key.canVerify(QStringLiteral("ES256"))))
            std::abort();
        if (key.type() == JsonWebKey::Type::Okp && key.canVerify(QStringLiteral("RS256")))
            std::abort();
        if (key.canVerify(QStringLiteral("none")) || key.canVerify(QStringLiteral("HS256")))
            std::abort();
        (void)key.toJson();
        (void)set->key(key.keyId());
    }
    return 0;
}
