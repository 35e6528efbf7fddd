// SPDX-License-Identifier: MIT
// The ID token validator of a sign-in (browser or device), set up one way. Private to the SDK.
#pragma once
#include <keyloop/clientconfiguration.h>
#include <keyloop/clock.h>
#include <keyloop/idtokenvalidator.h>
#include <keyloop/providerconfiguration.h>

namespace Keyloop {

/// A validator for \a provider's ID tokens issued to \a client: OIDC Core 3.1.3.7 rule 2 compares
/// iss with issuerIdentifier() of the provider's issuer — the same string discovery (OIDC
/// Discovery §4.3) and RFC 9207 compared, never another QUrl formatting; the algorithms both
/// sides allow; the client's leeway; \a clock.
IdTokenValidator signInIdTokenValidator(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                        const Clock *clock);

} // namespace Keyloop
