// SPDX-License-Identifier: MIT
// Session and SessionJob: the public API. The operations behind it are listed in
// session/session_p.h.
#include <keyloop/session.h>

#include <keyloop/accountindex.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/jwkscache.h>
#include <keyloop/tokenclient.h>
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"
#include "session/freshness_p.h"
#include "session/session_p.h"


namespace Keyloop {

// ---------------------------------------------------------------------------------------
// SessionJob

class SessionJobPrivate
{
public:
    SessionJob::Operation operation = SessionJob::Operation::Restore;
    std::function<void(SessionJob *)> run;

    static void finish(SessionJob *job, const Error &error) { job->emitResult(error); }
};

SessionJob::SessionJob(Operation operation, QObject *parent)
    : Job(parent), d(std::make_unique<SessionJobPrivate>())
{
    d->operation = operation;
}

SessionJob::~SessionJob() = default;
SessionJob::Operation SessionJob::operation() const { return d->operation; }

void SessionJob::doStart()
{
    if (d->run)
        d->run(this);
    else
        emitResult(Error());
}

// ---------------------------------------------------------------------------------------
// Session

JwksCache *SessionPrivate::jwks() const { return sharedJwks ? sharedJwks.data() : ownJwks; }

Session::Session(const ClientConfiguration &client, const ProviderConfiguration &provider, TokenStore *store,
                 QNetworkAccessManager *nam, QObject *parent)
    : QObject(parent), d(std::make_unique<SessionPrivate>(this))
{
    d->client = client;
    d->provider = provider;
    d->store = store;
    d->nam = nam;
    d->appId = store ? store->appId() : QString();
    d->clock = Clock::system();
    d->tokenClient = new TokenClient(nam, client.transport(), this);
    d->tokenClient->setClock(d->clock);
    d->ownJwks = new JwksCache(nam, client.transport(), this);
    d->ownJwks->setClock(d->clock);
}

Session::~Session()
{
    // The callback contract: every caller still waiting for a token hears once (queued, on its
    // context), never from a half-destroyed session.
    d->failAll(Error(Error::Code::Cancelled, QStringLiteral("the session was destroyed")));
}

ClientConfiguration Session::clientConfiguration() const { return d->client; }
ProviderConfiguration Session::providerConfiguration() const { return d->provider; }
QString Session::appId() const { return d->appId; }
const Clock *Session::clock() const { return d->clock; }

void Session::setClock(const Clock *clock)
{
    d->clock = clock ? clock : Clock::system();
    d->tokenClient->setClock(d->clock);
    d->ownJwks->setClock(d->clock);
}
QString Session::account() const { return d->account; }
void Session::setAccount(const QString &account) { d->account = account; }
QString Session::storeKey() const { return d->key(); }
void Session::setAccountIndex(AccountIndex *index) { d->index = index; }
JwksCache *Session::jwksCache() const { return d->jwks(); }
void Session::setJwksCache(JwksCache *cache) { d->sharedJwks = cache; }
std::chrono::seconds Session::refreshLeadTime() const { return d->leadTime; }
void Session::setRefreshLeadTime(std::chrono::seconds leadTime) { d->leadTime = std::max(leadTime, std::chrono::seconds(0)); }
bool Session::isSignedIn() const { return d->signedIn; }
bool Session::isPersistent() const { return d->persistent; }
SessionRecord Session::record() const { return d->record; }

SessionJob *Session::restore()
{
    auto *job = new SessionJob(SessionJob::Operation::Restore, this);
    job->d->run = [this](SessionJob *j) {
        d->readStore([this, j](const Error &e, const SessionRecord &r) {
            if (e) {
                SessionJobPrivate::finish(j, e);
                return;
            }
            d->adoptRestored(r);
            SessionJobPrivate::finish(j, Error());
        });
    };
    return job;
}

SessionJob *Session::restore(const SessionRecord &record)
{
    auto *job = new SessionJob(SessionJob::Operation::Restore, this);
    job->d->run = [this, record](SessionJob *j) {
        d->adoptRestored(record);
        SessionJobPrivate::finish(j, Error());
    };
    return job;
}

void SessionPrivate::adoptRestored(const SessionRecord &r)
{
    record = r;
    knownStoredRefreshToken = r.refreshToken();
    signedIn = true;
    stored = true;
    setPersistent(!r.refreshToken().isEmpty());
    qCDebug(lcSession) << "session restored";
    Q_EMIT q->tokensChanged();
}

SessionJob *Session::adoptSignIn(const TokenResponse &response, const QJsonObject &claims, const QString &resource,
                                 const QJsonObject &appData)
{
    auto *job = new SessionJob(SessionJob::Operation::AdoptSignIn, this);
    job->d->run = [this, response, claims, resource, appData](SessionJob *j) {
        if (response.accessToken().isEmpty()) {
            SessionJobPrivate::finish(j, Error(Error::Code::MissingParameter, QStringLiteral("the token response has no access token")));
            return;
        }
        SessionRecord r;
        r.setIssuer(d->issuer());
        r.setClientId(d->client.clientId());
        r.setAccount(d->account);
        r.setSubject(claims.value(QStringLiteral("sub")).toString());
        for (const char *name : {"name", "preferred_username", "email"}) {
            const QString v = claims.value(QLatin1String(name)).toString();
            if (!v.isEmpty()) {
                r.setDisplayName(v);
                break;
            }
        }
        r.setRefreshToken(response.refreshToken());
        SessionAccessToken token;
        token.token = response.accessToken();
        token.issuedAt = response.receivedAt().isValid() ? response.receivedAt() : d->now();
        token.expiresAt = response.expiresAt();
        token.scopes = response.scopes();
        r.setAccessToken(resource, token);
        r.setIdToken(response.idToken());
        r.setOriginalClaims(claims);
        r.setScopes(response.scopes().isEmpty() ? d->client.scopes() : response.scopes());
        r.setResources(d->client.resources());
        r.setAppData(appData);
        r.setUpdatedAt(d->now());
        d->record = r;
        d->signedIn = true;
        Q_EMIT tokensChanged();
        d->pump(); // waiters queued before the sign-in

        if (r.refreshToken().isEmpty()) {
            // No refresh token (e.g. offline_access refused): memory only; drop a stale stored one.
            qCDebug(lcSession) << "no refresh token: the session lives in memory only";
            d->persistent = true; // force the signal below
            d->setPersistent(false);
            d->removeStored([j](const Error &) { SessionJobPrivate::finish(j, Error()); });
            return;
        }
        const auto save = [this, j, r] {
            d->withLock([this, j, r](const Error &lockError) {
                if (lockError) {
                    d->setPersistent(false);
                    SessionJobPrivate::finish(j, lockError);
                    return;
                }
                d->writeStore(r, 0, [this, j, r](const Error &e) {
                    d->unlock();
                    if (e) {
                        d->setPersistent(false);
                        SessionJobPrivate::finish(j, e);
                        return;
                    }
                    d->stored = true;
                    d->knownStoredRefreshToken = r.refreshToken();
                    d->setPersistent(true);
                    d->updateIndex([j] { SessionJobPrivate::finish(j, Error()); });
                });
            });
        };
        if (d->probed || !d->store) {
            save();
            return;
        }
        // A "not found" proves nothing; probe (write–read–delete) before the first save.
        TokenStoreJob *probe = d->store->probe();
        connect(probe, &Job::finished, this, [this, j, save, p = probe] {
            if (p->error()) {
                d->setPersistent(false);
                SessionJobPrivate::finish(j, p->error());
                return;
            }
            d->probed = true;
            save();
        });
        probe->start();
    };
    return job;
}

SessionJob *Session::adoptSignIn(const TokenResponse &response, const IdTokenClaims &claims, const QString &resource,
                                 const QJsonObject &appData)
{
    return adoptSignIn(response, claims.isNull() ? QJsonObject() : claims.claims(), resource, appData);
}

SessionJob *Session::signOut()
{
    auto *job = new SessionJob(SessionJob::Operation::SignOut, this);
    job->d->run = [this](SessionJob *j) {
        d->removeStored([this, j](const Error &e) {
            d->record = SessionRecord();
            d->signedIn = false;
            d->stored = false;
            d->setPersistent(false);
            d->failAll(Error(Error::Code::SignInRequired, QStringLiteral("signed out")));
            Q_EMIT tokensChanged();
            SessionJobPrivate::finish(j, e);
        });
    };
    return job;
}

void Session::freshAccessToken(const QString &resource, QObject *context, TokenCallback callback)
{
    SessionPrivate::Waiter w{QPointer<QObject>(context ? context : this), std::move(callback)};
    if (!d->refreshing) {
        // Fast path: a fresh token costs no I/O, only a queued call.
        const SessionAccessToken token = d->record.accessToken(resource);
        if (d->signedIn && Freshness::isFresh(token, d->now(), d->leadTime)) {
            SessionPrivate::deliver(w, token.token, Error());
            return;
        }
    }
    d->waiting[resource].append(w);
    d->pump();
}

} // namespace Keyloop
