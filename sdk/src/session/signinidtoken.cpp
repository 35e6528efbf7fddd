// SPDX-License-Identifier: MIT
#include "session/signinidtoken_p.h"

#include <keyloop/issueridentifier.h>

namespace Keyloop {

IdTokenValidator signInIdTokenValidator(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                        const Clock *clock)
{
    IdTokenValidator validator(issuerIdentifier(provider.issuer()), client.clientId());
    validator.setAllowedAlgorithms(IdTokenValidator::intersectAlgorithms(
        client.idTokenAlgorithms(), provider.idTokenSigningAlgValuesSupported()));
    validator.setLeeway(client.clockLeeway());
    validator.setClock(clock);
    return validator;
}

} // namespace Keyloop
