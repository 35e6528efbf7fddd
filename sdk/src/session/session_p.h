// SPDX-License-Identifier: MIT
// Session's private state. Its operations live in one file per responsibility:
//   session.cpp           the public Session and SessionJob API (restore, adopt, sign out)
//   operations.cpp        the per-account state machine: one operation at a time, each with
//                         its own lock handle; cancelling; the grant check
//   freshtokens.cpp       the waiting callers: fresh tokens handed out, when a refresh starts
//   refresh.cpp           the refresh operation (lock, store re-read, grant, rotation saved first)
//   refreshedidtoken.cpp  the refreshed ID token checks (OIDC Core §12.2)
//   signout.cpp           the sign-out operation (lock, store re-read, revocation, removal)
//   sessionstorage.cpp    the token store and the account index
#pragma once

#include <keyloop/issueridentifier.h>
#include <keyloop/session.h>
#include <keyloop/tokenclient.h>

#include <QtCore/QMap>
#include <QtCore/QPointer>

#include <memory>

namespace Keyloop {

class ProcessLock;

/*!
 * One operation of the session's state machine. Operations of an account run one at a time
 * (SessionPrivate::queue); each takes its own cross-process lock handle when it needs one, so
 * the end of one never releases another's lock.
 */
struct SessionOperation
{
    enum class Kind { Restore, Adopt, Refresh, SignOut, SaveRetry };
    enum class Phase { Queued, Locking, Working, Requesting, Saving, Ended };

    Kind kind = Kind::Refresh;
    Phase phase = Phase::Queued;
    QString resource;           ///< Refresh: the resource ("" = the provider's own token)
    bool wantsIdToken = false;  ///< Refresh: callers of Session::freshIdToken() wait for it
    QByteArray grantId;         ///< the grant the operation works for (set when it starts)
    ProcessLock *lock = nullptr;
    QPointer<TokenJob> tokenJob;
    bool cancelled = false;     ///< its result must be dropped
    bool saving = false;        ///< writes to the store are (about to be) in flight
    std::function<void(const std::shared_ptr<SessionOperation> &)> run; ///< starts the work, once, when its turn comes
    std::function<void(const Error &)> done; ///< called once when it ends (jobs finish here)
};
using OperationPtr = std::shared_ptr<SessionOperation>;

class SessionPrivate
{
public:
    struct Waiter
    {
        QPointer<QObject> context;
        Session::TokenCallback callback;
        // Session::accessTokenValidFor(): more than this must be left (else the lead time).
        std::chrono::milliseconds minValidity{0};
    };

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
    // The record's DPoP key, parsed once (and its server nonces kept) while the record's JWK is
    // the same (dpopKey()).
    mutable DpopKey parsedDpopKey;
    mutable QJsonObject parsedDpopJwk;
    bool signedIn = false;
    bool persistent = false;
    bool stored = false;  // the store holds (or held) this session: restored or saved once
    bool probed = false;  // a probe succeeded on this store
    // The refresh token the store held when we last read or wrote it. A stored token that
    // differs from both this and ours was rotated by another process; one equal to this is
    // merely older than ours (our last save failed) and must not replace it.
    QByteArray knownStoredRefreshToken;
    // Likewise the grant id the store held then: a stored grant that differs from both this and
    // ours was signed in by another process; one equal to this is older than ours (a sign-in
    // adopted here and not saved yet) and must not replace it.
    QByteArray knownStoredGrantId;

    void rememberStored(const SessionRecord &r)
    {
        knownStoredRefreshToken = r.refreshToken();
        knownStoredGrantId = r.grantId();
    }

    // A rotated refresh token whose save failed: retried at the next token use, with backoff.
    bool pendingSave = false;
    QDateTime nextSaveAttempt;
    std::chrono::seconds saveBackoff{1};

    // RFC 9110 §10.2.3: the token endpoint's Retry-After; no refresh before this time.
    QDateTime refreshNotBefore;
    Error refreshDeferredError;

    // The same grant, with a refresh token another process rotated.
    bool rotatedElsewhere(const SessionRecord &storedRecord) const
    {
        const QByteArray rt = storedRecord.refreshToken();
        return storedRecord.grantId() == record.grantId() && !rt.isEmpty() && rt != record.refreshToken()
            && rt != knownStoredRefreshToken;
    }
    // Another sign-in (another grant) stored by another process since we last looked.
    bool otherGrantStored(const SessionRecord &storedRecord) const
    {
        const QByteArray grant = storedRecord.grantId();
        return !grant.isEmpty() && grant != record.grantId() && grant != knownStoredGrantId;
    }

    QMap<QString, QList<Waiter>> waiting;
    QList<Waiter> idTokenWaiting;  // Session::freshIdToken()

    // ---- the state machine (operations.cpp) --------------------------------------------
    QList<OperationPtr> queue;
    OperationPtr current;

    OperationPtr enqueue(SessionOperation::Kind kind, std::function<void(const OperationPtr &)> run,
                         std::function<void(const Error &)> done = {}, const QString &resource = QString());
    void runNext();
    void endOperation(const OperationPtr &op, const Error &error = Error());
    void cancelOperation(const OperationPtr &op);
    // Drops refreshes and pending saves (queued or running) of a grant that is over.
    void cancelGrantWork();
    bool hasOperation(SessionOperation::Kind kind, const QString &resource = QString()) const;
    // The refresh for \a resource that is queued or running (not cancelled), if any.
    OperationPtr findRefresh(const QString &resource) const;
    // True when any refresh is queued or running.
    bool hasAnyRefresh() const;
    // True while \a op may still change the session: not cancelled, and its grant is current.
    bool isCurrent(const OperationPtr &op) const
    {
        return !op->cancelled && op->phase != SessionOperation::Phase::Ended && signedIn
            && record.grantId() == op->grantId;
    }
    void lock(const OperationPtr &op, std::chrono::milliseconds timeout, std::function<void(const Error &)> then);
    void setSaving(const OperationPtr &op, bool saving);
    std::chrono::milliseconds signOutLockTimeout() const;

    SessionPrivate(Session *session) : q(session) {}

    /// The issuer identifier of the session, as stored and in its key (issuerIdentifier()).
    QString issuer() const
    {
        return issuerIdentifier(client.issuer().isEmpty() ? provider.issuer() : client.issuer());
    }
    QString key() const;
    QDateTime now() const { return clock->dateTime(); }
    /// The key the record's tokens are bound to (RFC 9449); null when they are not, or when the
    /// stored key cannot be read (then the requests go without proof and the provider refuses).
    DpopKey dpopKey() const;
    /// Makes \a key the parsed form of the record's JWK (a sign-in's key: its nonces are kept).
    void rememberDpopKey(const DpopKey &key) const;
    JwksCache *jwks() const;
    static QByteArray newGrantId();
    // session.cpp: take over a record read from the store (restore()).
    void adoptRestored(const SessionRecord &r);
    Error checkBelongs(const SessionRecord &r) const;

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

    // ---- store and index (sessionstorage.cpp) ------------------------------------------
    void readStore(std::function<void(const Error &, const SessionRecord &)> then);
    void writeStore(const SessionRecord &r, int attempt, std::function<void(const Error &)> then);
    void updateIndex(std::function<void()> done = {});
    void removeStored(std::function<void(const Error &)> then);

    // ---- fresh tokens (freshtokens.cpp) ------------------------------------------------
    void failAll(const Error &error);
    void requireSignIn(const QString &why);
    void pump();
    void finishRefresh(const OperationPtr &op, const Error &error);
    // Hands out (or fails) the callers of Session::freshIdToken() at the end of a refresh made for them.
    void finishIdTokenWaiters(const OperationPtr &op, const Error &error);
    // The refresh need not run (any more): the token it is for is fresh, and the ID token too
    // when freshIdToken() callers wait for it (e.g. after adopting another process's refresh).
    bool isSatisfied(const OperationPtr &op) const;
    std::chrono::milliseconds leadFor(const Waiter &w) const { return std::max<std::chrono::milliseconds>(leadTime, w.minValidity); }
    std::chrono::milliseconds leadFor(const QString &resource) const;
    bool isIdTokenFresh() const;
    void maybeRetrySave();

    // ---- refresh (refresh.cpp) ---------------------------------------------------------
    void startRefresh(const OperationPtr &op);
    void refresh(const OperationPtr &op, bool retriedAfterReread);
    void onRefreshFailed(const OperationPtr &op, const QByteArray &usedToken, bool retriedAfterReread, const Error &error);
    void grantRejected(const OperationPtr &op);
    void onRefreshSucceeded(const OperationPtr &op, const TokenResponse &response);
    void dropResult(const OperationPtr &op, const TokenResponse &response);
    void rejectRefreshed(const OperationPtr &op, const Error &e);
    void keepRefreshTokenOnly(const OperationPtr &op, const TokenResponse &response, const Error &e);
    void persistThen(const OperationPtr &op, const SessionRecord &updated, std::function<void()> then);
    void adoptRefreshed(const OperationPtr &op, const TokenResponse &response);
    void retrySave(const OperationPtr &op);

    // ---- sign-out and revocation (signout.cpp) ------------------------------------------
    void signOut(const OperationPtr &op, const SessionRecord &held);
    void revokeDroppedRefreshToken(const QByteArray &refreshToken);

    // ---- refreshed ID token (refreshedidtoken.cpp) -------------------------------------
    void validateRefreshedIdToken(const TokenResponse &response, std::function<void(const Error &, bool keepIdToken)> then);
};

} // namespace Keyloop
