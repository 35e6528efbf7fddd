// SPDX-License-Identifier: MIT
#include "token/clientauthentication_p.h"

namespace Keyloop {

Error addClientAuthentication(const ClientConfiguration &client, FormFields *form, HttpHeaders *headers)
{
    if (client.clientId().isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("the client id is not set (RFC 6749 §2.2)"));

    // RFC 6749 §2.3.1, §3.2.1; OIDC Core §9.
    switch (client.clientAuthMethod()) {
    case ClientConfiguration::ClientAuthMethod::None:
        form->append({QByteArrayLiteral("client_id"), client.clientId().toUtf8()});
        return Error();
    case ClientConfiguration::ClientAuthMethod::ClientSecretBasic: {
        if (client.clientSecret().isEmpty())
            return Error(Error::Code::InvalidConfiguration,
                         QStringLiteral("client_secret_basic needs a client secret (RFC 6749 §2.3.1)"));
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        const QByteArray credentials = formUrlEncode(client.clientId().toUtf8()) + ':'
            + formUrlEncode(client.clientSecret().toUtf8());
        headers->append({QByteArrayLiteral("Authorization"), QByteArrayLiteral("Basic ") + credentials.toBase64()});
        return Error();
    }
    case ClientConfiguration::ClientAuthMethod::ClientSecretPost:
        if (client.clientSecret().isEmpty())
            return Error(Error::Code::InvalidConfiguration,
                         QStringLiteral("client_secret_post needs a client secret (RFC 6749 §2.3.1)"));
        form->append({QByteArrayLiteral("client_id"), client.clientId().toUtf8()});
        form->append({QByteArrayLiteral("client_secret"), client.clientSecret().toUtf8()});
        return Error();
    }
    return Error(Error::Code::InvalidConfiguration, QStringLiteral("unknown client authentication method"));
}

} // namespace Keyloop
