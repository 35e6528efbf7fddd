// SPDX-License-Identifier: MIT
#include <keyloop/signin.h>

#include <keyloop/authorizationrequest.h>
#include <keyloop/authorizationresponse.h>
#include <keyloop/browserlauncher.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/idtokenvalidator.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/jwkscache.h>
#include <keyloop/loopbackreceiver.h>
#include <keyloop/pushedauthorizationjob.h>
#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "session/dpopkeyfor_p.h"
#include "session/signinidtoken_p.h"
#include "session/signinprovider_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace Keyloop {

class SignInPrivate
{
public:
    enum class Stage { Idle, Discovery, Pushing, WaitingForCallback, TokenExchange, IdTokenValidation, Done };

    SignIn *q = nullptr;
    ClientConfiguration client;
    QNetworkAccessManager *nam = nullptr;
    BrowserLauncher *launcher = nullptr;
    std::unique_ptr<SystemBrowserLauncher> defaultLauncher;
    const Clock *clock = Clock::system();

    Stage stage = Stage::Idle;
    ProviderConfiguration provider;
    AuthorizationRequest request;
    DpopKey dpopKey; // RFC 9449: made once the provider is known; null without DPoP
    bool pushed = false; ///< RFC 9126: the request goes to the provider first
    QUrl browserUrl;     ///< what the browser is opened with
    QUrl displayUrl;     ///< what the app shows for copying (authorizationUrl())
    TokenResponse tokens;
    IdTokenClaims claims;

    QTimer overallTimer;
    LoopbackReceiver *receiver = nullptr;
    QPointer<DiscoveryJob> discovery;
    TokenClient *tokenClient = nullptr; // child of q, made on first use
    QPointer<PushedAuthorizationJob> pushJob;                 // the push before the browser opens
    QList<QPointer<PushedAuthorizationJob>> startPagePushes;  // one per start page request
    QPointer<TokenJob> tokenJob;
    QPointer<IdTokenValidationJob> validationJob;
    JwksCache *jwks = nullptr; // injected, or owned by q

    void begin();
    void onDiscovered(const ProviderConfiguration &configuration);
    TokenClient *sharedTokenClient();
    void push();
    void onPushed();
    void onStartPageRequested();
    void openBrowser();
    void onCallback(const QByteArray &rawQuery);
    void onTokens();
    void onIdTokenValidated();
    void finish(const Error &e);
    void stopEverything();
};

SignIn::SignIn(const ClientConfiguration &client, QNetworkAccessManager *nam, QObject *parent)
    : Job(parent), d(new SignInPrivate)
{
    d->q = this;
    d->client = client;
    d->nam = nam;
    d->overallTimer.setSingleShot(true);
    connect(&d->overallTimer, &QTimer::timeout, this, [this] {
        // Logins must never hang: a user who closed the browser tab gets a clear timeout.
        d->finish(Error(Error::Code::SignInTimeout,
                        QStringLiteral("the sign-in was not completed in the browser within %1 s")
                            .arg(d->client.loginTimeout().count())));
    });
}

SignIn::~SignIn()
{
    d->stopEverything();
}

void SignIn::setBrowserLauncher(BrowserLauncher *launcher) { d->launcher = launcher; }
void SignIn::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }
void SignIn::setJwksCache(JwksCache *cache) { d->jwks = cache; }

void SignIn::doStart()
{
    d->stage = SignInPrivate::Stage::Discovery;
    d->begin();
}

void SignIn::doCancel()
{
    qCDebug(lcAuthorization) << "sign-in cancelled";
    d->stage = SignInPrivate::Stage::Done;
    if (d->receiver) // the browser's page says so (no-op before the callback)
        d->receiver->reportOutcome(Error(Error::Code::Cancelled, QStringLiteral("the sign-in was cancelled")));
    d->stopEverything();
}

QUrl SignIn::authorizationUrl() const { return d->displayUrl; }
bool SignIn::usesPushedAuthorizationRequests() const { return d->pushed; }
ClientConfiguration SignIn::clientConfiguration() const { return d->client; }
ProviderConfiguration SignIn::providerConfiguration() const { return d->provider; }
QString SignIn::resource() const { return d->client.resources().value(0); }
QUrl SignIn::redirectUri() const { return d->request.isNull() ? QUrl() : d->request.redirectUri(); }
TokenResponse SignIn::tokenResponse() const { return d->tokens; }
IdTokenClaims SignIn::idTokenClaims() const { return d->claims; }

void SignInPrivate::begin()
{
    if (stage == Stage::Done)
        return;
    if (const Error e = client.validate()) {
        finish(e);
        return;
    }
    overallTimer.start(std::chrono::duration_cast<std::chrono::milliseconds>(client.loginTimeout()));
    discovery = resolveSignInProvider(client, nam, q, [this](const Error &e, const ProviderConfiguration &p) {
        if (e)
            finish(e);
        else
            onDiscovered(p);
    });
}

void SignInPrivate::onDiscovered(const ProviderConfiguration &configuration)
{
    if (stage == Stage::Done)
        return;
    provider = configuration;

    // RFC 9126 §5: a provider with require_pushed_authorization_requests accepts nothing else;
    // otherwise PAR only when the app asked for it, so that sign-in with other providers sends
    // what it always did.
    pushed = provider.requiresPushedAuthorizationRequests()
        || client.pushedAuthorizationRequests() == ClientConfiguration::PushedAuthorizationRequests::Always;
    if (pushed && provider.pushedAuthorizationRequestEndpoint().isEmpty()) {
        finish(Error(Error::Code::PushedAuthorizationNotSupported,
                     provider.requiresPushedAuthorizationRequests()
                         ? QStringLiteral("the provider requires pushed authorization requests but has no "
                                          "pushed_authorization_request_endpoint (RFC 9126 §5)")
                         : QStringLiteral("pushed authorization requests are switched on for this client, but the "
                                          "provider has no pushed_authorization_request_endpoint (RFC 9126 §5)")));
        return;
    }

    // RFC 9449: the key is made (and the provider's algorithms checked) before any browser opens.
    if (const Error e = ensureDpopKey(client, provider, &dpopKey)) {
        finish(e);
        return;
    }

    // RFC 8252 §7.3 / §8.3: bind the loopback listener before the browser is opened.
    receiver = new LoopbackReceiver(q);
    receiver->setRedirectHost(client.redirectHost());
    receiver->setPorts(client.redirectPorts());
    receiver->setPath(client.redirectPath());
    receiver->setSuccessRedirectUrl(client.successRedirectUrl());
    receiver->setFailureRedirectUrl(client.failureRedirectUrl());
    receiver->setStartPageEnabled(pushed);
    if (const Error e = receiver->listen()) {
        finish(e);
        return;
    }

    Error requestError;
    ClientConfiguration requestClient = client;
    if (!dpopKey.isNull()) {
        // RFC 9449 §10: the authorization code is bound to the key's thumbprint, so a code
        // caught on its way back is useless to a process without the key.
        auto parameters = requestClient.additionalParameters();
        parameters.append({QStringLiteral("dpop_jkt"), QString::fromLatin1(dpopKey.thumbprint())});
        requestClient.setAdditionalParameters(parameters);
    }
    request = AuthorizationRequest::create(requestClient, provider, receiver->redirectUri(), &requestError);
    if (requestError) {
        finish(requestError);
        return;
    }
    receiver->setExpectedState(request.state());
    QObject::connect(receiver, &LoopbackReceiver::callbackReceived, q,
                     [this](const QByteArray &rawQuery) { onCallback(rawQuery); });
    if (pushed) {
        push();
        return;
    }
    browserUrl = request.url();
    displayUrl = browserUrl;
    stage = Stage::WaitingForCallback;
    openBrowser();
}

TokenClient *SignInPrivate::sharedTokenClient()
{
    if (!tokenClient) {
        tokenClient = new TokenClient(nam, client.transport(), q);
        tokenClient->setClock(clock);
    }
    return tokenClient;
}

void SignInPrivate::push()
{
    // RFC 9126 §2.1, before any browser opens: a refused or failed push ends the sign-in here,
    // with the provider's typed error, instead of as a page in a browser the app cannot read.
    stage = Stage::Pushing;
    qCDebug(lcAuthorization) << "pushing the authorization request (RFC 9126)";
    pushJob = sharedTokenClient()->pushAuthorizationRequest(provider, client, request);
    QObject::connect(pushJob, &Job::finished, q, [this] { onPushed(); });
    pushJob->start();
}

void SignInPrivate::onPushed()
{
    if (stage != Stage::Pushing || !pushJob)
        return;
    if (const Error e = pushJob->error()) {
        finish(e);
        return;
    }
    // RFC 9126 §4: the browser gets client_id and request_uri only. The URL to copy is the start
    // page, which pushes again on every visit: this request_uri is single-use and short-lived.
    browserUrl = request.urlWithRequestUri(pushJob->response().requestUri());
    displayUrl = receiver->startPageUrl();
    QObject::connect(receiver, &LoopbackReceiver::startPageRequested, q, [this] { onStartPageRequested(); });
    stage = Stage::WaitingForCallback;
    openBrowser();
}

void SignInPrivate::onStartPageRequested()
{
    if (stage != Stage::WaitingForCallback)
        return; // the receiver answers it ("ended") when it closes
    // The same request (state, nonce, PKCE challenge) again: only the request_uri is new, so
    // whichever browser window finishes, its callback is this sign-in's and the one verifier
    // fits. A failure is shown in that browser window; the sign-in goes on waiting.
    qCDebug(lcAuthorization) << "start page visited; pushing the authorization request again";
    QPointer<PushedAuthorizationJob> job = sharedTokenClient()->pushAuthorizationRequest(provider, client, request);
    startPagePushes.removeAll(nullptr);
    startPagePushes.append(job);
    QObject::connect(job, &Job::finished, q, [this, job] {
        if (!job || stage != Stage::WaitingForCallback || !receiver)
            return;
        if (const Error e = job->error()) {
            qCDebug(lcAuthorization) << "push for the start page failed:" << e.code();
            receiver->failStartPage(e);
            return;
        }
        receiver->redirectStartPage(request.urlWithRequestUri(job->response().requestUri()));
    });
    job->start();
}

void SignInPrivate::openBrowser()
{
    // Always hand the URL to the app, so it can be shown/copied when no browser opens.
    Q_EMIT q->authorizationUrlReady(displayUrl);
    if (stage != Stage::WaitingForCallback)
        return; // the app cancelled from the slot
    BrowserLauncher *l = launcher;
    if (!l) {
        if (!defaultLauncher)
            defaultLauncher = std::make_unique<SystemBrowserLauncher>();
        l = defaultLauncher.get();
    }
    qCDebug(lcAuthorization) << "opening the browser";
    if (const Error e = l->openUrl(browserUrl)) {
        qCWarning(lcAuthorization) << "the browser could not be opened; waiting for the redirect anyway";
        Q_EMIT q->browserLaunchFailed(e);
    }
}

void SignInPrivate::onCallback(const QByteArray &rawQuery)
{
    if (stage != Stage::WaitingForCallback)
        return;
    qCDebug(lcAuthorization) << "authorization response received";
    // The receiver has stopped listening; its answer to the browser waits for finish().
    Error e;
    const AuthorizationResponse response = AuthorizationResponse::parse(rawQuery, request, provider, &e);
    if (e) {
        finish(e);
        return;
    }
    Q_EMIT q->callbackReceived();
    if (stage != Stage::WaitingForCallback)
        return;
    stage = Stage::TokenExchange;
    // RFC 8707 §2.2: with resources configured, the code exchange asks for the first one — the
    // app's main API — so that an app without a refresh token can still call it, and no app pays
    // a refresh right after signing in. Tokens for the other resources, and the provider's own
    // token (UserInfo), are obtained on demand with the refresh token.
    tokenJob = sharedTokenClient()->exchangeCode(provider, client, request, response.code(), q->resource());
    tokenJob->setDpopKey(dpopKey); // RFC 9449 §5: the tokens are bound to the key
    QObject::connect(tokenJob, &Job::finished, q, [this] { onTokens(); });
    tokenJob->start();
}

void SignInPrivate::onTokens()
{
    if (stage != Stage::TokenExchange || !tokenJob)
        return;
    if (tokenJob->error()) {
        finish(tokenJob->error());
        return;
    }
    tokens = tokenJob->response();
    qCDebug(lcToken) << "code exchanged";
    if (!request.isOpenIdRequest()) {
        // Plain OAuth 2.0: no ID token, no nonce (there is nothing else to verify).
        finish(Error());
        return;
    }
    stage = Stage::IdTokenValidation;
    IdTokenExpectations expect;
    expect.setNonce(QString::fromLatin1(request.nonce()));
    if (request.maxAge())
        expect.setMaxAge(*request.maxAge());
    expect.setAcrValues(request.acrValues()); // OIDC Core 3.1.3.7 rule 12
    expect.setAccessToken(tokens.accessToken());
    if (!jwks) {
        jwks = new JwksCache(nam, client.transport(), q);
        jwks->setClock(clock);
    }
    validationJob = new IdTokenValidationJob(signInIdTokenValidator(provider, client, clock), jwks, provider.jwksUri(), tokens.idToken(), expect, q);
    QObject::connect(validationJob, &Job::finished, q, [this] { onIdTokenValidated(); });
    validationJob->start();
}

void SignInPrivate::onIdTokenValidated()
{
    if (stage != Stage::IdTokenValidation || !validationJob)
        return;
    if (validationJob->error()) {
        finish(validationJob->error());
        return;
    }
    claims = validationJob->claims();
    qCDebug(lcAuthorization) << "ID token validated; sign-in complete";
    finish(Error());
}

void SignInPrivate::stopEverything()
{
    overallTimer.stop();
    if (receiver)
        receiver->close();
    if (discovery)
        discovery->cancel();
    if (pushJob)
        pushJob->cancel();
    for (const QPointer<PushedAuthorizationJob> &job : std::as_const(startPagePushes)) {
        if (job)
            job->cancel();
    }
    startPagePushes.clear();
    if (tokenJob)
        tokenJob->cancel();
    if (validationJob)
        validationJob->cancel();
}

void SignInPrivate::finish(const Error &e)
{
    if (stage == Stage::Done)
        return;
    stage = Stage::Done;
    if (e)
        qCDebug(lcAuthorization) << "sign-in failed:" << e;
    if (receiver)
        receiver->reportOutcome(e); // the browser's page tells the truth (no-op before the callback)
    stopEverything();
    q->emitResult(e);
}

} // namespace Keyloop
