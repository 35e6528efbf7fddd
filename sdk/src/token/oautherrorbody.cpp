// SPDX-License-Identifier: MIT
#include "token/oautherrorbody_p.h"

#include "core/strictjson_p.h"

namespace Keyloop {

std::optional<Error> oauthErrorFromBody(QByteArrayView body, int status)
{
    const std::optional<QJsonObject> object = StrictJson::parseObject(body);
    if (!object)
        return std::nullopt;
    const QJsonValue code = object->value(QLatin1String("error"));
    if (!code.isString() || code.toString().isEmpty())
        return std::nullopt;
    const QJsonValue description = object->value(QLatin1String("error_description"));
    return Error::oauth(code.toString(), description.isString() ? description.toString() : QString(), status);
}

} // namespace Keyloop
