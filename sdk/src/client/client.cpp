// SPDX-License-Identifier: MIT
// Client: the facade. It owns the defaults an app would otherwise wire by hand and composes
// the building blocks (SignIn, Session, HttpClient); it has no protocol logic of its own.
#include <keyloop/client.h>

#include <keyloop/accountindex.h>
#include <keyloop/browserlauncher.h>
#include <keyloop/devicesignin.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/endsessionjob.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/jwkscache.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/sessioncredential.h>
#include <keyloop/signin.h>
#include <keyloop/tokenstore.h>

#include "client/userclaims_p.h"
#include "core/logging_p.h"
#include "session/providercache_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>

namespace Keyloop {

class ClientPrivate
{
public:
    explicit ClientPrivate(Client *client) : q(client) {}

    Client *q;
    ClientConfiguration configuration;
    QString appId;

    // Defaults, created on first use unless replaced.
    std::unique_ptr<QNetworkAccessManager> ownNam;
    std::unique_ptr<KeychainTokenStore> ownStore;
    std::unique_ptr<AccountIndex> ownIndex;
    std::unique_ptr<SystemBrowserLauncher> ownLauncher;
    std::unique_ptr<JwksCache> ownJwks;
    QPointer<QNetworkAccessManager> nam;
    QPointer<TokenStore> store;
    QPointer<AccountIndex> index;
    BrowserLauncher *launcher = nullptr;
    QPointer<JwksCache> jwks;
    const Clock *clock = Clock::system();

    Client::State state = Client::State::Idle;
    QString account;
    QJsonObject claims;
    QUrl authorizationUrl;
    QString userCode;
    QUrl verificationUri;
    QUrl verificationUriComplete;
    Client::State stateBeforeSignIn = Client::State::Idle;
    ProviderConfiguration provider; // remembered with the session, or discovered
    QPointer<Session> session;
    QPointer<SignIn> signIn;
    QPointer<DeviceSignIn> deviceSignIn;
    QPointer<EndSessionJob> endSession;
    HttpClient *http = nullptr;
    struct Api
    {
        QString resource;
        QList<QUrl> locations;
    };
    QList<Api> apis;
    QList<QPointer<SessionCredential>> credentials;

    QNetworkAccessManager *networkAccessManager()
    {
        if (!nam) {
            ownNam = std::make_unique<QNetworkAccessManager>();
            nam = ownNam.get();
        }
        return nam;
    }
    TokenStore *tokenStore()
    {
        if (!store) {
            ownStore = std::make_unique<KeychainTokenStore>(appId);
            store = ownStore.get();
        }
        return store;
    }
    AccountIndex *accountIndex()
    {
        if (!index) {
            ownIndex = std::make_unique<AccountIndex>(appId);
            index = ownIndex.get();
        }
        return index;
    }
    BrowserLauncher *browserLauncher()
    {
        if (!launcher) {
            ownLauncher = std::make_unique<SystemBrowserLauncher>();
            launcher = ownLauncher.get();
        }
        return launcher;
    }
    JwksCache *jwksCache()
    {
        if (!jwks) {
            ownJwks = std::make_unique<JwksCache>(networkAccessManager(), configuration.transport());
            ownJwks->setClock(clock);
            jwks = ownJwks.get();
        }
        return jwks;
    }
    HttpClient *httpClient()
    {
        if (!http)
            http = new HttpClient(networkAccessManager(), configuration.transport(), q);
        return http;
    }

    QString issuer() const { return issuerIdentifier(configuration.issuer()); }
    QString storeKey() const { return TokenStore::keyFor(issuer(), configuration.clientId(), account); }
    bool indexListsAccount();

    void setState(Client::State s)
    {
        if (state == s)
            return;
        state = s;
        Q_EMIT q->stateChanged(s);
    }
    void setClaims(const QJsonObject &c)
    {
        if (claims == c)
            return;
        claims = c;
        Q_EMIT q->userChanged();
    }
    void fail(const Error &error, Client::State stateAfter);

    void onRecordRead(const SessionRecord &record);
    void startSession(const ProviderConfiguration &provider, std::function<void(Session *)> then);
    void useSession(Session *s);
    void bindCredentials();
    void unbindCredentials(); // no request carries the old account's token any more
    void bindApi(const Api &api);
    HttpReply *watch(HttpReply *reply);
    ClientConfiguration signInConfiguration(const QStringList &extraScopes, const QStringList &acrValues, int maxAge) const;
    bool isSigningIn() const { return signIn || deviceSignIn; }
    void cancelSignIns();
    void setUserCode(const QString &code, const QUrl &uri, const QUrl &complete);
    void signInFailed(const Error &e);
    void finishSignIn(const TokenResponse &tokens, const IdTokenClaims &idClaims, const QString &resource,
                      const ProviderConfiguration &p);
    void becomeSignedOut(bool requireSignIn);
    void endProviderSession(const ProviderConfiguration &provider, const QByteArray &idToken);
};

// QtKeychain 0.13 answers "not found" for a locked keyring: when the index lists the account,
// "not found" means "cannot see it now", never "signed out".
bool ClientPrivate::indexListsAccount()
{
    Error error;
    const QList<AccountIndexEntry> entries = accountIndex()->entries(&error);
    return std::any_of(entries.cbegin(), entries.cend(), [this](const AccountIndexEntry &e) {
        return e.issuer == issuer() && e.clientId == configuration.clientId() && e.account == account;
    });
}

void ClientPrivate::fail(const Error &error, Client::State stateAfter)
{
    qCDebug(lcSession) << "client:" << error.code();
    setState(stateAfter);
    if (error.domain() == Error::Domain::Storage)
        Q_EMIT q->storageFailed(error);
    Q_EMIT q->failed(error);
}

Client::Client(const ClientConfiguration &configuration, QObject *parent)
    : Client(configuration,
             QCoreApplication::organizationDomain().isEmpty()
                 ? QCoreApplication::applicationName()
                 : QCoreApplication::organizationDomain() + QLatin1Char('.') + QCoreApplication::applicationName(),
             parent)
{
}

Client::Client(const ClientConfiguration &configuration, const QString &appId, QObject *parent)
    : QObject(parent), d(std::make_unique<ClientPrivate>(this))
{
    d->configuration = configuration;
    d->appId = appId.isEmpty() ? QStringLiteral("keyloop") : appId;
    if (configuration.hasProviderConfiguration())
        d->provider = configuration.providerConfiguration();
}

Client::~Client()
{
    d->cancelSignIns();
    if (d->endSession)
        d->endSession->cancel();
    delete d->session.data();
}

ClientConfiguration Client::configuration() const { return d->configuration; }
QString Client::appId() const { return d->appId; }
QNetworkAccessManager *Client::networkAccessManager() const { return d->networkAccessManager(); }
void Client::setNetworkAccessManager(QNetworkAccessManager *nam) { d->nam = nam; }
TokenStore *Client::tokenStore() const { return d->tokenStore(); }
void Client::setTokenStore(TokenStore *store) { d->store = store; }
AccountIndex *Client::accountIndex() const { return d->accountIndex(); }
void Client::setAccountIndex(AccountIndex *index) { d->index = index; }
BrowserLauncher *Client::browserLauncher() const { return d->browserLauncher(); }
void Client::setBrowserLauncher(BrowserLauncher *launcher) { d->launcher = launcher; }
JwksCache *Client::jwksCache() const { return d->jwksCache(); }
void Client::setJwksCache(JwksCache *cache) { d->jwks = cache; }
void Client::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }

Client::State Client::state() const { return d->state; }
bool Client::isSignedIn() const { return d->state == State::SignedIn; }
QString Client::account() const { return d->account; }
QJsonObject Client::claims() const { return d->claims; }
QString Client::subject() const { return d->claims.value(QStringLiteral("sub")).toString(); }
QString Client::email() const { return d->claims.value(QStringLiteral("email")).toString(); }
QUrl Client::authorizationUrl() const { return d->authorizationUrl; }
QString Client::userCode() const { return d->userCode; }
QUrl Client::verificationUri() const { return d->verificationUri; }
QUrl Client::verificationUriComplete() const { return d->verificationUriComplete; }
bool Client::isDeviceSignInAvailable() const { return !d->provider.deviceAuthorizationEndpoint().isEmpty(); }
Session *Client::session() const { return d->session; }
HttpClient *Client::httpClient() const { return d->httpClient(); }

QString Client::displayName() const
{
    for (const char *name : {"name", "preferred_username", "email"}) {
        const QString v = d->claims.value(QLatin1String(name)).toString();
        if (!v.isEmpty())
            return v;
    }
    return QString();
}

QList<AccountIndexEntry> Client::accounts() const
{
    Error error;
    QList<AccountIndexEntry> out;
    for (const AccountIndexEntry &e : d->accountIndex()->entries(&error)) {
        if (e.issuer == d->issuer() && e.clientId == d->configuration.clientId())
            out.append(e);
    }
    return out;
}

// ---- restore -----------------------------------------------------------------------------

void Client::restore()
{
    if (d->state == State::Restoring || d->state == State::SigningIn || d->state == State::SigningOut)
        return;
    d->setState(State::Restoring);
    TokenStoreJob *job = d->tokenStore()->read(d->storeKey());
    connect(job, &Job::finished, this, [this, job] {
        const Error e = job->error();
        if (e.code() == Error::Code::NotFound) {
            if (d->indexListsAccount()) {
                d->fail(Error(Error::Code::StorageUnavailable,
                              QStringLiteral("the keychain does not show the session the account list names: it may "
                                             "be locked or unavailable; unlock it and try again")),
                        State::Idle);
                return;
            }
            d->becomeSignedOut(true);
            return;
        }
        if (e) {
            d->fail(e, State::Idle);
            return;
        }
        d->onRecordRead(job->record());
    });
    job->start();
}

void ClientPrivate::onRecordRead(const SessionRecord &record)
{
    // The metadata remembered with the session (format 3): its endpoints are checked again
    // under this app's transport rules. Sessions stored earlier have none: discovered once.
    ProviderConfiguration remembered = provider;
    if (!record.providerMetadata().isEmpty()) {
        Error parseError;
        const ProviderConfiguration parsed = ProviderConfiguration::fromJson(
            QJsonDocument(record.providerMetadata()).toJson(QJsonDocument::Compact), configuration.issuer(),
            configuration.transport(), &parseError);
        if (!parseError) {
            remembered = parsed;
            // Fresh until the discovery response's caching said (bounded); a session stored
            // before that was remembered has no expiry and is used as it is.
            remembered.setExpiresAt(ProviderCache::discoveryExpiresAt(record.providerCache()));
        } else
            qCDebug(lcSession) << "client: the remembered provider metadata is unusable; discovering:" << parseError.code();
    }
    const auto restoreWith = [this, record](Session *s) {
        SessionJob *job = s->restore(record);
        QObject::connect(job, &Job::finished, q, [this, job, s] {
            if (const Error e = job->error()) {
                delete s;
                fail(e, Client::State::Idle);
                return;
            }
            useSession(s);
            setClaims(UserClaims::fromIdToken(s->record().idToken()));
            setState(Client::State::SignedIn);
            Q_EMIT q->signedIn();
        });
        job->start();
    };
    startSession(remembered, restoreWith);
}

// The session needs the provider's endpoints: remembered with the session (no network), set
// by hand in the configuration, or — for a session stored before metadata was remembered —
// discovered once.
void ClientPrivate::startSession(const ProviderConfiguration &known, std::function<void(Session *)> then)
{
    const auto create = [this, then](const ProviderConfiguration &p) {
        provider = p;
        auto *s = new Session(configuration, p, tokenStore(), networkAccessManager(), q);
        s->setClock(clock);
        s->setAccount(account);
        s->setAccountIndex(accountIndex());
        s->setJwksCache(jwksCache());
        then(s);
    };
    if (!known.isNull() && !known.isStale(clock->dateTime())) {
        create(known);
        return;
    }
    // Nothing remembered, or the remembered document is stale (RFC 9111 §4.2): discover again —
    // but a remembered copy is still better than no session when discovery fails.
    auto *discovery = new DiscoveryJob(networkAccessManager(), configuration.issuer(), configuration.transport(), q);
    discovery->setClock(clock);
    QObject::connect(discovery, &Job::finished, q, [this, discovery, create, known] {
        if (const Error e = discovery->error(); e && !known.isNull()) {
            qCDebug(lcSession) << "client: discovery failed; using the remembered provider metadata:" << e.code();
            create(known);
            return;
        }
        if (const Error e = discovery->error()) {
            fail(e, Client::State::Idle);
            if (e.isTransient())
                Q_EMIT q->transientError(e);
            return;
        }
        create(discovery->configuration());
    });
    discovery->start();
}

void ClientPrivate::useSession(Session *s)
{
    if (session && session != s)
        session->deleteLater();
    session = s;
    s->setParent(q);
    QObject::connect(s, &Session::signInRequired, q, [this, s] {
        if (session == s)
            becomeSignedOut(true);
    });
    QObject::connect(s, &Session::storageFailed, q, &Client::storageFailed);
    QObject::connect(s, &Session::tokensChanged, q, [this, s] {
        if (session == s && s->isSignedIn() && state == Client::State::SignedIn) {
            setClaims(UserClaims::fromIdToken(s->record().idToken()));
            Q_EMIT q->tokensRefreshed();
        }
    });
    bindCredentials();
}

void ClientPrivate::unbindCredentials()
{
    for (const QPointer<SessionCredential> &c : std::as_const(credentials)) {
        if (c)
            httpClient()->removeCredential(c);
        delete c.data();
    }
    credentials.clear();
}

void ClientPrivate::bindCredentials()
{
    unbindCredentials();
    if (!session)
        return;
    for (const Api &api : std::as_const(apis))
        bindApi(api);
}

void ClientPrivate::bindApi(const Api &api)
{
    auto *credential = new SessionCredential(session, api.resource, session);
    credentials.append(credential);
    QObject::connect(credential, &SessionCredential::backgroundRefreshFailed, q, [this](const Error &e) {
        if (e.isTransient())
            Q_EMIT q->transientError(e);
    });
    if (const Error e = httpClient()->addCredential(credential, api.locations))
        Q_EMIT q->failed(e); // a location that may not carry a token (plain http, a query, …)
}

// The facade's signals for what a request's answer means to the app; the reply keeps its error.
HttpReply *ClientPrivate::watch(HttpReply *reply)
{
    QObject::connect(reply, &Job::finished, q, [this, reply] {
        const Error e = reply->error();
        if (e.code() == Error::Code::StepUpRequired)
            Q_EMIT q->stepUpRequired(e);
        else if (e.isTransient())
            Q_EMIT q->transientError(e);
    });
    return reply;
}

void ClientPrivate::becomeSignedOut(bool requireSignIn)
{
    setClaims(QJsonObject());
    setState(Client::State::SignInRequired);
    if (requireSignIn)
        Q_EMIT q->signInRequired();
}

// ---- sign-in -------------------------------------------------------------------------------

ClientConfiguration ClientPrivate::signInConfiguration(const QStringList &extraScopes, const QStringList &acrValues,
                                                       int maxAge) const
{
    ClientConfiguration config = configuration;
    if (!provider.isNull() && !config.hasProviderConfiguration())
        config.setProviderConfiguration(provider); // no discovery when the metadata is known
    if (!extraScopes.isEmpty()) {
        QStringList scopes = config.scopes();
        for (const QString &s : extraScopes)
            if (!scopes.contains(s))
                scopes.append(s);
        config.setScopes(scopes); // incremental consent: the new sign-in asks for more
    }
    if (!acrValues.isEmpty())
        config.setAcrValues(acrValues); // RFC 9470 §4: step-up
    if (maxAge >= 0)
        config.setMaxAge(std::chrono::seconds(maxAge));
    return config;
}

void Client::signIn(const QStringList &extraScopes, const QStringList &acrValues, int maxAge)
{
    if (d->isSigningIn())
        return; // one at a time
    auto *job = new SignIn(d->signInConfiguration(extraScopes, acrValues, maxAge), d->networkAccessManager(), this);
    job->setBrowserLauncher(d->browserLauncher());
    job->setJwksCache(d->jwksCache());
    job->setClock(d->clock);
    d->signIn = job;
    connect(job, &SignIn::authorizationUrlReady, this, [this, job](const QUrl &url) {
        if (d->provider.isNull())
            d->provider = job->providerConfiguration(); // discovered: isDeviceSignInAvailable() can tell
        d->authorizationUrl = url;
        Q_EMIT authorizationUrlChanged(url);
    });
    connect(job, &SignIn::browserLaunchFailed, this, &Client::browserLaunchFailed);
    connect(job, &Job::finished, this, [this, job] {
        d->authorizationUrl = QUrl();
        Q_EMIT authorizationUrlChanged(QUrl());
        if (const Error e = job->error()) {
            d->signInFailed(e);
            return;
        }
        d->finishSignIn(job->tokenResponse(), job->idTokenClaims(), job->resource(), job->providerConfiguration());
    });
    d->stateBeforeSignIn = d->state;
    d->setState(State::SigningIn);
    job->start();
}

void Client::signInWithDeviceCode(const QStringList &extraScopes)
{
    if (d->deviceSignIn)
        return; // one at a time
    if (d->signIn) {
        // The user chose the device code over the browser sign-in that is waiting: replace it
        // without reporting a cancellation, and keep the state it started from.
        SignIn *browser = d->signIn;
        browser->disconnect(this);
        browser->cancel();
        d->signIn = nullptr;
        d->authorizationUrl = QUrl();
        Q_EMIT authorizationUrlChanged(QUrl());
    } else {
        d->stateBeforeSignIn = d->state;
    }
    auto *job = new DeviceSignIn(d->signInConfiguration(extraScopes, {}, -1), d->networkAccessManager(), this);
    job->setJwksCache(d->jwksCache());
    job->setClock(d->clock);
    d->deviceSignIn = job;
    connect(job, &DeviceSignIn::userCodeReady, this,
            [this](const QString &code, const QUrl &uri, const QUrl &complete) { d->setUserCode(code, uri, complete); });
    connect(job, &Job::finished, this, [this, job] {
        d->setUserCode(QString(), QUrl(), QUrl());
        if (const Error e = job->error()) {
            d->signInFailed(e);
            return;
        }
        d->finishSignIn(job->tokenResponse(), job->idTokenClaims(), job->resource(), job->providerConfiguration());
    });
    d->setState(State::SigningIn);
    job->start();
}

void Client::cancelSignIn()
{
    d->cancelSignIns();
}

void ClientPrivate::cancelSignIns()
{
    if (signIn)
        signIn->cancel();
    if (deviceSignIn)
        deviceSignIn->cancel();
}

void ClientPrivate::setUserCode(const QString &code, const QUrl &uri, const QUrl &complete)
{
    if (userCode == code && verificationUri == uri && verificationUriComplete == complete)
        return;
    userCode = code;
    verificationUri = uri;
    verificationUriComplete = complete;
    Q_EMIT q->userCodeChanged();
}

void ClientPrivate::signInFailed(const Error &e)
{
    fail(e, stateBeforeSignIn == Client::State::SignedIn ? Client::State::SignedIn : Client::State::SignInRequired);
}

void ClientPrivate::finishSignIn(const TokenResponse &tokens, const IdTokenClaims &idClaims, const QString &resource,
                                 const ProviderConfiguration &p)
{
    startSession(p, [this, tokens, idClaims, resource](Session *s) {
        SessionJob *adopt = s->adoptSignIn(tokens, idClaims, resource);
        QObject::connect(adopt, &Job::finished, q, [this, adopt, s, tokens] {
            useSession(s);
            setClaims(UserClaims::fromIdToken(tokens.idToken()));
            setState(Client::State::SignedIn);
            if (const Error e = adopt->error()) {
                // Signed in in memory, but not saved: the app hears it; the next start signs in again.
                Q_EMIT q->storageFailed(e);
            }
            Q_EMIT q->signedIn();
        });
        adopt->start();
    });
}

// ---- sign-out, accounts ----------------------------------------------------------------------

void Client::signOut(SignOutScope scope)
{
    // RP-Initiated Logout needs the ID token as id_token_hint and the provider's metadata, but
    // the local sign-out (which must never wait on a browser) removes them: both are kept here,
    // in memory only, for the browser step that follows.
    const bool endProvider = scope == SignOutScope::ProviderSession;
    const QByteArray idToken = endProvider && d->session ? d->session->record().idToken() : QByteArray();
    const ProviderConfiguration provider = d->provider;
    if (!d->session) {
        d->becomeSignedOut(false);
        Q_EMIT signedOut();
        if (endProvider)
            d->endProviderSession(provider, idToken);
        return;
    }
    d->setState(State::SigningOut);
    SessionJob *job = d->session->signOut();
    connect(job, &Job::finished, this, [this, job, endProvider, provider, idToken] {
        d->becomeSignedOut(false);
        const Error e = job->error();
        if (e)
            Q_EMIT failed(e);
        Q_EMIT signedOut();
        // Only after the session is gone from this device (or a revocation failure reported):
        // a keychain that failed to remove it is not a state to announce a logout from.
        if (endProvider && (!e || e.code() == Error::Code::RevocationFailed))
            d->endProviderSession(provider, idToken);
    });
    job->start();
}

void ClientPrivate::endProviderSession(const ProviderConfiguration &known, const QByteArray &idToken)
{
    if (endSession)
        endSession->cancel(); // one at a time: the newest wins
    auto *job = new EndSessionJob(configuration, known.isNull() ? configuration.providerConfiguration() : known,
                                  idToken, q);
    job->setBrowserLauncher(browserLauncher());
    endSession = job;
    QObject::connect(job, &Job::finished, q, [this, job] {
        if (const Error e = job->error()) {
            qCDebug(lcSession) << "client: the provider's session was not ended:" << e.code();
            Q_EMIT q->failed(e);
            return;
        }
        Q_EMIT q->providerSessionEnded();
    });
    job->start();
}

void Client::switchAccount(const QString &account)
{
    if (d->account == account && d->state == State::SignedIn)
        return;
    d->cancelSignIns();
    d->account = account;
    Q_EMIT accountChanged();
    d->unbindCredentials();
    if (d->session) {
        d->session->deleteLater();
        d->session = nullptr;
    }
    d->setClaims(QJsonObject());
    d->setState(State::Idle);
    restore();
}

void Client::freshAccessToken(const QString &resource, QObject *context, Session::TokenCallback callback)
{
    if (!d->session) {
        QPointer<QObject> guard(context ? context : this);
        QMetaObject::invokeMethod(guard.data(), [guard, callback] {
            if (guard)
                callback(QByteArray(), Error(Error::Code::SignInRequired, QStringLiteral("not signed in")));
        }, Qt::QueuedConnection);
        return;
    }
    d->session->freshAccessToken(resource, context, std::move(callback));
}

// ---- requests ------------------------------------------------------------------------------

void Client::addApi(const QString &resource, const QList<QUrl> &locations)
{
    d->apis.append({resource, locations});
    if (d->session)
        d->bindApi(d->apis.constLast());
}

HttpReply *Client::get(const QUrl &url) { return d->watch(d->httpClient()->get(QNetworkRequest(url))); }
HttpReply *Client::get(const QNetworkRequest &request) { return d->watch(d->httpClient()->get(request)); }
HttpReply *Client::post(const QNetworkRequest &request, const HttpBody &body) { return d->watch(d->httpClient()->post(request, body)); }
HttpReply *Client::put(const QNetworkRequest &request, const HttpBody &body) { return d->watch(d->httpClient()->put(request, body)); }
HttpReply *Client::patch(const QNetworkRequest &request, const HttpBody &body) { return d->watch(d->httpClient()->patch(request, body)); }
HttpReply *Client::deleteResource(const QNetworkRequest &request) { return d->watch(d->httpClient()->deleteResource(request)); }
HttpReply *Client::sendCustomRequest(const QNetworkRequest &request, const QByteArray &verb, const HttpBody &body)
{
    return d->watch(d->httpClient()->sendCustomRequest(request, verb, body));
}

} // namespace Keyloop
