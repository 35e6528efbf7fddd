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
#include "session/providercache_p.h"
#include "session/session_p.h"


#include <QtCore/QJsonDocument>

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
    // context), never from a half-destroyed session. Work in flight is dropped; the locks are
    // released with their handles.
    const QList<OperationPtr> all = QList<OperationPtr>(d->queue) << d->current;
    for (const OperationPtr &op : all) {
        if (!op)
            continue;
        op->cancelled = true;
        op->done = {};
        if (op->tokenJob)
            op->tokenJob->disconnect(this);
    }
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

DpopKey Session::dpopKey() const { return d->dpopKey(); }

DpopKey SessionPrivate::dpopKey() const
{
    const QJsonObject jwk = record.dpopKey();
    if (jwk.isEmpty())
        return {};
    if (jwk != parsedDpopJwk) {
        Error e;
        parsedDpopKey = DpopKey::fromPrivateJwk(jwk, &e);
        parsedDpopJwk = jwk;
        if (e)
            qCWarning(lcSession) << "the stored DPoP key cannot be read:" << e.code();
    }
    return parsedDpopKey;
}

void SessionPrivate::rememberDpopKey(const DpopKey &key) const
{
    parsedDpopKey = key;
    parsedDpopJwk = key.privateJwk();
}

bool Session::isSaving() const { return d->current && d->current->saving; }

SessionJob *Session::restore()
{
    auto *job = new SessionJob(SessionJob::Operation::Restore, this);
    job->d->run = [this](SessionJob *j) {
        d->enqueue(SessionOperation::Kind::Restore, [this](const OperationPtr &op) {
            d->readStore([this, op](const Error &e, const SessionRecord &r) {
                if (op->cancelled)
                    return d->endOperation(op, Error(Error::Code::Cancelled, QStringLiteral("cancelled")));
                if (e)
                    return d->endOperation(op, e);
                if (const Error wrong = d->checkBelongs(r))
                    return d->endOperation(op, wrong);
                d->adoptRestored(r);
                d->endOperation(op);
            });
        }, [j](const Error &e) { SessionJobPrivate::finish(j, e); });
    };
    return job;
}

SessionJob *Session::restore(const SessionRecord &record)
{
    auto *job = new SessionJob(SessionJob::Operation::Restore, this);
    job->d->run = [this, record](SessionJob *j) {
        d->enqueue(SessionOperation::Kind::Restore, [this, record](const OperationPtr &op) {
            if (const Error wrong = d->checkBelongs(record))
                return d->endOperation(op, wrong);
            d->adoptRestored(record);
            d->endOperation(op);
        }, [j](const Error &e) { SessionJobPrivate::finish(j, e); });
    };
    return job;
}

// restore(record) takes a record the app read itself: it must be this session's.
Error SessionPrivate::checkBelongs(const SessionRecord &r) const
{
    if (r.issuer() != issuer() || r.clientId() != client.clientId() || r.account() != account)
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("the stored record belongs to another session (issuer, client id or account "
                                    "differ from this session's)"));
    return Error();
}

void SessionPrivate::adoptRestored(const SessionRecord &r)
{
    record = r;
    rememberStored(r);
    // The keys remembered with the session, while fresh: a refreshed ID token is then verified
    // without fetching the JWKS (an unknown kid still refetches once, rate-limited).
    if (ProviderCache::seedKeys(r.providerCache(), provider, jwks()))
        qCDebug(lcSession) << "provider keys restored from the session";
    signedIn = true;
    stored = true;
    pendingSave = false;
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
        // RFC 9449 §5: the key the tokens are bound to goes into the same item (one write) as the
        // refresh token.
        if (!response.dpopKey().isNull()) {
            r.setDpopKey(response.dpopKey().privateJwk());
            d->rememberDpopKey(response.dpopKey());
        }
        SessionAccessToken token;
        token.token = response.accessToken();
        token.tokenType = response.tokenType();
        token.issuedAt = response.receivedAt().isValid() ? response.receivedAt() : d->now();
        token.expiresAt = response.expiresAt();
        token.scopes = response.scopes();
        r.setAccessToken(resource, token);
        r.setIdToken(response.idToken());
        r.setOriginalClaims(claims);
        r.setScopes(response.scopes().isEmpty() ? d->client.scopes() : response.scopes());
        r.setResources(d->client.resources());
        r.setAppData(appData);
        r.setGrantId(SessionPrivate::newGrantId()); // a new grant: whatever runs for the old one is dropped
        if (!d->provider.isNull()) // remembered, so that a restore needs no discovery
            r.setProviderMetadata(QJsonDocument::fromJson(d->provider.toJson()).object());
        r.setUpdatedAt(d->now());
        d->enqueue(SessionOperation::Kind::Adopt, [this, r](const OperationPtr &op) {
            op->grantId = r.grantId();
            d->setSaving(op, true);
            const auto saveUnderLock = [this, op, r] {
                d->lock(op, std::chrono::seconds(45), [this, op, r](const Error &lockError) {
                    if (!d->isCurrent(op))
                        return d->endOperation(op); // signed out or signed in again meanwhile
                    if (lockError) {
                        d->setPersistent(false);
                        return d->endOperation(op, lockError);
                    }
                    if (r.refreshToken().isEmpty()) {
                        // No refresh token (e.g. offline_access refused): memory only; drop a
                        // stale stored session of this account.
                        qCDebug(lcSession) << "no refresh token: the session lives in memory only";
                        d->persistent = true; // force the signal below
                        d->setPersistent(false);
                        d->removeStored([this, op](const Error &) { d->endOperation(op); });
                        return;
                    }
                    op->phase = SessionOperation::Phase::Saving;
                    d->writeStore(r, 0, [this, op, r](const Error &e) {
                        op->phase = SessionOperation::Phase::Working;
                        if (e) {
                            if (d->isCurrent(op))
                                d->setPersistent(false);
                            return d->endOperation(op, e);
                        }
                        if (d->isCurrent(op)) {
                            d->stored = true;
                            d->rememberStored(r);
                            d->setPersistent(true);
                        }
                        d->updateIndex([this, op] { d->endOperation(op); });
                    });
                });
            };
            if (d->probed || !d->store || r.refreshToken().isEmpty()) {
                saveUnderLock();
                return;
            }
            // A "not found" proves nothing; probe (write–read–delete) before the first save.
            TokenStoreJob *probe = d->store->probe();
            connect(probe, &Job::finished, this, [this, op, saveUnderLock, probe] {
                if (!d->isCurrent(op))
                    return d->endOperation(op);
                if (probe->error()) {
                    d->setPersistent(false);
                    return d->endOperation(op, probe->error());
                }
                d->probed = true;
                saveUnderLock();
            });
            probe->start();
        }, [j](const Error &e) { SessionJobPrivate::finish(j, e); });
        // In memory at once (the save above runs next, before any refresh of the new grant).
        d->cancelGrantWork();
        d->record = r;
        d->signedIn = true;
        d->stored = false; // this grant is not in the store until the save above succeeds
        Q_EMIT tokensChanged();
        d->pump(); // waiters queued before the sign-in
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
        // What this process holds is revoked at the provider below (RFC 7009): keep it before
        // the memory is cleared.
        const SessionRecord held = d->record;
        // The grant ends now, in this process: a refresh in flight is cancelled and its result
        // dropped; nothing of the old grant is written after this point.
        d->cancelGrantWork();
        d->record = SessionRecord();
        d->signedIn = false;
        d->setPersistent(false);
        d->failAll(Error(Error::Code::SignInRequired, QStringLiteral("signed out")));
        Q_EMIT tokensChanged();
        // Then, across processes, under the account lock (signout.cpp): revoke, then delete.
        d->enqueue(SessionOperation::Kind::SignOut, [this, held](const OperationPtr &op) { d->signOut(op, held); },
                   [j](const Error &e) { SessionJobPrivate::finish(j, e); });
    };
    return job;
}

void Session::freshAccessToken(const QString &resource, QObject *context, TokenCallback callback)
{
    // Fresh = valid for at least the lead time, which accessTokenValidFor() always asks for.
    accessTokenValidFor(resource, std::chrono::milliseconds(0), context, std::move(callback));
}

void Session::accessTokenValidFor(const QString &resource, std::chrono::milliseconds minValidity, QObject *context,
                                  TokenCallback callback)
{
    SessionPrivate::Waiter w{QPointer<QObject>(context ? context : this), std::move(callback),
                             std::max(minValidity, std::chrono::milliseconds(0))};
    d->maybeRetrySave();
    // Fast path: a fresh token costs no I/O, only a queued call.
    const SessionAccessToken token = d->record.accessToken(resource);
    if (d->signedIn && Freshness::isFresh(token, d->now(), d->leadFor(w))) {
        SessionPrivate::deliver(w, token.token, Error());
        return;
    }
    d->waiting[resource].append(w);
    d->pump();
}

void Session::freshIdToken(QObject *context, IdTokenCallback callback)
{
    SessionPrivate::Waiter w{QPointer<QObject>(context ? context : this), std::move(callback)};
    d->maybeRetrySave();
    // Fast path, as for access tokens: a fresh ID token costs no I/O, only a queued call.
    if (d->isIdTokenFresh()) {
        SessionPrivate::deliver(w, d->record.idToken(), Error());
        return;
    }
    d->idTokenWaiting.append(w);
    d->pump();
}

void Session::invalidateAccessToken(const QString &resource, const QByteArray &rejected)
{
    // Only the current token: a request that carried an older one must not throw away the
    // token a refresh just brought (many requests rejecting one token make one refresh).
    if (!d->signedIn || rejected.isEmpty() || d->record.accessToken(resource).token != rejected)
        return;
    qCDebug(lcSession) << "access token rejected by a resource server: dropped";
    d->record.removeAccessToken(resource);
    Q_EMIT tokensChanged();
}

} // namespace Keyloop
