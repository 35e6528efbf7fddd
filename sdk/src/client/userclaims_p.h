// SPDX-License-Identifier: MIT
// The signed-in user's claims, for display, from an ID token that was validated when it was
// received (OIDC Core §3.1.3.7 at sign-in, §12.2 at refresh) and kept in the keychain since.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QJsonObject>

namespace Keyloop::UserClaims {

/// The payload of \a idToken as a JSON object; empty when it is not a JWS with a JSON payload.
/// No signature check here: only tokens that passed validation are stored.
QJsonObject fromIdToken(const QByteArray &idToken);

} // namespace Keyloop::UserClaims
