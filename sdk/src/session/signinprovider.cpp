// SPDX-License-Identifier: MIT
#include "session/signinprovider_p.h"

#include "core/logging_p.h"

namespace Keyloop {

QPointer<DiscoveryJob> resolveSignInProvider(const ClientConfiguration &client, QNetworkAccessManager *nam,
                                             QObject *parent,
                                             const std::function<void(const Error &, const ProviderConfiguration &)> &then)
{
    const auto checked = [client, then](const ProviderConfiguration &provider) {
        const Error e = provider.validate(client.transport());
        then(e, e ? ProviderConfiguration() : provider);
    };
    if (client.hasProviderConfiguration()) {
        checked(client.providerConfiguration());
        return nullptr;
    }
    qCDebug(lcAuthorization) << "discovery started";
    QPointer<DiscoveryJob> discovery = new DiscoveryJob(nam, client.issuer(), client.transport(), parent);
    QObject::connect(discovery, &Job::finished, parent, [discovery, checked, then] {
        if (!discovery)
            return;
        if (const Error e = discovery->error())
            then(e, ProviderConfiguration());
        else
            checked(discovery->configuration());
    });
    discovery->start();
    return discovery;
}

} // namespace Keyloop
