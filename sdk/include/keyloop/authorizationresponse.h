// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/authorizationrequest.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QByteArray>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class AuthorizationResponsePrivate;

/*!
 * \brief The authorization response received at the redirect URI (RFC 6749 §4.1.2).
 *
 * parse() checks, in this order:
 * 1. the query is well-formed application/x-www-form-urlencoded ('+' is a space, percent
 *    escapes must be valid) → MalformedResponse; no parameter occurs twice (RFC 6749 §3.1)
 *    → DuplicateParameter;
 * 2. `state` is present and equals the request's, compared in constant time (RFC 6749
 *    §10.12) → StateMismatch. A caller (the loopback receiver) ignores callbacks failing
 *    here and keeps waiting;
 * 3. `iss` (RFC 9207 §2.4): when present it must equal the issuer exactly → IssuerMismatch;
 *    when absent but the provider advertises authorization_response_iss_parameter_supported
 *    → MissingParameter. This applies to error responses too: an error that another provider
 *    sent (a mix-up) is reported as IssuerMismatch, never as that provider's OAuth error;
 * 4. an `error` parameter → Error::oauth(error, error_description) (RFC 6749 §4.1.2.1);
 * 5. `code` is present and non-empty → MissingParameter.
 */
class KEYLOOP_EXPORT AuthorizationResponse
{
public:
    /// A null response; see parse().
    AuthorizationResponse();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    AuthorizationResponse(const AuthorizationResponse &other);
    AuthorizationResponse(AuthorizationResponse &&other) noexcept;
    AuthorizationResponse &operator=(const AuthorizationResponse &other);
    AuthorizationResponse &operator=(AuthorizationResponse &&other) noexcept;
    ///@}
    ~AuthorizationResponse();

    /// \a rawQuery is the query component of the redirect request, without the leading '?'.
    static AuthorizationResponse parse(const QByteArray &rawQuery,
                                       const AuthorizationRequest &request,
                                       const ProviderConfiguration &provider, Error *error);

    /// True when there is no code (default-constructed, or parse() failed).
    bool isNull() const;
    /// `code`; secret.
    QByteArray code() const;
    /// `state`; secret.
    QByteArray state() const;
    /// `iss` (RFC 9207), empty when absent.
    QString issuer() const;

private:
    QSharedDataPointer<AuthorizationResponsePrivate> d;
};

/// Prints whether a code is present and the issuer; the code and state are redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const AuthorizationResponse &response);

} // namespace Keyloop
