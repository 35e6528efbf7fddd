// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clock.h>
#include <keyloop/dpopkey.h>
#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QDateTime>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <chrono>
#include <optional>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class TokenResponsePrivate;

/// What the token request asked for, needed to interpret its response.
struct TokenRequestContext
{
    /// Whether an `id_token` must be in a successful response.
    enum class IdToken {
        Optional, ///< refresh (OIDC Core §12.2) or plain OAuth 2.0
        Required, ///< code exchange with `openid` in the scope (OIDC Core §3.1.3.3)
    };

    /// The scopes the request asked for; a response without `scope` was granted these
    /// (RFC 6749 §5.1 / §3.3).
    QStringList requestedScopes;
    /// Whether the response must carry an `id_token`.
    IdToken idToken = IdToken::Optional;
    /// Clock read at receipt to compute expiresAt(); nullptr means Clock::system().
    const Clock *clock = nullptr;
    /// The request carried a DPoP proof (RFC 9449 §5): `token_type` must be DPoP, not Bearer.
    bool dpop = false;
};

/*!
 * \brief A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
 *
 * An implicitly shared value. It holds secrets (access, refresh and ID tokens): QDebug prints
 * them redacted, and they are never part of an error message.
 */
class KEYLOOP_EXPORT TokenResponse
{
public:
    /// A null response; see parse().
    TokenResponse();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    TokenResponse(const TokenResponse &other);
    TokenResponse(TokenResponse &&other) noexcept;
    TokenResponse &operator=(const TokenResponse &other);
    TokenResponse &operator=(TokenResponse &&other) noexcept;
    ///@}
    ~TokenResponse();

    /*!
     * Interprets a token endpoint answer.
     * - 200: the body must be one JSON object (duplicate members rejected → DuplicateParameter;
     *   not JSON / not an object → MalformedResponse). `access_token` and `token_type` are
     *   required strings (MissingParameter / MalformedResponse); `token_type` must be "Bearer",
     *   or "DPoP" when \a context says the request carried a DPoP proof (RFC 9449 §5), compared
     *   case-insensitively (RFC 6749 §7.1, §5.1) → UnsupportedTokenType.
     *   `expires_in` must be a non-negative integer JSON number; a string is rejected as
     *   MalformedResponse (RFC 6749 §5.1 defines a number; lenient parsing would hide broken
     *   servers). `refresh_token`, `id_token`, `scope` must be strings when present.
     *   `id_token` is required when \a context says so (OIDC Core §3.1.3.3) → MissingParameter.
     *   Unknown members are ignored (RFC 6749 §5.1).
     * - 400/401 (any 4xx) with an RFC 6749 §5.2 JSON error object → Error::oauth(error,
     *   error_description, status).
     * - anything else (3xx, 4xx without an error object, 5xx, other 2xx) → HttpError with the
     *   status (transient for 5xx). The body never goes into the message.
     * Returns a null TokenResponse on error. \a contentType is informative only (many
     * providers send a wrong one); the body decides.
     */
    static TokenResponse parse(int httpStatus, const QByteArray &contentType, QByteArrayView body,
                               const TokenRequestContext &context, Error *error);

    /// True when there is no access token (default-constructed, or parse() failed).
    bool isNull() const;

    /// `access_token`; secret.
    QByteArray accessToken() const;
    /// Sets accessToken().
    void setAccessToken(const QByteArray &token);
    /// `token_type`, as sent (Bearer, or DPoP for a DPoP request, case-insensitively, after parse()).
    QString tokenType() const;
    /// Sets tokenType().
    void setTokenType(const QString &type);
    /// `expires_in`; empty when the server did not say.
    std::optional<std::chrono::seconds> expiresIn() const;
    /// Sets expiresIn().
    void setExpiresIn(std::optional<std::chrono::seconds> expiresIn);
    /// Receipt time + expires_in (UTC); invalid when there is no expires_in.
    QDateTime expiresAt() const;
    /// When the response was received (UTC, from the context's Clock).
    QDateTime receivedAt() const;
    /// Sets receivedAt(); expiresAt() follows from it and expiresIn().
    void setReceivedAt(const QDateTime &receivedAt);
    /// `refresh_token`; empty when none was issued; secret.
    QByteArray refreshToken() const;
    /// Sets refreshToken().
    void setRefreshToken(const QByteArray &token);
    /// True when a refresh token was issued.
    bool hasRefreshToken() const { return !refreshToken().isEmpty(); }
    /// Granted scopes: `scope` split on spaces, or the requested scopes when absent (RFC 6749 §5.1).
    QStringList scopes() const;
    /// Sets scopes().
    void setScopes(const QStringList &scopes);
    /// `id_token` (compact JWS, not yet validated); empty when absent; secret.
    QByteArray idToken() const;
    /// Sets idToken().
    void setIdToken(const QByteArray &token);
    /// True when an ID token is present.
    bool hasIdToken() const { return !idToken().isEmpty(); }

    /*!
     * The key the tokens are bound to (DPoP, RFC 9449): set by TokenJob when the request
     * carried a proof (TokenJob::setDpopKey()); null for Bearer tokens. Session::adoptSignIn()
     * stores it with the refresh token.
     */
    DpopKey dpopKey() const;
    /// Sets dpopKey().
    void setDpopKey(const DpopKey &key);

    /// True when every member is equal (receivedAt() included).
    bool operator==(const TokenResponse &other) const;
    /// The opposite of operator==().
    bool operator!=(const TokenResponse &other) const { return !(*this == other); }

private:
    QSharedDataPointer<TokenResponsePrivate> d;
};

/// Prints token type, expiry, scopes and which tokens are present; token values redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const TokenResponse &response);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::TokenResponse)
