// SPDX-License-Identifier: MIT
// The DPoP key of a sign-in or a client credentials credential (RFC 9449): made before the first
// token request, in the algorithm the provider accepts. Shared by SignIn, DeviceSignIn and
// ClientCredentialsCredential. Private to the SDK.
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/dpopkey.h>
#include <keyloop/error.h>
#include <keyloop/providerconfiguration.h>

namespace Keyloop {

/*!
 * Makes \a key when \a client asks for DPoP and \a key is still null: the algorithm the provider
 * accepts (§5.1: ES256 unless it lists only EdDSA). A provider that lists neither fails with
 * InvalidConfiguration; with DPoP off \a key stays null.
 */
Error ensureDpopKey(const ClientConfiguration &client, const ProviderConfiguration &provider, DpopKey *key);

} // namespace Keyloop
