// SPDX-License-Identifier: MIT
// The OAuth error response body (RFC 6749 §5.2), which the token, revocation (RFC 7009 §2.2.1),
// device authorization (RFC 8628 §3.2) and pushed authorization request (RFC 9126 §2.3) endpoints
// share. Private to the SDK.
#pragma once
#include <keyloop/error.h>
#include <QtCore/QByteArrayView>
#include <optional>

namespace Keyloop {

/// `{"error": "...", "error_description": "..."}` as Error::oauth(); nullopt when \a body is not
/// a strict JSON object with a non-empty string `error`. The body is never quoted in messages.
std::optional<Error> oauthErrorFromBody(QByteArrayView body, int status);

} // namespace Keyloop
