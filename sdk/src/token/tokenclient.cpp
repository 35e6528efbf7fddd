// SPDX-License-Identifier: MIT
#include <keyloop/tokenclient.h>

#include "core/logging_p.h"

#include "network/httpexchange_p.h"
#include "token/preparedformpost_p.h"
#include "token/clientauthentication_p.h"

#include <QtCore/QMetaObject>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>

namespace Keyloop {

class TokenJobPrivate
{
public:
    TokenJob::Grant grant = TokenJob::Grant::AuthorizationCode;
    TokenRequestContext context;
    TokenResponse response;
    PreparedFormPost post; // sent by doStart()
    DpopKey dpopKey;       // RFC 9449: a proof with each request when set
    bool nonceRetried = false;

    void send(TokenJob *q);
    void onFinished(TokenJob *q, HttpExchange *exchange);
};

class TokenClientPrivate
{
public:
    QPointer<QNetworkAccessManager> nam;
    TransportOptions options;
    const Clock *clock = Clock::system();

    TokenJob *prepare(TokenClient *q, TokenJob::Grant grant, const ProviderConfiguration &provider,
                      const ClientConfiguration &client, FormFields form, const TokenRequestContext &context);
};

namespace {

const char *grantName(TokenJob::Grant grant)
{
    switch (grant) {
    case TokenJob::Grant::AuthorizationCode: return "authorization_code";
    case TokenJob::Grant::RefreshToken: return "refresh_token";
    case TokenJob::Grant::ClientCredentials: return "client_credentials";
    case TokenJob::Grant::DeviceCode: return "device_code";
    }
    return "";
}

// The grants that end a sign-in (code exchange, device code): the configured scopes were asked
// for, and with openid among them the answer must carry an ID token (OIDC Core §3.1.3.3).
TokenRequestContext signInContext(const ClientConfiguration &client, const ProviderConfiguration &provider)
{
    TokenRequestContext context;
    context.requestedScopes = AuthorizationRequest::requestedScopes(client, provider);
    context.idToken = context.requestedScopes.contains(QLatin1String("openid"))
        ? TokenRequestContext::IdToken::Required
        : TokenRequestContext::IdToken::Optional;
    return context;
}

} // namespace

// ---- TokenJob ----

TokenJob::TokenJob(Grant grant, QObject *parent) : Job(parent), d(new TokenJobPrivate)
{
    d->grant = grant;
}

TokenJob::~TokenJob()
{
    d->post.abort(this);
}

TokenJob::Grant TokenJob::grant() const { return d->grant; }
TokenResponse TokenJob::response() const { return d->response; }

void TokenJob::doCancel()
{
    d->post.abort(this);
}

void TokenJob::setDpopKey(const DpopKey &key) { d->dpopKey = key; }
DpopKey TokenJob::dpopKey() const { return d->dpopKey; }

void TokenJob::doStart()
{
    if (const Error e = d->post.takeImmediateError()) {
        emitResult(e);
        return;
    }
    d->context.dpop = !d->dpopKey.isNull();
    d->send(this);
}

void TokenJobPrivate::send(TokenJob *q)
{
    qCDebug(lcToken) << grantName(grant) << "request to" << post.endpoint.host() << post.endpoint.path()
                     << (dpopKey.isNull() ? "" : "with a DPoP proof");
    HttpHeaders proof;
    // A malformed endpoint gets no proof: the exchange reports what is wrong with it.
    if (!dpopKey.isNull() && post.endpoint.isValid() && !post.endpoint.host().isEmpty()) {
        // RFC 9449 §4.2: htm POST, htu the token endpoint, no ath (no access token is presented);
        // the provider's last nonce, if it gave one (§8).
        const QDateTime now = context.clock ? context.clock->dateTime() : QDateTime::currentDateTimeUtc();
        const QByteArray jwt = dpopKey.createProof("POST", post.endpoint, now, QByteArray(), dpopKey.nonce(post.endpoint));
        if (jwt.isEmpty()) {
            post.wipe();
            q->emitResult(Error(Error::Code::InvalidConfiguration,
                                QStringLiteral("could not make a DPoP proof for the token endpoint")));
            return;
        }
        proof.append({QByteArrayLiteral("DPoP"), jwt});
    }
    HttpExchange *exchange = post.send(q, proof, !dpopKey.isNull());
    QObject::connect(exchange, &HttpExchange::finished, q, [this, q, exchange] { onFinished(q, exchange); });
}

void TokenJobPrivate::onFinished(TokenJob *q, HttpExchange *exchange)
{
    post.exchange = nullptr;
    if (const Error transportError = exchange->error()) {
        post.wipe();
        const Error e = PreparedFormPost::transportFailure(transportError, "token_endpoint");
        qCDebug(lcToken) << "token request failed:" << e.code();
        q->emitResult(e);
        return;
    }
    // RFC 9449 §8.2: the provider may give a (new) nonce with any response; it goes into the
    // next proofs.
    const QByteArray serverNonce = exchange->rawHeader("DPoP-Nonce");
    const bool newNonce = !dpopKey.isNull() && !serverNonce.isEmpty() && dpopKey.setNonce(post.endpoint, serverNonce);
    Error e;
    const int status = exchange->status();
    TokenResponse parsed = TokenResponse::parse(status, exchange->rawHeader("Content-Type"), exchange->body(), context, &e);
    if (e.code() == Error::Code::OAuthError && e.oauthError() == QLatin1String("use_dpop_nonce") && newNonce
        && !nonceRetried) {
        // RFC 9449 §8: the provider requires a nonce it has just given: once more with it.
        qCDebug(lcToken) << "the token endpoint asked for a DPoP nonce; sending the request once more with it";
        nonceRetried = true;
        send(q);
        return;
    }
    post.wipe();
    if (e && (status == 429 || status == 503)) {
        // RFC 6585 §4, RFC 9110 §15.6.4: the server may say when to come back (§10.2.3).
        const QDateTime now = context.clock ? context.clock->dateTime() : QDateTime::currentDateTimeUtc();
        if (const auto delay = retryAfterDelay(exchange->rawHeader("Retry-After"), now))
            e.setRetryAfter(*delay);
    }
    if (e.code() == Error::Code::OAuthError
        && (e.oauthError() == QLatin1String("invalid_client") || e.oauthError() == QLatin1String("unauthorized_client"))) {
        // RFC 6749 §5.2: the client, not the grant, was refused (a stale secret, a client
        // not allowed this grant). Only the app's configuration can fix it.
        e = e.reclassified(Error::Code::ClientAuthenticationFailed,
                           QStringLiteral("the token endpoint refused this client (OAuth error \"%1\"): check the "
                                          "client id, the client secret and the client's allowed grants")
                               .arg(e.oauthError()));
    }
    qCDebug(lcToken) << "token request finished:" << (e ? e.code() : Error::Code::NoError);
    if (!e) {
        if (!dpopKey.isNull())
            parsed.setDpopKey(dpopKey);
        response = parsed;
    }
    q->emitResult(e);
}

// ---- TokenClient ----

TokenClient::TokenClient(QNetworkAccessManager *nam, const TransportOptions &options, QObject *parent)
    : QObject(parent), d(new TokenClientPrivate)
{
    d->nam = nam;
    d->options = options;
}

TokenClient::~TokenClient() = default;

QNetworkAccessManager *TokenClient::networkAccessManager() const { return d->nam; }
TransportOptions TokenClient::transportOptions() const { return d->options; }
const Clock *TokenClient::clock() const { return d->clock; }
void TokenClient::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }

TokenJob *TokenClientPrivate::prepare(TokenClient *q, TokenJob::Grant grant, const ProviderConfiguration &provider,
                                      const ClientConfiguration &client, FormFields form,
                                      const TokenRequestContext &context)
{
    auto *job = new TokenJob(grant, q);
    TokenJobPrivate *jd = job->d.get();
    jd->context = context;
    jd->context.clock = clock;

    auto failLater = [job, jd](const Error &error) {
        jd->post.immediateError = error;
        return job;
    };
    // Client authentication (RFC 6749 §2.3.1, §3.2.1; OIDC Core §9).
    HttpHeaders headers;
    if (const Error e = addClientAuthentication(client, &form, &headers))
        return failLater(e);

    jd->post.nam = nam;
    jd->post.endpoint = provider.tokenEndpoint();
    jd->post.form = std::move(form);
    jd->post.headers = std::move(headers);
    jd->post.options = options;
    return job;
}

TokenJob *TokenClient::exchangeCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                    const QByteArray &code, const QByteArray &codeVerifier,
                                    const QUrl &redirectUri, const QString &resource)
{
    const TokenRequestContext context = signInContext(client, provider);
    // RFC 6749 §4.1.3, RFC 7636 §4.5.
    FormFields form{
        {QByteArrayLiteral("grant_type"), QByteArrayLiteral("authorization_code")},
        {QByteArrayLiteral("code"), code},
        {QByteArrayLiteral("redirect_uri"), redirectUri.toString(QUrl::FullyEncoded).toUtf8()},
        {QByteArrayLiteral("code_verifier"), codeVerifier},
    };
    if (!resource.isEmpty())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()}); // RFC 8707 §2.2
    return d->prepare(this, TokenJob::Grant::AuthorizationCode, provider, client, form, context);
}

TokenJob *TokenClient::exchangeCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                    const AuthorizationRequest &request, const QByteArray &code,
                                    const QString &resource)
{
    TokenRequestContext context;
    context.requestedScopes = request.scopes();
    context.idToken = request.isOpenIdRequest() ? TokenRequestContext::IdToken::Required
                                                : TokenRequestContext::IdToken::Optional;
    FormFields form{
        {QByteArrayLiteral("grant_type"), QByteArrayLiteral("authorization_code")},
        {QByteArrayLiteral("code"), code},
        {QByteArrayLiteral("redirect_uri"), request.redirectUri().toString(QUrl::FullyEncoded).toUtf8()},
        {QByteArrayLiteral("code_verifier"), request.codeVerifier()},
    };
    if (!resource.isEmpty())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()});
    return d->prepare(this, TokenJob::Grant::AuthorizationCode, provider, client, form, context);
}

TokenJob *TokenClient::refresh(const ProviderConfiguration &provider, const ClientConfiguration &client,
                               const QByteArray &refreshToken, const QStringList &scopes,
                               const QString &resource)
{
    TokenRequestContext context;
    context.requestedScopes = scopes.isEmpty() ? AuthorizationRequest::requestedScopes(client, provider) : scopes;
    // OIDC Core §12.2: a refresh response may or may not contain an ID token.
    context.idToken = TokenRequestContext::IdToken::Optional;

    // RFC 6749 §6.
    FormFields form{
        {QByteArrayLiteral("grant_type"), QByteArrayLiteral("refresh_token")},
        {QByteArrayLiteral("refresh_token"), refreshToken},
    };
    if (!scopes.isEmpty())
        form.append({QByteArrayLiteral("scope"), scopes.join(QLatin1Char(' ')).toUtf8()});
    if (!resource.isEmpty())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()}); // RFC 8707 §2.2
    TokenJob *job = d->prepare(this, TokenJob::Grant::RefreshToken, provider, client, form, context);
    if (refreshToken.isEmpty())
        job->d->post.immediateError = Error(Error::Code::SignInRequired, QStringLiteral("there is no refresh token"));
    return job;
}

TokenJob *TokenClient::clientCredentials(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                         const QStringList &scopes, const QString &resource)
{
    TokenRequestContext context;
    context.requestedScopes = scopes;
    context.idToken = TokenRequestContext::IdToken::Optional;
    // RFC 6749 §4.4.2
    FormFields form{{QByteArrayLiteral("grant_type"), QByteArrayLiteral("client_credentials")}};
    if (!scopes.isEmpty())
        form.append({QByteArrayLiteral("scope"), scopes.join(QLatin1Char(' ')).toUtf8()});
    if (!resource.isEmpty())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()});
    return d->prepare(this, TokenJob::Grant::ClientCredentials, provider, client, form, context);
}

TokenJob *TokenClient::deviceCode(const ProviderConfiguration &provider, const ClientConfiguration &client,
                                  const QByteArray &deviceCode, const QString &resource)
{
    // The caller validates the ID token like a code flow's (without a nonce: none was sent).
    const TokenRequestContext context = signInContext(client, provider);
    // RFC 8628 §3.4
    FormFields form{
        {QByteArrayLiteral("grant_type"), QByteArrayLiteral("urn:ietf:params:oauth:grant-type:device_code")},
        {QByteArrayLiteral("device_code"), deviceCode},
    };
    if (!resource.isEmpty())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()}); // RFC 8707 §2.2
    TokenJob *job = d->prepare(this, TokenJob::Grant::DeviceCode, provider, client, form, context);
    if (deviceCode.isEmpty())
        job->d->post.immediateError = Error(Error::Code::MissingParameter, QStringLiteral("there is no device code"));
    return job;
}

} // namespace Keyloop
