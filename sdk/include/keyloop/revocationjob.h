// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>

#include <QtCore/QObject>

#include <memory>

namespace Keyloop {

class RevocationJobPrivate;
class TokenClient;

/*!
 * \brief One token revocation request (OAuth 2.0 Token Revocation, RFC 7009), created by
 * TokenClient::revoke().
 *
 * The request (RFC 7009 §2.1) is a form-encoded POST to the provider's `revocation_endpoint`
 * (ProviderConfiguration::revocationEndpoint(), RFC 8414 §2) with `token` and, when given,
 * `token_type_hint` (`refresh_token` or `access_token`), authenticated like the token requests
 * (ClientConfiguration::clientAuthMethod(): `client_id` in the body, HTTP Basic, or
 * `client_secret` in the body). Redirects are never followed; the timeout and the size limit
 * come from the TokenClient's TransportOptions. The token is dropped from memory once sent and
 * is never logged.
 *
 * The answer (RFC 7009 §2.2):
 * - HTTP 200 — the token is invalid now, or already was (an unknown or expired token is not an
 *   error): finished without error, outcome() Revoked. Any other 2xx counts the same; the body is
 *   ignored (§2.2).
 * - HTTP 400 with `unsupported_token_type` (§2.2.1) — the server does not revoke this kind of
 *   token (e.g. oidc-provider for every JWT access token): finished without error, outcome()
 *   UnsupportedTokenType. The token stays valid until it expires.
 * - HTTP 503 (§2.2.1: the token still exists; retry later, `Retry-After` kept in
 *   Error::retryAfter()), any other 5xx, 408, 429, network errors and timeouts: transient errors
 *   (Error::isTransient()).
 * - `invalid_client` / `unauthorized_client`: ClientAuthenticationFailed. Other OAuth errors
 *   (e.g. `invalid_request`): OAuthError with the provider's code. Another status without an
 *   OAuth error body: HttpError. A redirect: UnexpectedRedirect.
 * - Without a revocation endpoint, a token, or the client id/secret the authentication needs:
 *   InvalidConfiguration, reported (like every failure) through finished().
 *
 * \code
 * Keyloop::RevocationJob *job = tokens->revoke(provider, client, refreshToken,
 *                                              Keyloop::RevocationJob::TokenTypeHint::RefreshToken);
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (job->error()) report(job->error()); // e.g. isTransient(): the provider is unreachable
 * });
 * job->start();
 * \endcode
 *
 * A Job: start() queues the request, finished() comes exactly once, then the job deletes itself
 * unless setAutoDelete(false); cancel() aborts the request.
 */
class KEYLOOP_EXPORT RevocationJob : public Job
{
    Q_OBJECT
public:
    /// `token_type_hint` (RFC 7009 §2.1): what the client believes the token is. A hint only:
    /// the server looks at other types too when the token is not of the hinted one.
    enum class TokenTypeHint {
        None,         ///< no `token_type_hint` sent
        AccessToken,  ///< `access_token` (RFC 6749 §1.4)
        RefreshToken, ///< `refresh_token` (RFC 6749 §1.5)
    };
    Q_ENUM(TokenTypeHint)

    /// What the provider did with the token (RFC 7009 §2.2); meaningful once finished without error.
    enum class Outcome {
        Revoked,              ///< HTTP 200: the token is invalid now (or already was)
        UnsupportedTokenType, ///< §2.2.1 `unsupported_token_type`: not revoked; valid until it expires
    };
    Q_ENUM(Outcome)

    ~RevocationJob() override;

    /// The `token_type_hint` sent.
    TokenTypeHint tokenTypeHint() const;
    /// Revoked or UnsupportedTokenType when finished without error; Revoked before.
    Outcome outcome() const;
    // error(): null on success (Revoked or UnsupportedTokenType); see the class description.

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class TokenClient;
    RevocationJob(TokenTypeHint hint, QObject *parent);
    std::unique_ptr<RevocationJobPrivate> d;
};

} // namespace Keyloop
