// SPDX-License-Identifier: MIT
// WWW-Authenticate (RFC 9110 §11.6.1) and the Bearer challenge (RFC 6750 §3, RFC 9470 §3).
// Private to the SDK; input from the network, parsed without trusting it.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QPair>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <chrono>
#include <optional>

namespace Keyloop {

/// One challenge: `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
struct AuthChallenge
{
    QByteArray scheme;   ///< lower-case
    QByteArray token68;
    QList<QPair<QByteArray, QByteArray>> params; ///< names lower-case, values unquoted
    bool duplicateParams = false; ///< a name occurs twice (RFC 9110 §11.2: MUST only occur once)

    /// The value of parameter \a name; empty when absent or given more than once.
    QByteArray param(QByteArrayView name) const;
};

/*!
 * Parses a WWW-Authenticate field value: a comma-separated list of challenges (several fields
 * are joined with ", " by Qt). Parsing stops at the first malformed element; the challenges
 * before it are returned. At most 16 challenges and 32 parameters each are kept.
 */
QList<AuthChallenge> parseWwwAuthenticate(QByteArrayView value);

/// What a Bearer challenge says (RFC 6750 §3, RFC 9470 §3), checked and bounded.
struct BearerChallenge
{
    bool present = false;      ///< a Bearer challenge was found
    QString error;             ///< `error` (RFC 6750 §3.1), if it is a valid error code
    QString description;       ///< `error_description`, raw (Error sanitises it)
    QStringList scopes;        ///< `scope` split at spaces (scope-tokens only, RFC 6749 §3.3)
    QStringList acrValues;     ///< `acr_values` split at spaces (RFC 9470 §3)
    std::optional<std::chrono::seconds> maxAge; ///< `max_age` (RFC 9470 §3): non-negative digits only
};

/// The first challenge of \a scheme (lower-case; "bearer", or "dpop" for RFC 9449 §7.1, whose
/// parameters are the same) in \a value (a WWW-Authenticate field value).
BearerChallenge bearerChallenge(QByteArrayView value, QByteArrayView scheme = "bearer");

} // namespace Keyloop
