// SPDX-License-Identifier: MIT
#include "client/userclaims_p.h"

#include "core/crypto_p.h"
#include "core/strictjson_p.h"

namespace Keyloop::UserClaims {

QJsonObject fromIdToken(const QByteArray &idToken)
{
    const QList<QByteArray> parts = idToken.split('.');
    if (parts.size() != 3)
        return {};
    const std::optional<QByteArray> payload = Crypto::base64UrlDecode(parts.at(1));
    if (!payload)
        return {};
    return StrictJson::parseObject(*payload).value_or(QJsonObject());
}

} // namespace Keyloop::UserClaims
