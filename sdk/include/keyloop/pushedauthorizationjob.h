// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
#include <keyloop/pushedauthorizationresponse.h>

#include <QtCore/QObject>

#include <memory>

namespace Keyloop {

class PushedAuthorizationJobPrivate;
class TokenClient;

/*!
 * \brief One pushed authorization request (OAuth 2.0 Pushed Authorization Requests, RFC 9126),
 * created by TokenClient::pushAuthorizationRequest().
 *
 * The request (RFC 9126 §2.1) is a form-encoded POST to the provider's
 * `pushed_authorization_request_endpoint` (ProviderConfiguration::
 * pushedAuthorizationRequestEndpoint(), §5) whose body is the authorization request's
 * parameters (AuthorizationRequest::parameters(): `response_type`, `client_id`, `redirect_uri`,
 * `scope`, `state`, `nonce`, the PKCE challenge, `prompt`, `max_age`, `resource` … and the
 * client's additional parameters), authenticated like the token requests
 * (ClientConfiguration::clientAuthMethod(), the same code: `client_id` in the body, HTTP Basic,
 * or `client_secret` in the body). Redirects are never followed; the timeout and the size limit
 * come from the TokenClient's TransportOptions. The form is wiped from memory once sent, and
 * nothing of it is logged.
 *
 * The answer is read by PushedAuthorizationResponse::parse(): 201 with `request_uri` and
 * `expires_in` finishes without error (response()); an RFC 9126 §2.3 error is an OAuthError
 * (or ClientAuthenticationFailed), network failures, timeouts and 5xx are transient errors, a
 * redirect is UnexpectedRedirect, a malformed answer MalformedResponse / MissingParameter. A
 * `Retry-After` on a 429 or 503 is kept in Error::retryAfter(). Without an endpoint, or with an
 * additional parameter `request_uri` (§2.1: it MUST NOT be pushed), the job finishes with
 * InvalidConfiguration without sending anything.
 *
 * \code
 * Keyloop::PushedAuthorizationJob *job = tokens->pushAuthorizationRequest(provider, client, request);
 * connect(job, &Keyloop::Job::finished, this, [job, request] {
 *     if (job->error()) return report(job->error());
 *     launcher->openUrl(request.urlWithRequestUri(job->response().requestUri()));
 * });
 * job->start();
 * \endcode
 *
 * A Job: start() queues the request, finished() comes exactly once, then the job deletes itself
 * unless setAutoDelete(false); cancel() aborts the request.
 */
class KEYLOOP_EXPORT PushedAuthorizationJob : public Job
{
    Q_OBJECT
public:
    ~PushedAuthorizationJob() override;

    /// The endpoint's answer; null unless finished without error.
    PushedAuthorizationResponse response() const;

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class TokenClient;
    explicit PushedAuthorizationJob(QObject *parent);
    std::unique_ptr<PushedAuthorizationJobPrivate> d;
};

} // namespace Keyloop
