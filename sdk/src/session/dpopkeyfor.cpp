// SPDX-License-Identifier: MIT
#include "session/dpopkeyfor_p.h"

#include "core/logging_p.h"

namespace Keyloop {

Error ensureDpopKey(const ClientConfiguration &client, const ProviderConfiguration &provider, DpopKey *key)
{
    if (!client.isDpopEnabled() || !key->isNull())
        return {};
    DpopKey::Algorithm algorithm = DpopKey::Algorithm::ES256;
    if (!DpopKey::chooseAlgorithm(provider.dpopSigningAlgValuesSupported(), &algorithm))
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("DPoP is enabled, but the provider accepts neither ES256 nor EdDSA proofs "
                                    "(dpop_signing_alg_values_supported, RFC 9449 §5.1)"));
    Error e;
    *key = DpopKey::generate(algorithm, &e);
    if (!e)
        qCDebug(lcToken) << "created a DPoP key:" << key->algorithmName();
    return e;
}

} // namespace Keyloop
