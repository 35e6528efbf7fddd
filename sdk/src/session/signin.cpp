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
#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "session/signinidtoken_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace Keyloop {

class SignInPrivate
{
public:
    enum class Stage { Idle, Discovery, WaitingForCallback, TokenExchange, IdTokenValidation, Done };

    SignIn *q = nullptr;
    ClientConfiguration client;
    QNetworkAccessManager *nam = nullptr;
    BrowserLauncher *launcher = nullptr;
    std::unique_ptr<SystemBrowserLauncher> defaultLauncher;
    const Clock *clock = Clock::system();

    Stage stage = Stage::Idle;
    ProviderConfiguration provider;
    AuthorizationRequest request;
    TokenResponse tokens;
    IdTokenClaims claims;

    QTimer overallTimer;
    LoopbackReceiver *receiver = nullptr;
    QPointer<DiscoveryJob> discovery;
    QPointer<TokenJob> tokenJob;
    QPointer<IdTokenValidationJob> validationJob;
    JwksCache *jwks = nullptr; // injected, or owned by q

    void begin();
    void onDiscovered(const ProviderConfiguration &configuration);
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

QUrl SignIn::authorizationUrl() const { return d->request.isNull() ? QUrl() : d->request.url(); }
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
    if (client.hasProviderConfiguration()) {
        // Endpoints set by hand, for providers without discovery.
        onDiscovered(client.providerConfiguration());
        return;
    }
    qCDebug(lcAuthorization) << "discovery started";
    discovery = new DiscoveryJob(nam, client.issuer(), client.transport(), q);
    QObject::connect(discovery, &Job::finished, q, [this] {
        if (!discovery)
            return;
        if (discovery->error())
            finish(discovery->error());
        else
            onDiscovered(discovery->configuration());
    });
    discovery->start();
}

void SignInPrivate::onDiscovered(const ProviderConfiguration &configuration)
{
    if (stage == Stage::Done)
        return;
    provider = configuration;
    if (const Error e = provider.validate(client.transport())) {
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
    if (const Error e = receiver->listen()) {
        finish(e);
        return;
    }

    Error requestError;
    request = AuthorizationRequest::create(client, provider, receiver->redirectUri(), &requestError);
    if (requestError) {
        finish(requestError);
        return;
    }
    receiver->setExpectedState(request.state());
    QObject::connect(receiver, &LoopbackReceiver::callbackReceived, q,
                     [this](const QByteArray &rawQuery) { onCallback(rawQuery); });
    stage = Stage::WaitingForCallback;
    openBrowser();
}

void SignInPrivate::openBrowser()
{
    const QUrl url = request.url();
    // Always hand the URL to the app, so it can be shown/copied when no browser opens.
    Q_EMIT q->authorizationUrlReady(url);
    if (stage != Stage::WaitingForCallback)
        return; // the app cancelled from the slot
    BrowserLauncher *l = launcher;
    if (!l) {
        if (!defaultLauncher)
            defaultLauncher = std::make_unique<SystemBrowserLauncher>();
        l = defaultLauncher.get();
    }
    qCDebug(lcAuthorization) << "opening the browser";
    if (const Error e = l->openUrl(url)) {
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
    auto *tokenClient = new TokenClient(nam, client.transport(), q);
    tokenClient->setClock(clock);
    // RFC 8707 §2.2: with resources configured, the code exchange asks for the first one — the
    // app's main API — so that an app without a refresh token can still call it, and no app pays
    // a refresh right after signing in. Tokens for the other resources, and the provider's own
    // token (UserInfo), are obtained on demand with the refresh token.
    tokenJob = tokenClient->exchangeCode(provider, client, request, response.code(), q->resource());
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
