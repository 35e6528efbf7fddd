// SPDX-License-Identifier: MIT
// The RFC 6749 §5.2 error body that the provider's back-channel endpoints share: the token
// endpoint, the revocation endpoint (RFC 7009 §2.2.1) and the pushed authorization request
// endpoint (RFC 9126 §2.3). Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArrayView>

#include <optional>

namespace Keyloop {

/// The OAuth error in \a body — one JSON object (parsed strictly) with a non-empty string
/// `error` and an optional string `error_description` — as Error::oauth(error, description,
/// \a httpStatus); nullopt when the body is not such an object.
std::optional<Error> oauthErrorFromBody(QByteArrayView body, int httpStatus);

} // namespace Keyloop
