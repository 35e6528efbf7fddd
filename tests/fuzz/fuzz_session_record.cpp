// SPDX-License-Identifier: MIT
// libFuzzer target for a stored session's main item (the keychain record format, docs/
// token-storage.md) and the DPoP private key inside it (RFC 9449; DpopKey::fromPrivateJwk()).
// What the keychain returns is input like any other: a damaged or spliced item must be refused in
// words. Needs the sdk modules: core, store.
// Invariants: no crash/UB/leak; a refused item names why; a DPoP key that is read back gives the
// same JWK, verifies its own proofs' shape (non-empty), and never shows its private part in the
// public JWK.
#include <keyloop/dpopkey.h>

#include "store/recordformat_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace Keyloop;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    SessionRecord record;
    RecordFormat::MainInfo info;
    const Error error = RecordFormat::decodeMain(input, &record, &info);
    if (error) {
        if (error.code() != Error::Code::StorageCorrupt || error.message().isEmpty())
            std::abort();
    }
    // The key as stored, and the input itself taken as a JWK.
    QList<QJsonObject> candidates{record.dpopKey()};
    const QJsonDocument doc = QJsonDocument::fromJson(input);
    if (doc.isObject())
        candidates.append(doc.object());
    for (const QJsonObject &jwk : std::as_const(candidates)) {
        Error keyError;
        const DpopKey key = DpopKey::fromPrivateJwk(jwk, &keyError);
        if (key.isNull()) {
            if (keyError.code() != Error::Code::JoseInvalidKey)
                std::abort();
            continue;
        }
        if (key.publicJwk().contains(QStringLiteral("d")) || key.thumbprint().size() != 43
            || DpopKey::fromPrivateJwk(key.privateJwk()) != key)
            std::abort();
        if (key.createProof("GET", QUrl(QStringLiteral("https://api.example.com/")),
                            QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC), "token").isEmpty())
            std::abort();
    }
    return 0;
}
