// SPDX-License-Identifier: MIT
#include <keyloop/issueridentifier.h>

namespace Keyloop {

// OIDC Discovery §4.3 / RFC 8414 §3.3 / RFC 9207 §2.4 / OIDC Core 3.1.3.7 rule 2: one string,
// compared exactly. The RFC 3986 form (ASCII only: A-label host, percent-encoded path) is the
// one a URL has on the wire and in JSON; QUrl's default toString() would decode the path and,
// for some top-level domains, the host, giving a second form of the same issuer.
QString issuerIdentifier(const QUrl &issuer)
{
    if (issuer.isEmpty())
        return QString();
    return QString::fromLatin1(issuer.toEncoded(QUrl::FullyEncoded));
}

} // namespace Keyloop
