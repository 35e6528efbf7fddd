// SPDX-License-Identifier: MIT
// Token revocation (RFC 7009): TokenClient::revoke() prepares a RevocationJob, which sends one
// request and reads the answer.
#include <keyloop/revocationjob.h>

#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "core/strictjson_p.h"
#include "token/oautherrorbody_p.h"
#include "network/httpexchange_p.h"
#include "token/preparedformpost_p.h"
#include "token/clientauthentication_p.h"

#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>

#include <optional>

namespace Keyloop {

class RevocationJobPrivate
{
public:
    RevocationJob::TokenTypeHint hint = RevocationJob::TokenTypeHint::None;
    RevocationJob::Outcome outcome = RevocationJob::Outcome::Revoked;
    PreparedFormPost post; // sent by doStart()
    const Clock *clock = Clock::system();
};

namespace {

const char *hintName(RevocationJob::TokenTypeHint hint)
{
    switch (hint) {
    case RevocationJob::TokenTypeHint::None: return "";
    case RevocationJob::TokenTypeHint::AccessToken: return "access_token";
    case RevocationJob::TokenTypeHint::RefreshToken: return "refresh_token";
    }
    return "";
}

// The revocation endpoint's answer (RFC 7009 §2.2). Null error: done, with *outcome set.
Error interpretAnswer(const HttpExchange &exchange, const QDateTime &now, RevocationJob::Outcome *outcome)
{
    const int status = exchange.status();
    // RFC 7009 §2.2: 200 means revoked — also for a token that was already invalid or unknown
    // (the client cannot tell, and need not). The body is ignored. Another 2xx (a 204 from a
    // server that has nothing to say) is read the same way.
    if (status >= 200 && status < 300) {
        *outcome = RevocationJob::Outcome::Revoked;
        return Error();
    }
    const std::optional<Error> oauth = status >= 400 ? oauthErrorFromBody(exchange.body(), status) : std::nullopt;
    // RFC 7009 §2.2.1: unsupported_token_type — the server does not revoke this type of token
    // (oidc-provider answers it for every JWT access token). Nothing more can be done: done.
    if (oauth && status < 500 && oauth->oauthError() == QLatin1String("unsupported_token_type")) {
        *outcome = RevocationJob::Outcome::UnsupportedTokenType;
        return Error();
    }
    Error e = oauth ? *oauth
                    : Error(Error::Code::HttpError,
                            QStringLiteral("the revocation endpoint answered HTTP %1 without an OAuth error (RFC 7009 §2.2)")
                                .arg(status))
                          .setHttpStatus(status); // a 5xx is transient
    // RFC 9110 §15.5.9 (408), RFC 6585 §4 (429): worth trying again later, like a 5xx.
    if (status == 408 || status == 429)
        e.setTransient(true);
    // RFC 7009 §2.2.1: with 503 the token still exists; the server may say when to retry
    // (RFC 9110 §10.2.3 Retry-After), as with 429.
    if (status == 429 || status == 503) {
        if (const auto delay = retryAfterDelay(exchange.rawHeader("Retry-After"), now))
            e.setRetryAfter(*delay);
    }
    if (e.code() == Error::Code::OAuthError
        && (e.oauthError() == QLatin1String("invalid_client") || e.oauthError() == QLatin1String("unauthorized_client"))) {
        // RFC 7009 §2.2.1 / RFC 6749 §5.2: the client, not the token, was refused.
        e = e.reclassified(Error::Code::ClientAuthenticationFailed,
                           QStringLiteral("the revocation endpoint refused this client (OAuth error \"%1\"): check the "
                                          "client id and the client secret")
                               .arg(e.oauthError()));
    }
    return e;
}

} // namespace

RevocationJob::RevocationJob(TokenTypeHint hint, QObject *parent) : Job(parent), d(new RevocationJobPrivate)
{
    d->hint = hint;
}

RevocationJob::~RevocationJob()
{
    d->post.abort(this);
}

RevocationJob::TokenTypeHint RevocationJob::tokenTypeHint() const { return d->hint; }
RevocationJob::Outcome RevocationJob::outcome() const { return d->outcome; }

void RevocationJob::doCancel()
{
    d->post.abort(this);
}

void RevocationJob::doStart()
{
    if (const Error e = d->post.takeImmediateError()) {
        emitResult(e);
        return;
    }
    qCDebug(lcToken) << "revocation request to" << d->post.endpoint.host() << d->post.endpoint.path()
                     << "hint:" << hintName(d->hint);
    HttpExchange *exchange = d->post.send(this);
    connect(exchange, &HttpExchange::finished, this, [this, exchange] {
        d->post.exchange = nullptr;
        if (const Error transportError = exchange->error()) {
            const Error e = PreparedFormPost::transportFailure(transportError, "revocation_endpoint");
            qCDebug(lcToken) << "revocation request failed:" << e.code();
            emitResult(e);
            return;
        }
        const Error e = interpretAnswer(*exchange, d->clock->dateTime(), &d->outcome);
        qCDebug(lcToken) << "revocation request finished, HTTP" << exchange->status() << ":"
                         << (e ? e.code() : Error::Code::NoError) << d->outcome;
        emitResult(e);
    });
}

// ---- TokenClient::revoke ----

RevocationJob *TokenClient::revoke(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                   const QByteArray &token, RevocationJob::TokenTypeHint hint)
{
    auto *job = new RevocationJob(hint, this);
    RevocationJobPrivate *jd = job->d.get();
    jd->clock = clock();
    if (provider.revocationEndpoint().isEmpty()) {
        jd->post.immediateError = Error(Error::Code::InvalidConfiguration,
                                   QStringLiteral("the provider has no revocation_endpoint (RFC 7009 §2, RFC 8414 §2)"));
        return job;
    }
    if (token.isEmpty()) {
        jd->post.immediateError = Error(Error::Code::InvalidConfiguration, QStringLiteral("there is no token to revoke"));
        return job;
    }

    // RFC 7009 §2.1: token, token_type_hint, and the client's authentication (§2.1: "the client
    // also includes its authentication credentials as described in Section 2.3 of [RFC6749]").
    FormFields form{{QByteArrayLiteral("token"), token}};
    if (hint != RevocationJob::TokenTypeHint::None)
        form.append({QByteArrayLiteral("token_type_hint"), QByteArray(hintName(hint))});
    HttpHeaders headers;
    if (const Error e = addClientAuthentication(client, &form, &headers)) {
        for (auto &field : form)
            field.second.fill('\0');
        jd->post.immediateError = e;
        return job;
    }
    jd->post.nam = networkAccessManager();
    jd->post.endpoint = provider.revocationEndpoint();
    jd->post.form = std::move(form);
    jd->post.headers = std::move(headers);
    jd->post.options = transportOptions();
    return job;
}

} // namespace Keyloop
