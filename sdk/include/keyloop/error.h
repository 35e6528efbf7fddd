// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

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

class ErrorPrivate;

/*!
 * \brief The one error type of the whole SDK.
 *
 * An Error says what went wrong in words that never contain a secret, and is shaped by
 * what the caller does next:
 * - requiresSignIn(): the session is gone (invalid_grant, revoked); start a new sign-in.
 * - isTransient(): network trouble or a 5xx; keep everything and try again later.
 * - otherwise: a configuration, protocol, validation or storage problem to report.
 *
 * A default-constructed Error is "no error" (isNull() is true, and it converts to false).
 * message() is safe to show and to log: it carries the rule that failed, never token
 * contents, codes, verifiers or full redirect URLs.
 */
class KEYLOOP_EXPORT Error
{
    Q_GADGET
public:
    /// The broad kind of an error: domain() of its code (domainOf()).
    enum class Domain {
        None,          ///< no error
        Configuration, ///< the app's settings are wrong (bad issuer, insecure endpoint, …)
        Network,       ///< could not talk to the server: DNS, connect, TLS, timeout, proxy
        Protocol,      ///< the server's answer breaks the protocol (malformed, missing, mismatched)
        OAuth,         ///< the server answered with an OAuth error (RFC 6749 §4.1.2.1, §5.2)
        Jose,          ///< a JWS/JWK/JWKS could not be parsed or verified
        IdToken,       ///< an ID token broke an OpenID Connect Core §3.1.3.7 rule
        Storage,       ///< the token store (OS keychain) failed or is unavailable
        Session,       ///< the session cannot continue without a new sign-in
        Cancelled,     ///< the operation was cancelled by the app or the user
    };
    Q_ENUM(Domain)

    /// What exactly went wrong; codeName() gives the enumerator's name.
    enum class Code {
        NoError = 0,            ///< no error: a default-constructed Error

        // Configuration
        InvalidConfiguration,   ///< a required setting is missing or malformed
        InsecureEndpoint,       ///< an endpoint is not https (and not an allowed loopback http)
        ClientAuthenticationFailed, ///< the token endpoint rejected the client (invalid_client, unauthorized_client): check the client id/secret
        CredentialNotAllowed,   ///< a credential may not be sent to that location: not https (RFC 6750 §5.3), not an absolute URL, or user info/query/fragment in it
        RequestBodyTooLarge,    ///< a request body (from a QIODevice) exceeded HttpClient::maxRequestBodySize(); nothing was sent
        EndSessionNotSupported, ///< the provider has no `end_session_endpoint`: it does not offer RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2.1); nothing was opened

        // Network
        NetworkError,           ///< connection failed, reset, DNS, proxy
        TlsError,               ///< TLS handshake or certificate validation failed
        Timeout,                ///< a request or the whole operation took too long
        HttpError,              ///< an unexpected HTTP status with no OAuth error body
        ResponseTooLarge,       ///< a response exceeded the SDK's size limit
        UnexpectedTokenResponse, ///< the token endpoint answered a 4xx that says nothing about the grant (a firewall's 403, a misrouted 404)
        RevocationFailed,       ///< signed out on this device, but the provider did not confirm the revocation (RFC 7009): network, 5xx, or a refused request; the tokens stay valid until they expire

        // Protocol
        MalformedResponse,      ///< a response could not be parsed
        IssuerMismatch,         ///< discovery or RFC 9207 iss does not equal the configured issuer
        MissingParameter,       ///< a required parameter or member is absent
        DuplicateParameter,     ///< a parameter or JSON member occurs more than once
        StateMismatch,          ///< the redirect's state is not this login's (RFC 6749 §10.12)
        UnsupportedTokenType,   ///< token_type is not Bearer (RFC 6749 §7.1), or not DPoP for a request with a DPoP proof (RFC 9449 §5)
        UnexpectedRedirect,     ///< a server answered with an HTTP redirect, which is never followed

        // OAuth: oauthError() carries the error code, oauthErrorDescription() its text
        OAuthError,             ///< an OAuth error response; oauthError() says which
        InsufficientScope,      ///< an API answered 403 `insufficient_scope` (RFC 6750 §3.1); requiredScopes() names what it needs
        StepUpRequired,         ///< an API asked for a stronger or more recent sign-in (RFC 9470 §3); requiredAcrValues(), requiredMaxAge()

        // Loopback redirect and browser
        ListenFailed,           ///< the loopback listener could not bind (e.g. a fixed port in use)
        BrowserLaunchFailed,    ///< the browser could not be opened (the URL is still available)

        // JOSE (RFC 7515/7517/7518)
        JoseMalformed,          ///< not three base64url parts, bad base64url, not a JSON object
        JoseTooLarge,           ///< size limit exceeded
        JoseUnsupportedAlgorithm, ///< alg unknown, none, HS*, or not allowed
        JoseUnknownCritical,    ///< crit names a header we do not understand (RFC 7515 §4.1.11)
        JoseKeyNotFound,        ///< no usable key for kid/alg, even after one JWKS refetch
        JoseInvalidKey,         ///< a key is unusable (too small, wrong curve, wrong use)
        JoseInvalidSignature,   ///< the signature does not verify

        // ID token (OpenID Connect Core §3.1.3.7)
        IdTokenInvalidIssuer,       ///< rule 2
        IdTokenInvalidAudience,     ///< rule 3
        IdTokenInvalidAuthorizedParty, ///< rules 4–5
        IdTokenExpired,             ///< rule 9
        IdTokenNotYetValid,         ///< nbf in the future (RFC 7519 §4.1.5)
        IdTokenIssuedInFuture,      ///< rule 10: iat in the future
        IdTokenTooOld,              ///< rule 10: iat older than the configured maximum
        IdTokenInvalidNonce,        ///< rule 11
        IdTokenInvalidClaim,        ///< a claim has the wrong type (e.g. exp as a string) or sub is missing
        IdTokenInvalidAccessTokenHash, ///< at_hash (§3.1.3.8)
        IdTokenInvalidAuthTime,     ///< rule 13: auth_time missing or too old for max_age
        IdTokenRefreshMismatch,     ///< §12.2: refreshed ID token changed iss/sub/aud/azp
        UserInfoSubjectMismatch,    ///< §5.3.2: UserInfo sub differs from the ID token's

        // Storage
        StorageUnavailable,     ///< no secure backend works (no secret service, locked, denied)
        StorageFailed,          ///< a read/write/delete failed
        StorageCorrupt,         ///< a stored record cannot be read back (unknown version, damaged)
        NotFound,               ///< no stored session for this key
        SessionBusy,            ///< another process held the session's lock too long (e.g. a refresh in flight)
        InsecureLockDirectory,  ///< the directory for the cross-process lock files is not private to this user (another owner, a symlink, open to others); nothing was locked

        // Session
        SignInRequired,         ///< refresh token rejected or absent: sign in again
        SignInTimeout,          ///< the user did not complete the browser sign-in within the login timeout

        // Cancelled
        Cancelled,              ///< cancelled by the app (Job::cancel()) or the user

        // Added in 0.3 (appended, so that the values above keep their numbers)
        DeviceFlowNotSupported, ///< Configuration: the provider has no `device_authorization_endpoint` (RFC 8628 §4), or does not allow this client the device grant
        DeviceCodeExpired,      ///< Session: the device code expired before the user approved the sign-in (RFC 8628 §3.5 `expired_token`)
        PushedAuthorizationNotSupported, ///< Configuration: pushed authorization requests (RFC 9126) were asked for (ClientConfiguration::PushedAuthorizationRequests::Always), but the provider has no `pushed_authorization_request_endpoint` (RFC 9126 §5); nothing was opened
        IdTokenNotReturned,     ///< IdToken: OIDC Core §12.2: a refresh made for a fresh ID token (Session::freshIdToken()) returned none; only a new sign-in brings one
    };
    Q_ENUM(Code)

    /// No error: isNull() is true.
    Error();
    /// An error with \a code and \a message (safe to show: never put a secret in it).
    /// isTransient() starts true for NetworkError and Timeout.
    Error(Code code, const QString &message);
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    Error(const Error &other);
    Error(Error &&other) noexcept;
    Error &operator=(const Error &other);
    Error &operator=(Error &&other) noexcept;
    ///@}
    ~Error();

    /// An OAuth error response (RFC 6749 §4.1.2.1 / §5.2). \a description is sanitised to the
    /// RFC's character set and truncated; \a httpStatus is 0 for a redirect error.
    static Error oauth(const QString &error, const QString &description, int httpStatus = 0);

    /// True for "no error" (Code::NoError).
    bool isNull() const;
    /// True when there is an error: `if (const Keyloop::Error e = job->error())`.
    explicit operator bool() const { return !isNull(); }

    /// What went wrong.
    Code code() const;
    /// The domain of code().
    Domain domain() const;
    /// Safe, human-readable text; never contains a secret.
    QString message() const;
    /// The OAuth `error` value (e.g. "invalid_grant"), empty when not an OAuth error.
    QString oauthError() const;
    /// The OAuth `error_description`, sanitised; may be empty.
    QString oauthErrorDescription() const;
    /// The HTTP status that came with the error, 0 when none.
    int httpStatus() const;
    /// Sets httpStatus(); a status of 500 or more also makes the error transient. Returns *this.
    Error &setHttpStatus(int status);

    /// True for failures worth retrying later without user action: network errors, request
    /// timeouts, 5xx, 408/429, temporarily_unavailable, and a busy cross-process lock.
    bool isTransient() const;
    /// Sets isTransient(). Returns *this.
    Error &setTransient(bool transient);
    /// True when only a new interactive sign-in can help (invalid_grant, SignInRequired).
    bool requiresSignIn() const;

    /// How long the server asked to wait before trying again (RFC 9110 §10.2.3 `Retry-After` on
    /// a 429 or 503), capped at 300 s; zero when it gave none.
    std::chrono::seconds retryAfter() const;
    /// Sets retryAfter(), clamped to [0 s, 300 s]. Returns *this.
    Error &setRetryAfter(std::chrono::seconds delay);

    /*!
     * RFC 6750 §3.1: a resource server's 403 `insufficient_scope` challenge (code
     * InsufficientScope). \a scopes is its `scope` attribute split at spaces (what the request
     * needs); \a description its `error_description` (sanitised like an OAuth description).
     */
    static Error insufficientScope(const QStringList &scopes, const QString &description, int httpStatus = 403);
    /*!
     * RFC 9470 §3: a resource server's `insufficient_user_authentication` challenge (code
     * StepUpRequired): the user must sign in again with \a acrValues and/or \a maxAge (pass them
     * to the new authorization request). The session itself stays valid: requiresSignIn() is
     * false, and the token is neither refreshed nor replayed.
     */
    static Error stepUpRequired(const QStringList &acrValues, std::optional<std::chrono::seconds> maxAge,
                                const QString &description, int httpStatus = 401);
    /// InsufficientScope: the scopes the API requires (RFC 6750 §3.1 `scope`); empty otherwise.
    QStringList requiredScopes() const;
    /// StepUpRequired: the authentication context classes the API accepts (RFC 9470 §3 `acr_values`).
    QStringList requiredAcrValues() const;
    /// StepUpRequired: the largest acceptable age of the user's authentication (RFC 9470 §3
    /// `max_age`); empty when the API named none.
    std::optional<std::chrono::seconds> requiredMaxAge() const;

    /*!
     * The same error under another \a code and \a message, keeping the OAuth fields, the HTTP
     * status and Retry-After; transience is reset to the new code's default. Used where a
     * layer knows more than the one that made the error (a token-endpoint answer classified
     * by what it means for the session).
     */
    Error reclassified(Code code, const QString &message) const;

    /// The name of the code, e.g. "IdTokenInvalidAudience".
    static QString codeName(Code code);
    /// The domain \a code belongs to.
    static Domain domainOf(Code code);
    /// codeName(code()) + ": " + message().
    QString toString() const;

    /// True when code(), message(), oauthError() and httpStatus() are equal.
    bool operator==(const Error &other) const;
    /// The opposite of operator==().
    bool operator!=(const Error &other) const { return !(*this == other); }

private:
    QSharedDataPointer<ErrorPrivate> d;
};

/// Prints toString() and the HTTP status, if any.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const Error &error);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::Error)
