// SPDX-License-Identifier: MIT
// Pushed authorization requests (RFC 9126): TokenClient::pushAuthorizationRequest() prepares a
// PushedAuthorizationJob, which sends one request and reads the answer — with the client
// authentication and the form POST of the token requests (clientauthentication_p.h,
// preparedformpost_p.h).
#include <keyloop/pushedauthorizationjob.h>

#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "network/httpexchange_p.h"
#include "token/clientauthentication_p.h"
#include "token/preparedformpost_p.h"

namespace Keyloop {

class PushedAuthorizationJobPrivate
{
public:
    PushedAuthorizationResponse response;
    PreparedFormPost post; // sent by doStart()
    const Clock *clock = Clock::system();
};

PushedAuthorizationJob::PushedAuthorizationJob(QObject *parent) : Job(parent), d(new PushedAuthorizationJobPrivate) {}

PushedAuthorizationJob::~PushedAuthorizationJob()
{
    d->post.abort(this);
}

PushedAuthorizationResponse PushedAuthorizationJob::response() const { return d->response; }

void PushedAuthorizationJob::doCancel()
{
    d->post.abort(this);
}

void PushedAuthorizationJob::doStart()
{
    if (const Error e = d->post.takeImmediateError()) {
        emitResult(e);
        return;
    }
    qCDebug(lcAuthorization) << "pushed authorization request to" << d->post.endpoint.host() << d->post.endpoint.path();
    HttpExchange *exchange = d->post.send(this);
    connect(exchange, &HttpExchange::finished, this, [this, exchange] {
        d->post.exchange = nullptr;
        if (const Error transportError = exchange->error()) {
            const Error e = PreparedFormPost::transportFailure(transportError, "pushed_authorization_request_endpoint");
            qCDebug(lcAuthorization) << "pushed authorization request failed:" << e.code();
            emitResult(e);
            return;
        }
        Error e;
        const int status = exchange->status();
        const PushedAuthorizationResponse response = PushedAuthorizationResponse::parse(status, exchange->body(), &e);
        if (e && (status == 429 || status == 503)) {
            // RFC 9126 §2.3 names 429; RFC 9110 §10.2.3: the server may say when to come back.
            if (const auto delay = retryAfterDelay(exchange->rawHeader("Retry-After"), d->clock->dateTime()))
                e.setRetryAfter(*delay);
        }
        if (!e)
            d->response = response;
        emitResult(e);
    });
}

// ---- TokenClient::pushAuthorizationRequest ----

PushedAuthorizationJob *TokenClient::pushAuthorizationRequest(const ProviderConfiguration &provider,
                                                              const ClientConfiguration &client,
                                                              const AuthorizationRequest &request)
{
    auto *job = new PushedAuthorizationJob(this);
    PushedAuthorizationJobPrivate *jd = job->d.get();
    jd->clock = clock();
    const auto failLater = [job, jd](const QString &message) {
        jd->post.immediateError = Error(Error::Code::InvalidConfiguration, message);
        return job;
    };
    if (provider.pushedAuthorizationRequestEndpoint().isEmpty())
        return failLater(QStringLiteral("the provider has no pushed_authorization_request_endpoint (RFC 9126 §5)"));
    if (request.isNull())
        return failLater(QStringLiteral("there is no authorization request to push"));
    if (request.clientId() != client.clientId())
        return failLater(QStringLiteral("the authorization request was built for another client id"));

    // RFC 9126 §2.1: the body holds the authorization request's parameters — all of them, the
    // same ones the URL would have carried (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1,
    // RFC 8707 §2), additional parameters included — "with the exception of request_uri", which
    // MUST NOT be provided.
    FormFields form;
    for (const auto &parameter : request.parameters()) {
        if (parameter.first == QLatin1String("request_uri"))
            return failLater(QStringLiteral("the additional parameter request_uri cannot be pushed (RFC 9126 §2.1)"));
        form.append({parameter.first.toUtf8(), parameter.second.toUtf8()});
    }
    // RFC 9126 §2.1: the client authenticates as at the token endpoint (RFC 6749 §2.3) — the one
    // implementation the token and revocation requests use. client_id is already in the
    // parameters (§2.1's example sends it with HTTP Basic too): it is not added a second time.
    FormFields authentication;
    HttpHeaders headers;
    if (const Error e = addClientAuthentication(client, &authentication, &headers)) {
        for (auto &field : form)
            field.second.fill('\0');
        jd->post.immediateError = e;
        return job;
    }
    for (const auto &field : std::as_const(authentication)) {
        if (field.first != "client_id")
            form.append(field);
    }
    jd->post.nam = networkAccessManager();
    jd->post.endpoint = provider.pushedAuthorizationRequestEndpoint();
    jd->post.form = std::move(form);
    jd->post.headers = std::move(headers);
    jd->post.options = transportOptions();
    return job;
}

} // namespace Keyloop
