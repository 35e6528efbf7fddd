// SPDX-License-Identifier: MIT
// Which HTTP redirects HttpClient follows, and how (RFC 9110 §15.4). Private to the SDK.
#pragma once

#include <keyloop/error.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QByteArray>
#include <QtCore/QUrl>

namespace Keyloop {

/// The most redirects followed for one request.
constexpr int kMaxRedirects = 5;

/// What to do with a response (pure: no I/O).
struct RedirectStep
{
    bool follow = false;      ///< false and no error: not a redirect to follow; the response is final
    Error error;              ///< set: a redirect that is refused
    QUrl target;              ///< normalized (no fragment, no dot segments)
    QByteArray method;        ///< the method for the target
    bool keepBody = true;     ///< 307/308 keep method and body; a GET made of a POST has none
    bool crossOrigin = false; ///< the target is another origin (RFC 6454)
};

/*!
 * Decides about a response with \a status and \a location to a \a method request to \a from,
 * after \a redirectsSoFar redirects. Followed: 301, 302, 303, 307, 308 with a Location — never
 * more than kMaxRedirects, never from https to http, never to a URL the transport options refuse
 * (UnexpectedRedirect). RFC 9110 §15.4.4: a 303 becomes a GET (a HEAD stays a HEAD);
 * §15.4.2/§15.4.3: a POST redirected by 301/302 becomes a GET, as every user agent does;
 * §15.4.8/§15.4.9: 307/308 keep the method and the body.
 */
RedirectStep nextRedirect(int status, const QByteArray &location, const QUrl &from, const QByteArray &method,
                          int redirectsSoFar, const TransportOptions &options);

} // namespace Keyloop
