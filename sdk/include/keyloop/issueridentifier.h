// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QString>
#include <QtCore/QUrl>

namespace Keyloop {

/*!
 * \brief The one string form of an issuer identifier that Keyloop compares and stores.
 *
 * OpenID Connect Discovery §4.3 and RFC 8414 §3.3 require the discovery document's `issuer`
 * to be identical to the issuer the client used; OIDC Core §3.1.3.7 rule 2 requires the ID
 * token's `iss` to match it exactly, and RFC 9207 §2.4 compares the authorization response's
 * `iss` by simple string comparison. Keyloop makes every one of these comparisons, and derives
 * every store key (TokenStore::keyFor(), SessionRecord::issuer(), AccountIndexEntry::issuer),
 * with this string:
 *
 * the URL in its RFC 3986 form, all ASCII: a non-ASCII host in its IDNA A-label ("xn--") form,
 * non-ASCII and reserved characters of the path percent-encoded with upper-case hex digits
 * (QUrl::FullyEncoded). For example `https://münchen.de/realms/dév` becomes
 * `https://xn--mnchen-3ya.de/realms/d%C3%A9v`. For an issuer of plain ASCII characters that
 * need no percent-encoding it is the same string as QUrl::toString(), so keys that earlier
 * versions stored for such issuers stay valid.
 *
 * A provider publishes its issuer in exactly this form when it follows RFC 3986. QUrl also
 * normalizes what RFC 3986 §6.2.2 calls equivalent (a lower-case host, upper-case hex digits,
 * `%7E` → `~`), so an issuer that a provider writes in a non-normalized spelling never
 * compares equal: configure such a provider's endpoints by hand, or ask it to fix its issuer.
 *
 * Use it wherever an app compares an issuer with an AccountIndexEntry or builds a key:
 * \code
 * if (entry.issuer == Keyloop::issuerIdentifier(client.issuer())) { … }
 * \endcode
 */
KEYLOOP_EXPORT QString issuerIdentifier(const QUrl &issuer);

} // namespace Keyloop
