// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>

#include <chrono>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class PushedAuthorizationResponsePrivate;

/*!
 * \brief A successful answer of the pushed authorization request endpoint (RFC 9126 §2.2).
 *
 * An implicitly shared, immutable value: the `request_uri` that stands for the pushed
 * authorization request, and its lifetime. Open AuthorizationRequest::urlWithRequestUri() with
 * it — once (RFC 9126 §4: the client MUST use a request_uri only once) and before it expires.
 * The request_uri is a short-lived, single-use reference, but whoever presents it first starts
 * this sign-in's authorization: QDebug prints it redacted, and it never goes into an error
 * message or a log line.
 */
class KEYLOOP_EXPORT PushedAuthorizationResponse
{
public:
    /// A null response; see parse().
    PushedAuthorizationResponse();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    PushedAuthorizationResponse(const PushedAuthorizationResponse &other);
    PushedAuthorizationResponse(PushedAuthorizationResponse &&other) noexcept;
    PushedAuthorizationResponse &operator=(const PushedAuthorizationResponse &other);
    PushedAuthorizationResponse &operator=(PushedAuthorizationResponse &&other) noexcept;
    ///@}
    ~PushedAuthorizationResponse();

    /*!
     * Interprets an answer of the pushed authorization request endpoint.
     * - 201 Created (RFC 9126 §2.2; no other status is a success): the body must be one JSON
     *   object (strict: duplicate members → DuplicateParameter; not JSON, not an object →
     *   MalformedResponse) with `request_uri`, a non-empty string that is an absolute URI
     *   (oidc-provider: `urn:ietf:params:oauth:request_uri:…`), and `expires_in`, a positive
     *   integer JSON number of seconds. Absent → MissingParameter; the wrong type, a string
     *   "60", zero, a fraction or a relative URI → MalformedResponse. Unknown members are ignored.
     * - a 4xx with an RFC 6749 §5.2 error object (RFC 9126 §2.3: e.g. `invalid_request`,
     *   `invalid_target`, `invalid_scope`) → OAuthError with oauthError() set; `invalid_client`
     *   and `unauthorized_client` → ClientAuthenticationFailed (the client, not the request, was
     *   refused).
     * - anything else — another 2xx (a 200 is not the 201 §2.2 requires), 405, 413, 429
     *   (RFC 9126 §2.3) and other 4xx without an error object, 5xx → HttpError with the
     *   status (transient for 5xx and 429).
     * Messages name the rule and the status, never the body or the request_uri.
     */
    static PushedAuthorizationResponse parse(int httpStatus, QByteArrayView body, Error *error);

    /// True when there is no request_uri (default-constructed, or parse() failed).
    bool isNull() const;
    /// `request_uri` (RFC 9126 §2.2): the single-use reference to the pushed request. Do not log.
    QByteArray requestUri() const;
    /// `expires_in` (RFC 9126 §2.2): how long requestUri() is valid from the answer on; positive.
    std::chrono::seconds expiresIn() const;

private:
    QSharedDataPointer<PushedAuthorizationResponsePrivate> d;
};

/// Prints the lifetime; the request_uri is redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const PushedAuthorizationResponse &response);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::PushedAuthorizationResponse)
