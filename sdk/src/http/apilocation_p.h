// SPDX-License-Identifier: MIT
// Where a credential may go: an API location (scheme, host, port, path prefix). Private to the SDK.
#pragma once

#include <keyloop/error.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QString>
#include <QtCore/QUrl>

namespace Keyloop {

/*!
 * An API location a credential is bound to. Matching is exact on scheme, host and port
 * (RFC 6454 origins; the default port filled in) and segment-wise on the path: the prefix
 * `/api` matches `/api`, `/api/` and `/api/items`, never `/apix`. Paths are compared
 * percent-encoded and case-sensitively, after dot segments are removed (RFC 3986 §5.2.4); a
 * path that still holds an encoded dot segment (`%2e%2e`) matches nothing, since a server may
 * decode it into a step outside the prefix.
 */
class ApiLocation
{
public:
    /// Parses \a url under \a options: absolute, https (or loopback http with the development
    /// opt-in), no user info, query or fragment. Sets \a error (CredentialNotAllowed) and returns
    /// an invalid location otherwise.
    static ApiLocation fromUrl(const QUrl &url, const TransportOptions &options, Error *error);

    bool isValid() const { return m_port > 0; }
    /// True when \a url (normalized with normalizedRequestUrl()) is inside this location.
    bool contains(const QUrl &url) const;
    /// The length of the path prefix: the most specific location wins.
    qsizetype specificity() const { return m_path.size(); }

    /// A request URL as it is matched and sent: no fragment, dot segments removed.
    static QUrl normalizedRequestUrl(const QUrl &url);
    /// RFC 6454 §4: same scheme, host and port (default ports filled in).
    static bool sameOrigin(const QUrl &a, const QUrl &b);

private:
    QString m_scheme;
    QString m_host;
    int m_port = 0;
    QString m_path; ///< percent-encoded, without a trailing '/'; "" = the whole origin
};

} // namespace Keyloop
