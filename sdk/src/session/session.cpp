// SPDX-License-Identifier: MIT
#include <keyloop/session.h>

#include <keyloop/accountindex.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/tokenclient.h>
#include <keyloop/tokenstore.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "session/freshness_p.h"
#include "session/testhooks_p.h"
#include "store/processlock_p.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QMap>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

// qCDebug(category) << … leaves the macro's variadic part empty, which clang's -Wpedantic
// flags in C++17 (allowed since C++20).
#if defined(__clang__)
#    pragma clang diagnostic ignored "-Wgnu-zero-variadic-macro-arguments"
#endif

namespace Keyloop {

// ---------------------------------------------------------------------------------------
// SessionJob

class SessionJobPrivate
{
public:
    SessionJob::Operation operation = SessionJob::Operation::Restore;
    std::function<void(SessionJob *)> run;
    Error error;
    bool autoDelete = true;
    bool started = false;
    bool finished = false;

    static void finish(SessionJob *job, const Error &error)
    {
        if (job->d->finished)
            return;
        job->d->finished = true;
        job->d->error = error;
        Q_EMIT job->finished(job);
        if (job->d->autoDelete)
            job->deleteLater();
    }
};

SessionJob::SessionJob(Operation operation, QObject *parent)
    : QObject(parent), d(std::make_unique<SessionJobPrivate>())
{
    d->operation = operation;
}

SessionJob::~SessionJob() = default;
SessionJob::Operation SessionJob::operation() const { return d->operation; }
Error SessionJob::error() const { return d->error; }
bool SessionJob::autoDelete() const { return d->autoDelete; }
void SessionJob::setAutoDelete(bool autoDelete) { d->autoDelete = autoDelete; }

void SessionJob::start()
{
    if (d->started)
        return;
    d->started = true;
    QTimer::singleShot(0, this, [this] {
        if (d->run)
            d->run(this);
        else
            SessionJobPrivate::finish(this, Error());
    });
}

// ---------------------------------------------------------------------------------------
// Session

namespace {

constexpr int kSaveAttempts = 3;

QDateTime nowOf(const Clock *clock)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch());
    return QDateTime::fromMSecsSinceEpoch(ms.count(), Qt::UTC);
}

// A refresh answered with invalid_grant, or any 4xx from the token endpoint (some providers
// answer a dead refresh token with a bare 400/401): the grant is gone (RFC 6749 §5.2).
bool rejectsGrant(const Error &e)
{
    if (e.requiresSignIn())
        return true;
    if (e.isTransient())
        return false;
    const int status = e.httpStatus();
    return (e.code() == Error::Code::OAuthError || e.code() == Error::Code::HttpError) && status >= 400 && status < 500;
}

QStringList audienceOf(const QJsonValue &aud)
{
    QStringList list;
    if (aud.isString())
        list << aud.toString();
    else
        for (const QJsonValue &v : aud.toArray())
            list << v.toString();
    list.sort();
    return list;
}

// OIDC Core §12.2: a refreshed ID token must keep iss, sub, aud and azp (and auth_time, if
// present, still names the original authentication). Its signature is not verified here:
// it came straight from the token endpoint over TLS (OIDC Core 3.1.3.7 rule 6).
Error checkRefreshedIdToken(const QByteArray &idToken, const QJsonObject &original)
{
    const QList<QByteArray> parts = idToken.split('.');
    const auto payload = parts.size() == 3 ? Crypto::base64UrlDecode(parts.at(1)) : std::nullopt;
    QJsonParseError pe;
    const QJsonDocument doc = payload ? QJsonDocument::fromJson(*payload, &pe) : QJsonDocument();
    if (!payload || pe.error != QJsonParseError::NoError || !doc.isObject())
        return Error(Error::Code::JoseMalformed, QStringLiteral("OIDC Core 12.2: the refreshed ID token is not a JWS with a JSON payload"));
    const QJsonObject claims = doc.object();
    if (original.isEmpty())
        return {}; // plain OAuth 2.0 session that now gets an ID token: nothing to compare
    const auto mismatch = [](const char *claim) {
        return Error(Error::Code::IdTokenRefreshMismatch,
                     QStringLiteral("OIDC Core 12.2: the refreshed ID token changed %1").arg(QLatin1String(claim)));
    };
    if (claims.value(QStringLiteral("iss")) != original.value(QStringLiteral("iss")))
        return mismatch("iss");
    if (claims.value(QStringLiteral("sub")) != original.value(QStringLiteral("sub")))
        return mismatch("sub");
    if (audienceOf(claims.value(QStringLiteral("aud"))) != audienceOf(original.value(QStringLiteral("aud"))))
        return mismatch("aud");
    if (claims.value(QStringLiteral("azp")) != original.value(QStringLiteral("azp")))
        return mismatch("azp");
    const QJsonValue authTime = claims.value(QStringLiteral("auth_time"));
    const QJsonValue originalAuthTime = original.value(QStringLiteral("auth_time"));
    if (!authTime.isUndefined() && !originalAuthTime.isUndefined()
        && authTime.toInteger(-1) != originalAuthTime.toInteger(-2))
        return mismatch("auth_time");
    return {};
}

struct Waiter
{
    QPointer<QObject> context;
    Session::TokenCallback callback;
};

} // namespace

class SessionPrivate
{
public:
    Session *q;
    ClientConfiguration client;
    ProviderConfiguration provider;
    QPointer<TokenStore> store;
    QNetworkAccessManager *nam;
    QString appId;
    const Clock *clock;
    QString account;
    QPointer<AccountIndex> index;
    std::chrono::seconds leadTime{60};
    TokenClient *tokenClient = nullptr;

    SessionRecord record;
    bool signedIn = false;
    bool persistent = false;
    bool stored = false;  // the store holds (or held) this session: restored or saved once
    bool probed = false;  // a probe succeeded on this store
    // The refresh token the store held when we last read or wrote it. A stored token that
    // differs from both this and ours was rotated by another process; one equal to this is
    // merely older than ours (our last save failed) and must not replace it.
    QByteArray knownStoredRefreshToken;

    bool rotatedElsewhere(const SessionRecord &storedRecord) const
    {
        const QByteArray rt = storedRecord.refreshToken();
        return !rt.isEmpty() && rt != record.refreshToken() && rt != knownStoredRefreshToken;
    }

    QMap<QString, QList<Waiter>> waiting;
    bool refreshing = false;
    ProcessLock *lock = nullptr;

    SessionPrivate(Session *session) : q(session) {}

    QString issuer() const
    {
        return client.issuer().isEmpty() ? provider.issuer().toString() : client.issuer().toString();
    }
    QString key() const { return TokenStore::keyFor(issuer(), client.clientId(), account); }
    QDateTime now() const { return nowOf(clock); }

    void setPersistent(bool value)
    {
        if (persistent == value)
            return;
        persistent = value;
        Q_EMIT q->persistentChanged(value);
    }

    static void deliver(const Waiter &w, const QByteArray &token, const Error &error)
    {
        if (!w.context)
            return;
        auto callback = w.callback;
        QMetaObject::invokeMethod(
            w.context.data(), [callback, token, error] { callback(token, error); }, Qt::QueuedConnection);
    }

    // ---- locking -----------------------------------------------------------------------

    void withLock(std::function<void(const Error &)> then)
    {
        auto *l = new ProcessLock(ProcessLock::lockPath(appId, key()), q);
        lock = l;
        QObject::connect(l, &ProcessLock::acquired, q, [then] { then(Error()); });
        QObject::connect(l, &ProcessLock::failed, q, [this, l, then](const Error &e) {
            if (lock == l)
                lock = nullptr;
            l->deleteLater();
            then(e);
        });
        l->acquire();
    }

    void unlock()
    {
        if (!lock)
            return;
        testKillPoint("before-unlock");
        lock->release();
        lock->deleteLater();
        lock = nullptr;
    }

    // ---- store helpers -----------------------------------------------------------------

    void readStore(std::function<void(const Error &, const SessionRecord &)> then)
    {
        if (!store) {
            then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")), SessionRecord());
            return;
        }
        TokenStoreJob *job = store->read(key());
        QObject::connect(job, &TokenStoreJob::finished, q, [then](TokenStoreJob *j) { then(j->error(), j->record()); });
        job->start();
    }

    void writeStore(const SessionRecord &r, int attempt, std::function<void(const Error &)> then)
    {
        if (!store) {
            then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")));
            return;
        }
        TokenStoreJob *job = store->write(key(), r);
        QObject::connect(job, &TokenStoreJob::finished, q, [this, r, attempt, then](TokenStoreJob *j) {
            const Error e = j->error();
            if (!e || attempt + 1 >= kSaveAttempts || e.code() == Error::Code::StorageUnavailable) {
                then(e);
                return;
            }
            qCDebug(lcSession) << "saving the session failed; retrying" << attempt + 1;
            QTimer::singleShot(100 * (attempt + 1), q, [this, r, attempt, then] { writeStore(r, attempt + 1, then); });
        });
        job->start();
    }

    void updateIndex()
    {
        if (!index)
            return;
        AccountIndexEntry e;
        e.issuer = record.issuer();
        e.clientId = record.clientId();
        e.account = record.account();
        e.subject = record.subject();
        e.displayName = record.displayName();
        e.updatedAt = record.updatedAt();
        index->upsert(e, q, [](const Error &err) {
            if (err)
                qCWarning(lcSession) << "could not update the account index:" << err.code();
        });
    }

    void removeStored(std::function<void(const Error &)> then)
    {
        if (index)
            index->remove(record.issuer().isEmpty() ? issuer() : record.issuer(), client.clientId(), account, q,
                          [](const Error &) {});
        if (!store) {
            then(Error());
            return;
        }
        TokenStoreJob *job = store->remove(key());
        QObject::connect(job, &TokenStoreJob::finished, q, [then](TokenStoreJob *j) { then(j->error()); });
        job->start();
    }

    // ---- fresh tokens ------------------------------------------------------------------

    void failAll(const Error &error)
    {
        const auto all = std::exchange(waiting, {});
        for (const auto &list : all)
            for (const Waiter &w : list)
                deliver(w, QByteArray(), error);
    }

    void requireSignIn(const QString &why)
    {
        qCDebug(lcSession) << "sign-in required";
        const Error error(Error::Code::SignInRequired, why);
        record.setRefreshToken(QByteArray());
        record.clearAccessTokens();
        signedIn = false;
        stored = false;
        setPersistent(false);
        failAll(error);
        Q_EMIT q->tokensChanged();
        Q_EMIT q->signInRequired();
    }

    // Hands out every waiter whose token is fresh; starts one refresh (at most one at a time
    // per session: a rotating refresh token must never be spent twice) for the others.
    void pump()
    {
        if (refreshing)
            return;
        const QDateTime t = now();
        for (auto it = waiting.begin(); it != waiting.end();) {
            const SessionAccessToken token = record.accessToken(it.key());
            if (Freshness::isFresh(token, t, leadTime)) {
                for (const Waiter &w : std::as_const(it.value()))
                    deliver(w, token.token, Error());
                it = waiting.erase(it);
            } else {
                ++it;
            }
        }
        if (waiting.isEmpty())
            return;
        if (!signedIn) {
            failAll(Error(Error::Code::SignInRequired, QStringLiteral("not signed in")));
            return;
        }
        if (record.refreshToken().isEmpty()) {
            requireSignIn(QStringLiteral("the access token expired and the provider issued no refresh token"));
            return;
        }
        startRefresh(waiting.firstKey());
    }

    void finishRefresh(const QString &resource, const Error &error)
    {
        unlock();
        refreshing = false;
        const QList<Waiter> list = waiting.take(resource);
        const QByteArray token = error ? QByteArray() : record.accessToken(resource).token;
        for (const Waiter &w : list)
            deliver(w, token, error);
        pump();
    }

    void startRefresh(const QString &resource)
    {
        refreshing = true;
        qCDebug(lcSession) << "refresh started";
        // RFC 9700 §4.14: lock around read → refresh → write across processes.
        withLock([this, resource](const Error &lockError) {
            if (lockError) {
                finishRefresh(resource, lockError);
                return;
            }
            readStore([this, resource](const Error &readError, const SessionRecord &stored) {
                if (!readError && rotatedElsewhere(stored)) {
                    // Another process rotated the refresh token: adopt its tokens.
                    qCDebug(lcSession) << "adopting tokens another process refreshed";
                    record = stored;
                    knownStoredRefreshToken = stored.refreshToken();
                    this->stored = true;
                    setPersistent(true);
                    Q_EMIT q->tokensChanged();
                    if (Freshness::isFresh(record.accessToken(resource), now(), leadTime)) {
                        finishRefresh(resource, Error());
                        return;
                    }
                } else if (readError.code() == Error::Code::NotFound && this->stored) {
                    // Removed by another process (sign-out or a rejected grant).
                    unlock();
                    refreshing = false;
                    requireSignIn(QStringLiteral("the stored session was removed"));
                    return;
                } else if (readError && readError.code() != Error::Code::NotFound) {
                    qCDebug(lcSession) << "re-reading the store failed; refreshing with the token in memory:" << readError.code();
                }
                refresh(resource, false);
            });
        });
    }

    void refresh(const QString &resource, bool retriedAfterReread)
    {
        const QByteArray usedToken = record.refreshToken();
        // RFC 6749 §6; RFC 8707 §2.2: one access token per resource, "" = without resource.
        TokenJob *job = tokenClient->refresh(provider, client, usedToken, QStringList(), resource);
        QObject::connect(job, &TokenJob::finished, q, [this, job, resource, usedToken, retriedAfterReread] {
            const Error error = job->error();
            const TokenResponse response = job->response();
            job->deleteLater();
            testKillPoint("after-refresh-response");
            if (error) {
                onRefreshFailed(resource, usedToken, retriedAfterReread, error);
                return;
            }
            onRefreshSucceeded(resource, response);
        });
    }

    void onRefreshFailed(const QString &resource, const QByteArray &usedToken, bool retriedAfterReread, const Error &error)
    {
        if (!rejectsGrant(error)) {
            // Network trouble, 5xx: keep everything (RFC 6749 §5.2 does not apply).
            qCDebug(lcSession) << "refresh failed, keeping the session:" << error.code();
            finishRefresh(resource, error);
            return;
        }
        if (!retriedAfterReread) {
            // Before concluding the grant is gone, re-read once: another process may have
            // rotated the token (e.g. one that does not share our lock).
            readStore([this, resource, usedToken](const Error &readError, const SessionRecord &stored) {
                if (!readError && !stored.refreshToken().isEmpty() && stored.refreshToken() != usedToken
                    && stored.refreshToken() != knownStoredRefreshToken) {
                    record = stored;
                    knownStoredRefreshToken = stored.refreshToken();
                    Q_EMIT q->tokensChanged();
                    if (Freshness::isFresh(record.accessToken(resource), now(), leadTime)) {
                        finishRefresh(resource, Error());
                        return;
                    }
                    refresh(resource, true);
                    return;
                }
                grantRejected(resource);
            });
            return;
        }
        grantRejected(resource);
    }

    void grantRejected(const QString &resource)
    {
        Q_UNUSED(resource);
        qCDebug(lcSession) << "refresh token rejected; removing the stored session";
        removeStored([this](const Error &e) {
            if (e)
                qCWarning(lcSession) << "could not remove the rejected session from the store:" << e.code();
            unlock();
            refreshing = false;
            requireSignIn(QStringLiteral("the refresh token was rejected (RFC 6749 §5.2 invalid_grant or a 4xx answer)"));
        });
    }

    void onRefreshSucceeded(const QString &resource, const TokenResponse &response)
    {
        if (response.hasIdToken()) {
            if (Error e = checkRefreshedIdToken(response.idToken(), record.originalClaims())) {
                // The response cannot be trusted; the old refresh token may already be spent.
                qCWarning(lcSession) << "refreshed ID token rejected:" << e.message();
                removeStored([this, e](const Error &) {
                    unlock();
                    refreshing = false;
                    failAll(e);
                    requireSignIn(e.message());
                });
                return;
            }
        }
        SessionRecord updated = record;
        SessionAccessToken token;
        token.token = response.accessToken();
        token.issuedAt = response.receivedAt().isValid() ? response.receivedAt() : now();
        token.expiresAt = response.expiresAt();
        token.scopes = response.scopes();
        updated.setAccessToken(resource, token);
        // RFC 6749 §6: a response without refresh_token keeps the old one.
        if (response.hasRefreshToken())
            updated.setRefreshToken(response.refreshToken());
        if (response.hasIdToken())
            updated.setIdToken(response.idToken());
        updated.setUpdatedAt(now());
        record = updated;
        qCDebug(lcSession) << "refresh succeeded";

        // RFC 9700 §4.14: persist (a rotated refresh token above all) before anyone uses the
        // new tokens; retries happen while we still hold the lock.
        const QByteArray savedToken = updated.refreshToken();
        writeStore(updated, 0, [this, resource, savedToken](const Error &saveError) {
            if (saveError) {
                qCWarning(lcSession) << "could not save the refreshed session:" << saveError.code();
                setPersistent(false);
            } else {
                stored = true;
                knownStoredRefreshToken = savedToken;
                setPersistent(true);
            }
            finishRefresh(resource, Error());
            Q_EMIT q->tokensChanged();
            if (saveError)
                Q_EMIT q->storageFailed(saveError);
        });
    }
};

Session::Session(const ClientConfiguration &client, const ProviderConfiguration &provider, TokenStore *store,
                 QNetworkAccessManager *nam, const QString &appId, const Clock *clock, QObject *parent)
    : QObject(parent), d(std::make_unique<SessionPrivate>(this))
{
    d->client = client;
    d->provider = provider;
    d->store = store;
    d->nam = nam;
    d->appId = appId;
    d->clock = clock ? clock : Clock::system();
    d->tokenClient = new TokenClient(nam, client.transport(), this);
    d->tokenClient->setClock(d->clock);
}

Session::~Session() = default;

ClientConfiguration Session::clientConfiguration() const { return d->client; }
ProviderConfiguration Session::providerConfiguration() const { return d->provider; }
QString Session::appId() const { return d->appId; }
QString Session::account() const { return d->account; }
void Session::setAccount(const QString &account) { d->account = account; }
QString Session::storeKey() const { return d->key(); }
void Session::setAccountIndex(AccountIndex *index) { d->index = index; }
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
            d->record = r;
            d->knownStoredRefreshToken = r.refreshToken();
            d->signedIn = true;
            d->stored = true;
            d->setPersistent(!r.refreshToken().isEmpty());
            qCDebug(lcSession) << "session restored";
            Q_EMIT tokensChanged();
            SessionJobPrivate::finish(j, Error());
        });
    };
    return job;
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
                    } else {
                        d->stored = true;
                        d->knownStoredRefreshToken = r.refreshToken();
                        d->setPersistent(true);
                        d->updateIndex();
                    }
                    SessionJobPrivate::finish(j, e);
                });
            });
        };
        if (d->probed || !d->store) {
            save();
            return;
        }
        // A "not found" proves nothing; probe (write–read–delete) before the first save.
        TokenStoreJob *probe = d->store->probe();
        connect(probe, &TokenStoreJob::finished, this, [this, j, save](TokenStoreJob *p) {
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
    Waiter w{QPointer<QObject>(context ? context : this), std::move(callback)};
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
