// SPDX-License-Identifier: MIT
// The device authorization grant (RFC 8628): request a user code, show it, poll for the tokens.
#include <keyloop/devicesignin.h>

#include <keyloop/authorizationrequest.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/jwkscache.h>
#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "session/dpopkeyfor_p.h"
#include "session/signinidtoken_p.h"
#include "session/signinprovider_p.h"
#include "token/clientauthentication_p.h"
#include "token/deviceauthorizationresponse_p.h"
#include "token/preparedformpost_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <algorithm>

namespace Keyloop {

namespace {

using namespace std::chrono_literals;

// RFC 8628 §3.5: each slow_down adds 5 seconds to the interval, for the rest of the grant.
constexpr std::chrono::seconds kSlowDownStep = 5s;
// Network failures and 5xx back off exponentially (§3.5), up to this wait between polls.
constexpr std::chrono::seconds kMaxBackoff = 60s;
// However long the provider says its code lives, the sign-in never waits longer than this.
constexpr std::chrono::seconds kMaxLifetime = 30min;

} // namespace

class DeviceSignInPrivate
{
public:
    enum class Stage { Idle, Discovery, Authorization, Polling, IdTokenValidation, Done };

    DeviceSignIn *q = nullptr;
    ClientConfiguration client;
    QNetworkAccessManager *nam = nullptr;
    const Clock *clock = Clock::system();
    JwksCache *jwks = nullptr; // injected, or owned by q

    Stage stage = Stage::Idle;
    ProviderConfiguration provider;
    DeviceAuthorizationResponse authorization; // holds the device code: wiped when done
    std::chrono::seconds interval = 5s;
    int transientFailures = 0;
    TokenResponse tokens;
    IdTokenClaims claims;

    QTimer pollTimer;
    QTimer expiryTimer;
    TokenClient *tokenClient = nullptr;
    PreparedFormPost post;
    QPointer<DiscoveryJob> discovery;
    QPointer<TokenJob> tokenJob;
    DpopKey dpopKey; // RFC 9449: the same key for every poll
    QPointer<IdTokenValidationJob> validationJob;

    void begin();
    void onDiscovered(const ProviderConfiguration &configuration);
    void requestUserCode();
    void onUserCode(HttpExchange *exchange);
    void poll();
    void onPollAnswer();
    void waitAndPoll(std::chrono::seconds wait);
    void validateIdToken();
    void finish(const Error &e);
    void stopEverything();
};

DeviceSignIn::DeviceSignIn(const ClientConfiguration &client, QNetworkAccessManager *nam, QObject *parent)
    : Job(parent), d(new DeviceSignInPrivate)
{
    d->q = this;
    d->client = client;
    d->nam = nam;
    // Polling faster than the interval earns a slow_down (§3.5): a precise timer, never early.
    d->pollTimer.setSingleShot(true);
    d->pollTimer.setTimerType(Qt::PreciseTimer);
    connect(&d->pollTimer, &QTimer::timeout, this, [this] { d->poll(); });
    d->expiryTimer.setSingleShot(true);
    connect(&d->expiryTimer, &QTimer::timeout, this, [this] {
        d->finish(Error(Error::Code::DeviceCodeExpired,
                        QStringLiteral("the device code expired before the sign-in was approved on the other device: "
                                       "start again")));
    });
}

DeviceSignIn::~DeviceSignIn()
{
    d->stopEverything();
}

void DeviceSignIn::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }
void DeviceSignIn::setJwksCache(JwksCache *cache) { d->jwks = cache; }
ClientConfiguration DeviceSignIn::clientConfiguration() const { return d->client; }
ProviderConfiguration DeviceSignIn::providerConfiguration() const { return d->provider; }
QString DeviceSignIn::userCode() const { return d->authorization.userCode; }
QUrl DeviceSignIn::verificationUri() const { return d->authorization.verificationUri; }
QUrl DeviceSignIn::verificationUriComplete() const { return d->authorization.verificationUriComplete; }
QDateTime DeviceSignIn::expiresAt() const { return d->authorization.expiresAt; }
std::chrono::seconds DeviceSignIn::pollInterval() const { return d->interval; }
TokenResponse DeviceSignIn::tokenResponse() const { return d->tokens; }
QString DeviceSignIn::resource() const { return d->client.resources().value(0); }
IdTokenClaims DeviceSignIn::idTokenClaims() const { return d->claims; }

void DeviceSignIn::doStart()
{
    d->stage = DeviceSignInPrivate::Stage::Discovery;
    d->begin();
}

void DeviceSignIn::doCancel()
{
    qCDebug(lcAuthorization) << "device sign-in cancelled";
    d->stage = DeviceSignInPrivate::Stage::Done;
    d->stopEverything();
}

void DeviceSignInPrivate::begin()
{
    if (stage == Stage::Done)
        return;
    if (const Error e = client.validate()) {
        finish(e);
        return;
    }
    discovery = resolveSignInProvider(client, nam, q, [this](const Error &e, const ProviderConfiguration &p) {
        if (e)
            finish(e);
        else
            onDiscovered(p);
    });
}

void DeviceSignInPrivate::onDiscovered(const ProviderConfiguration &configuration)
{
    if (stage == Stage::Done)
        return;
    provider = configuration;
    if (provider.deviceAuthorizationEndpoint().isEmpty()) {
        finish(Error(Error::Code::DeviceFlowNotSupported,
                     QStringLiteral("the provider does not offer sign-in with a device code: its metadata has no "
                                    "device_authorization_endpoint (RFC 8628 §4)")));
        return;
    }
    requestUserCode();
}

// RFC 8628 §3.1: client_id (or the client's authentication), scope; RFC 8707 §2: resources.
void DeviceSignInPrivate::requestUserCode()
{
    stage = Stage::Authorization;
    FormFields form;
    const QStringList scopes = AuthorizationRequest::requestedScopes(client, provider);
    if (!scopes.isEmpty())
        form.append({QByteArrayLiteral("scope"), scopes.join(QLatin1Char(' ')).toUtf8()});
    for (const QString &resource : client.resources())
        form.append({QByteArrayLiteral("resource"), resource.toUtf8()});
    HttpHeaders headers;
    if (const Error e = addClientAuthentication(client, &form, &headers)) {
        finish(e);
        return;
    }
    post.nam = nam;
    post.endpoint = provider.deviceAuthorizationEndpoint();
    post.form = std::move(form);
    post.headers = std::move(headers);
    post.options = client.transport();
    qCDebug(lcAuthorization) << "device authorization request to" << post.endpoint.host() << post.endpoint.path();
    HttpExchange *exchange = post.send(q);
    QObject::connect(exchange, &HttpExchange::finished, q, [this, exchange] { onUserCode(exchange); });
}

void DeviceSignInPrivate::onUserCode(HttpExchange *exchange)
{
    post.exchange = nullptr;
    if (stage != Stage::Authorization)
        return;
    if (const Error e = exchange->error()) {
        finish(PreparedFormPost::transportFailure(e, "device_authorization_endpoint"));
        return;
    }
    Error e;
    DeviceAuthorizationResponse response = DeviceAuthorizationResponse::parse(
        exchange->status(), exchange->body(), clock->dateTime(), client.transport(), &e);
    if (e.code() == Error::Code::OAuthError) {
        const QString code = e.oauthError();
        if (code == QLatin1String("unauthorized_client") || code == QLatin1String("unsupported_grant_type")) {
            e = e.reclassified(Error::Code::DeviceFlowNotSupported,
                               QStringLiteral("the provider does not allow this client to sign in with a device code "
                                              "(OAuth error \"%1\"): enable the device authorization grant for the "
                                              "client at the provider").arg(code));
        } else if (code == QLatin1String("invalid_client")) {
            e = e.reclassified(Error::Code::ClientAuthenticationFailed,
                               QStringLiteral("the device authorization endpoint refused this client (OAuth error "
                                              "\"invalid_client\"): check the client id and secret"));
        }
    }
    if (e) {
        qCDebug(lcAuthorization) << "device authorization failed:" << e.code();
        finish(e);
        return;
    }
    authorization = std::move(response);
    interval = authorization.interval;
    const qint64 lifetimeMs = std::clamp<qint64>(clock->dateTime().msecsTo(authorization.expiresAt), 0,
                                                 std::chrono::milliseconds(kMaxLifetime).count());
    expiryTimer.start(std::chrono::milliseconds(lifetimeMs));
    stage = Stage::Polling;
    qCDebug(lcAuthorization) << "user code issued; polling every" << interval.count() << "s";
    Q_EMIT q->userCodeReady(authorization.userCode, authorization.verificationUri,
                            authorization.verificationUriComplete);
    if (stage != Stage::Polling)
        return; // cancelled from the slot
    // §3.5: the first poll, like every other, waits the interval (the user needs longer anyway).
    waitAndPoll(interval);
}

void DeviceSignInPrivate::waitAndPoll(std::chrono::seconds wait)
{
    pollTimer.start(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
}

void DeviceSignInPrivate::poll()
{
    if (stage != Stage::Polling)
        return;
    if (!tokenClient) {
        tokenClient = new TokenClient(nam, client.transport(), q);
        tokenClient->setClock(clock);
    }
    if (const Error e = ensureDpopKey(client, provider, &dpopKey)) {
        finish(e);
        return;
    }
    // RFC 8707 §2.2: the first configured resource, like the code exchange of SignIn.
    tokenJob = tokenClient->deviceCode(provider, client, authorization.deviceCode, q->resource());
    tokenJob->setDpopKey(dpopKey);
    QObject::connect(tokenJob, &Job::finished, q, [this] { onPollAnswer(); });
    tokenJob->start();
}

void DeviceSignInPrivate::onPollAnswer()
{
    if (stage != Stage::Polling || !tokenJob)
        return;
    const Error e = tokenJob->error();
    if (!e) {
        transientFailures = 0;
        tokens = tokenJob->response();
        qCDebug(lcToken) << "device code exchanged";
        expiryTimer.stop();
        validateIdToken();
        return;
    }
    const QString oauth = e.code() == Error::Code::OAuthError ? e.oauthError() : QString();
    if (oauth == QLatin1String("authorization_pending")) {
        transientFailures = 0;
        waitAndPoll(interval);
        return;
    }
    if (oauth == QLatin1String("slow_down")) {
        transientFailures = 0;
        interval += kSlowDownStep;
        qCDebug(lcAuthorization) << "slow_down: polling every" << interval.count() << "s";
        Q_EMIT q->pollIntervalChanged(interval);
        if (stage == Stage::Polling)
            waitAndPoll(interval);
        return;
    }
    if (oauth == QLatin1String("access_denied")) {
        finish(e.reclassified(Error::Code::OAuthError,
                              QStringLiteral("the sign-in was declined on the other device (access_denied)")));
        return;
    }
    if (oauth == QLatin1String("expired_token")) {
        finish(e.reclassified(Error::Code::DeviceCodeExpired,
                              QStringLiteral("the device code expired before the sign-in was approved on the other "
                                             "device (expired_token): start again")));
        return;
    }
    if (e.isTransient() || e.domain() == Error::Domain::Network) {
        // §3.5: back off exponentially on network trouble; a Retry-After wins when longer.
        ++transientFailures;
        const auto backoff = std::min(kMaxBackoff, interval * (1 << std::min(transientFailures, 4)));
        const auto wait = std::max(backoff, e.retryAfter());
        qCDebug(lcAuthorization) << "device poll failed (" << e.code() << "); next in" << wait.count() << "s";
        waitAndPoll(wait);
        return;
    }
    finish(e);
}

void DeviceSignInPrivate::validateIdToken()
{
    if (tokens.idToken().isEmpty()) {
        // Plain OAuth 2.0 (no openid scope): TokenJob already required an ID token otherwise.
        finish(Error());
        return;
    }
    stage = Stage::IdTokenValidation;
    if (!jwks) {
        jwks = new JwksCache(nam, client.transport(), q);
        jwks->setClock(clock);
    }
    // OIDC Core §3.1.3.7, every rule; rule 11 (nonce) has nothing to compare with: this grant
    // sends no nonce. An ID token that carries one anyway is still accepted.
    IdTokenExpectations expect;
    expect.setAccessToken(tokens.accessToken());
    validationJob = new IdTokenValidationJob(signInIdTokenValidator(provider, client, clock), jwks,
                                             provider.jwksUri(), tokens.idToken(), expect, q);
    QObject::connect(validationJob, &Job::finished, q, [this] {
        if (stage != Stage::IdTokenValidation || !validationJob)
            return;
        if (const Error e = validationJob->error()) {
            finish(e);
            return;
        }
        claims = validationJob->claims();
        qCDebug(lcAuthorization) << "ID token validated; device sign-in complete";
        finish(Error());
    });
    validationJob->start();
}

void DeviceSignInPrivate::stopEverything()
{
    pollTimer.stop();
    expiryTimer.stop();
    post.abort(q);
    authorization.deviceCode.fill('\0');
    authorization.deviceCode.clear();
    if (discovery)
        discovery->cancel();
    if (tokenJob)
        tokenJob->cancel();
    if (validationJob)
        validationJob->cancel();
}

void DeviceSignInPrivate::finish(const Error &e)
{
    if (stage == Stage::Done)
        return;
    stage = Stage::Done;
    if (e)
        qCDebug(lcAuthorization) << "device sign-in failed:" << e.code();
    stopEverything();
    q->emitResult(e);
}

} // namespace Keyloop
