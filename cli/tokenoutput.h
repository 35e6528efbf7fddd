// SPDX-License-Identifier: MIT
// What `keyloop token --json` and `keyloop token --exec-credential` print (docs/cli.md).
#pragma once

#include <keyloop/sessionrecord.h>

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QString>

namespace KeyloopCli {

/*!
 * `keyloop token --json`: one JSON object and a newline, with the members of an RFC 6749 §5.1
 * token response where they mean the same —
 *   access_token  the token (\a token)
 *   token_type    as issued ("Bearer"; "Bearer" too for a token stored without its type, by
 *                 Keyloop 0.2, which accepted nothing else)
 *   expires_in    whole seconds left at \a now (never negative); null when the provider gave no
 *                 expiry
 *   expires_at    the expiry, RFC 3339 in UTC ("2026-01-31T09:12:44Z"); null likewise
 *   resource      the RFC 8707 resource the token is for; null for the provider's own token
 * \a info is the session's record of the token (type and expiry).
 */
QByteArray accessTokenJson(const QByteArray &token, const Keyloop::SessionAccessToken &info,
                           const QString &resource, const QDateTime &now);

/// The ExecCredential versions `--exec-credential` writes (client.authentication.k8s.io).
inline QString execCredentialV1() { return QStringLiteral("client.authentication.k8s.io/v1"); }
/// The older version, for kubectl before 1.22 (the same members).
inline QString execCredentialV1Beta1() { return QStringLiteral("client.authentication.k8s.io/v1beta1"); }

/*!
 * The apiVersion kubectl asks for in \a execInfo, the KUBERNETES_EXEC_INFO variable it sets for
 * a credential plugin (an ExecCredential with only a spec): kubectl accepts an answer of exactly
 * that version. Empty \a execInfo (run by hand, or by a client that sets none): v1.
 * Returns false, with a message for the user in \a problem, when it is not an ExecCredential of
 * a version keyloop writes (v1, v1beta1).
 */
bool execCredentialVersion(const QByteArray &execInfo, QString *apiVersion, QString *problem);

/*!
 * `keyloop token --exec-credential`: the ExecCredential of \a apiVersion with `status.token` =
 * \a idToken and `status.expirationTimestamp` = its `exp` (RFC 3339, UTC), and a newline.
 * \a idToken was validated by the session; its payload is only read here.
 */
QByteArray execCredentialJson(const QString &apiVersion, const QByteArray &idToken);

/// The `exp` of a JWT (RFC 7519 §4.1.4) read from its payload without any check, whole seconds;
/// invalid when there is none.
QDateTime jwtExpiry(const QByteArray &jwt);

/// True when an access token of \a record is bound to a key: token_type "DPoP" (RFC 9449 §5;
/// token types compare case-insensitively, RFC 6749 §5.1).
bool hasKeyBoundTokens(const Keyloop::SessionRecord &record);

} // namespace KeyloopCli
