// SPDX-License-Identifier: MIT
// Client authentication at the provider's endpoints: the token endpoint (RFC 6749 §2.3.1,
// §3.2.1; OIDC Core §9) and the revocation endpoint (RFC 7009 §2.1), which authenticates the
// client the same way. Private to the SDK.
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>

#include "network/httpexchange_p.h"

namespace Keyloop {

/*!
 * Adds the authentication of \a client to a form POST, following
 * ClientConfiguration::clientAuthMethod():
 * - None: `client_id` in \a form (RFC 6749 §3.2.1);
 * - ClientSecretBasic: `Authorization: Basic` over the form-urlencoded id and secret in
 *   \a headers (RFC 6749 §2.3.1);
 * - ClientSecretPost: `client_id` and `client_secret` in \a form.
 * InvalidConfiguration (and nothing added) when the client id, or a secret the method needs, is
 * missing. The message never contains the secret.
 */
Error addClientAuthentication(const ClientConfiguration &client, FormFields *form, HttpHeaders *headers);

} // namespace Keyloop
