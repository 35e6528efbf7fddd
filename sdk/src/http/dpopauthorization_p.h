// SPDX-License-Identifier: MIT
// The Authorization header of an access token, Bearer (RFC 6750 §2.1) or DPoP (RFC 9449 §7.1),
// and the proof that goes with a DPoP one: shared by SessionCredential and
// ClientCredentialsCredential. Private to the SDK.
#pragma once

#include <keyloop/credential.h>
#include <keyloop/dpopkey.h>

#include <QtCore/QDateTime>

namespace Keyloop::DpopAuthorization {

/// True for a `token_type` of DPoP (case-insensitive, RFC 6749 §7.1).
bool isDpopType(const QString &tokenType);
/// "DPoP <token>" when \a tokenType is DPoP and \a key is set, else "Bearer <token>". A DPoP token
/// without its key cannot be used: it goes as Bearer and the API refuses it (RFC 9449 §7.2).
QByteArray headerValue(const QString &tokenType, const DpopKey &key, const QByteArray &token);
/// True for a header value made by headerValue() for a DPoP-bound token ("DPoP …").
bool isDpopValue(const QByteArray &headerValue);
/// The token inside a header value made by headerValue().
QByteArray tokenOf(const QByteArray &headerValue);
/// The `DPoP` proof header for a request with \a method to \a url carrying \a headerValue (RFC 9449
/// §7.1: `ath` of its token, the server's last nonce); none for a Bearer value or a null key.
Credential::HeaderList proofHeaders(const DpopKey &key, const QByteArray &method, const QUrl &url,
                                    const QByteArray &headerValue, const QDateTime &now);
/// Remembers a `DPoP-Nonce` among \a headers for \a url's server (RFC 9449 §9).
void rememberNonce(const DpopKey &key, const QUrl &url, const Credential::HeaderList &headers);

} // namespace Keyloop::DpopAuthorization
