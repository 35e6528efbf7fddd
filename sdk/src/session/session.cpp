// SPDX-License-Identifier: MIT
#include <keyloop/session.h>

#include <keyloop/accountindex.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/idtokenvalidator.h>
#include <keyloop/jwkscache.h>
#include <keyloop/tokenclient.h>
#include <keyloop/tokenstore.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "jose/idtokenclaims_p.h"
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
// 408 Request Timeout (RFC 9110 §15.5.9) and 429 Too Many Requests (RFC 6585 §4) say nothing
// about the grant: they are worth retrying later, like a 5xx.
bool isRetryableStatus(int status)
{
    return status == 408 || status == 429;
}

// OAuth errors that blame the request or the client's configuration, not the grant: the refresh
// token may still be good (e.g. a typo in a resource indicator, RFC 8707 §2 invalid_target), so
// the session must not be thrown away for them.
bool blamesTheRequest(const Error &e)
{
    static const QStringList codes{QStringLiteral("invalid_scope"), QStringLiteral("invalid_target"),
                                   QStringLiteral("unsupported_grant_type"), QStringLiteral("invalid_request")};
    return e.code() == Error::Code::OAuthError && codes.contains(e.oauthError());
}

bool rejectsGrant(const Error &e)
{
    if (e.requiresSignIn())
        return true;
    if (e.isTransient() || blamesTheRequest(e))
        return false;
    const int status = e.httpStatus();
    if (isRetryableStatus(status))
        return false;
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
// present, still names the original authentication). A quick comparison on the payload,
// before any key is fetched; the full validation (signature and every §3.1.3.7 rule, with
// the same §12.2 comparison) follows with IdTokenValidationJob.
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

// The original ID token's claims as IdTokenExpectations::previousClaims() for the §12.2
// comparison. A refresh has no authentication request, so no login nonce is expected; a nonce
// the refreshed token carries must be the original's (OIDC Core §12.2), which can be checked
// only when the original nonce is known (SessionRecord keeps iss, sub, aud, azp, auth_time).
IdTokenClaims previousClaimsFrom(const QJsonObject &original)
{
    auto *p = new IdTokenClaimsPrivate;
    IdTokenClaims claims = IdTokenClaimsPrivate::create(p);
    p->payload = QJsonDocument(original).toJson(QJsonDocument::Compact);
    const QJsonValue nonce = original.value(QStringLiteral("nonce"));
    if (nonce.isString()) {
        p->nonce = nonce.toString();
        p->hasNonce = true;
    }
    p->issuer = original.value(QStringLiteral("iss")).toString();
    p->subject = original.value(QStringLiteral("sub")).toString();
    const QJsonValue aud = original.value(QStringLiteral("aud"));
    if (aud.isString())
        p->audiences.append(aud.toString());
    else
        for (const QJsonValue &v : aud.toArray())
            p->audiences.append(v.toString());
    const QJsonValue azp = original.value(QStringLiteral("azp"));
    if (azp.isString()) {
        p->authorizedParty = azp.toString();
        p->hasAuthorizedParty = true;
    }
    const QJsonValue authTime = original.value(QStringLiteral("auth_time"));
    if (authTime.isDouble())
        p->authTime = authTime.toDouble();
    p->valid = true;
    return claims;
}

// Could the refreshed ID token not be checked at all (the JWKS unreachable: network, TLS, an
// HTTP error; no usable jwks_uri), as opposed to checked and found bad (Jose*, IdToken*)?
bool isUnverifiable(const Error &e)
{
    return e.isTransient() || e.domain() == Error::Domain::Network || e.domain() == Error::Domain::Configuration;
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
    JwksCache *ownJwks = nullptr;     // created with the session, used unless one is injected
    QPointer<JwksCache> sharedJwks;   // setJwksCache(); not owned

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

    // The non-secret account index follows the store. \a done runs once the index file is
    // written (or failed, which is only logged: the index is a convenience, the keychain is
    // the truth), so a job that reports "saved" really is saved when the app exits.
    void updateIndex(std::function<void()> done = {})
    {
        if (!index) {
            if (done)
                done();
            return;
        }
        AccountIndexEntry e;
        e.issuer = record.issuer();
        e.clientId = record.clientId();
        e.account = record.account();
        e.subject = record.subject();
        e.displayName = record.displayName();
        e.updatedAt = record.updatedAt();
        index->upsert(e, q, [done](const Error &err) {
            if (err)
                qCWarning(lcSession) << "could not update the account index:" << err.code();
            if (done)
                done();
        });
    }

    void removeStored(std::function<void(const Error &)> then)
    {
        const auto removeFromStore = [this, then] {
            if (!store) {
                then(Error());
                return;
            }
            TokenStoreJob *job = store->remove(key());
            QObject::connect(job, &TokenStoreJob::finished, q, [then](TokenStoreJob *j) { then(j->error()); });
            job->start();
        };
        if (!index) {
            removeFromStore();
            return;
        }
        index->remove(record.issuer().isEmpty() ? issuer() : record.issuer(), client.clientId(), account, q,
                      [removeFromStore](const Error &err) {
                          if (err)
                              qCWarning(lcSession) << "could not update the account index:" << err.code();
                          removeFromStore();
                      });
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
            // Network trouble, 5xx, 408/429: keep everything (RFC 6749 §5.2 does not apply).
            qCDebug(lcSession) << "refresh failed, keeping the session:" << error.code();
            Error e = error;
            if (isRetryableStatus(e.httpStatus()))
                e.setTransient(true);
            finishRefresh(resource, e);
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

    JwksCache *jwks() const { return sharedJwks ? sharedJwks.data() : ownJwks; }

    void onRefreshSucceeded(const QString &resource, const TokenResponse &response)
    {
        if (!response.hasIdToken()) {
            adoptRefreshed(resource, response); // OIDC Core §12.2: the ID token may be absent
            return;
        }
        validateRefreshedIdToken(response, [this, resource, response](const Error &e, bool keepIdToken) {
            if (!e) {
                TokenResponse adopted = response;
                if (!keepIdToken)
                    adopted.setIdToken(QByteArray());
                adoptRefreshed(resource, adopted);
            } else if (isUnverifiable(e)) {
                keepRefreshTokenOnly(resource, response, e);
            } else {
                rejectRefreshed(e);
            }
        });
    }

    // OIDC Core §12.2 and §3.1.3.7: the refreshed ID token is validated like the original one
    // (signature with the issuer's keys, iss, aud, azp, exp, iat, at_hash) except the nonce,
    // and must keep the original's iss, sub, aud, azp and auth_time.
    void validateRefreshedIdToken(const TokenResponse &response, std::function<void(const Error &, bool keepIdToken)> then)
    {
        const QJsonObject original = record.originalClaims();
        // Cheap comparison first: a changed identity needs no key to be refused.
        if (Error e = checkRefreshedIdToken(response.idToken(), original)) {
            then(e, false);
            return;
        }
        if (provider.jwksUri().isEmpty()) {
            if (original.isEmpty()) {
                // A plain OAuth 2.0 session (no OpenID provider metadata): an ID token that
                // cannot be verified is not kept (OIDC Core 3.1.3.7 rule 6), the rest is.
                qCDebug(lcSession) << "ignoring an ID token that cannot be verified (no jwks_uri)";
                then(Error(), false);
                return;
            }
            then(Error(Error::Code::InvalidConfiguration,
                       QStringLiteral("OIDC Core 3.1.3.7 rule 6: the refreshed ID token cannot be verified: the provider configuration has no jwks_uri")),
                 false);
            return;
        }
        IdTokenValidator validator(provider.issuer().isEmpty() ? issuer() : provider.issuer().toString(), client.clientId());
        validator.setAllowedAlgorithms(IdTokenValidator::intersectAlgorithms(
            client.idTokenAlgorithms(), provider.idTokenSigningAlgValuesSupported()));
        validator.setLeeway(client.clockLeeway());
        validator.setClock(clock);
        IdTokenExpectations expect;
        if (!original.isEmpty())
            expect.setPreviousClaims(previousClaimsFrom(original));
        expect.setAccessToken(response.accessToken()); // OIDC Core 3.1.3.8, when at_hash is present
        auto *job = new IdTokenValidationJob(validator, jwks(), provider.jwksUri(), response.idToken(), expect, q);
        QObject::connect(job, &IdTokenValidationJob::finished, q, [job, then] { then(job->error(), true); });
        job->start();
    }

    // The refreshed ID token failed validation: nothing of the response is used (OIDC Core
    // §12.2). The old refresh token may already be spent (rotation), and a response that names
    // another identity cannot be trusted anyway: the session ends.
    void rejectRefreshed(const Error &e)
    {
        qCWarning(lcSession) << "refreshed ID token rejected:" << e.code() << e.message();
        removeStored([this, e](const Error &) {
            unlock();
            refreshing = false;
            failAll(e);
            requireSignIn(e.message());
        });
    }

    // The refreshed ID token could not be checked (keys unreachable): its tokens are not
    // handed out, but a rotated refresh token is kept and saved, since the old one is spent
    // (RFC 9700 §4.14: never drop the new refresh token). The callers get the error; the
    // next call refreshes again.
    void keepRefreshTokenOnly(const QString &resource, const TokenResponse &response, const Error &e)
    {
        qCDebug(lcSession) << "the refreshed ID token could not be verified, keeping the session:" << e.code();
        if (!response.hasRefreshToken() || response.refreshToken() == record.refreshToken()) {
            finishRefresh(resource, e);
            return;
        }
        SessionRecord updated = record;
        updated.setRefreshToken(response.refreshToken());
        updated.setUpdatedAt(now());
        record = updated;
        persistThen(updated, [this, resource, e] { finishRefresh(resource, e); });
    }

    // RFC 9700 §4.14: save (bounded retries under the lock), then continue; a failed save
    // leaves the tokens in memory and reports storageFailed().
    void persistThen(const SessionRecord &updated, std::function<void()> then)
    {
        const QByteArray savedToken = updated.refreshToken();
        writeStore(updated, 0, [this, savedToken, then](const Error &saveError) {
            if (saveError) {
                qCWarning(lcSession) << "could not save the refreshed session:" << saveError.code();
                setPersistent(false);
            } else {
                stored = true;
                knownStoredRefreshToken = savedToken;
                setPersistent(true);
            }
            then();
            Q_EMIT q->tokensChanged();
            if (saveError)
                Q_EMIT q->storageFailed(saveError);
        });
    }

    void adoptRefreshed(const QString &resource, const TokenResponse &response)
    {
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
        persistThen(updated, [this, resource] { finishRefresh(resource, Error()); });
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
    d->ownJwks = new JwksCache(nam, client.transport(), this);
    d->ownJwks->setClock(d->clock);
}

Session::~Session() = default;

ClientConfiguration Session::clientConfiguration() const { return d->client; }
ProviderConfiguration Session::providerConfiguration() const { return d->provider; }
QString Session::appId() const { return d->appId; }
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
