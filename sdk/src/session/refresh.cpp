// SPDX-License-Identifier: MIT
// Session: the refresh state machine. Under a cross-process lock: re-read the store, refresh
// (RFC 6749 §6), check a refreshed ID token, save a rotated refresh token before anyone uses
// the new tokens (RFC 9700 §4.14).
#include "session/session_p.h"

#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "session/testhooks_p.h"

namespace Keyloop {

namespace {

// RFC 6749 §5.2: only invalid_grant says the refresh token is dead. Some providers (e.g.
// glewlwyd) answer a dead refresh token with a bare 400 without a JSON body: that counts too.
// Everything else — 401 invalid_client, a firewall's 403, a misrouted 404 — says nothing about
// the grant, and ending the session for it would log the user out irreversibly.
bool rejectsGrant(const Error &e)
{
    if (e.requiresSignIn())
        return true;
    return e.code() == Error::Code::HttpError && e.httpStatus() == 400;
}

// 408 Request Timeout (RFC 9110 §15.5.9) and 429 Too Many Requests (RFC 6585 §4) are worth
// retrying later, like a 5xx.
bool isRetryableStatus(int status)
{
    return status == 408 || status == 429;
}

// OAuth errors that blame the request, not the grant (e.g. a typo in a resource indicator,
// RFC 8707 §2 invalid_target): reported as they are.
bool blamesTheRequest(const Error &e)
{
    static const QStringList codes{QStringLiteral("invalid_scope"), QStringLiteral("invalid_target"),
                                   QStringLiteral("unsupported_grant_type"), QStringLiteral("invalid_request")};
    return e.code() == Error::Code::OAuthError && codes.contains(e.oauthError());
}

// Could the refreshed ID token not be checked at all (the JWKS unreachable: network, TLS, an
// HTTP error; no usable jwks_uri), as opposed to checked and found bad (Jose*, IdToken*)?
bool isUnverifiable(const Error &e)
{
    return e.isTransient() || e.domain() == Error::Domain::Network || e.domain() == Error::Domain::Configuration;
}

// A refresh failure that keeps the session, in the words the caller acts on.
Error keptSessionError(const Error &error)
{
    Error e = error;
    const int status = e.httpStatus();
    if (isRetryableStatus(status)) {
        e.setTransient(true);
        return e;
    }
    if (e.isTransient() || e.code() == Error::Code::ClientAuthenticationFailed || blamesTheRequest(e))
        return e;
    if (status >= 400 && status < 500 && (e.code() == Error::Code::OAuthError || e.code() == Error::Code::HttpError))
        return e.reclassified(Error::Code::UnexpectedTokenResponse,
                              QStringLiteral("the token endpoint answered HTTP %1, which says nothing about the "
                                             "session; it was kept (check the token endpoint and any proxy)")
                                  .arg(status));
    return e;
}

} // namespace

void SessionPrivate::startRefresh(const OperationPtr &op)
{
    qCDebug(lcSession) << "refresh started";
    // RFC 9700 §4.14: lock around read → refresh → write across processes.
    lock(op, std::chrono::seconds(45), [this, op](const Error &lockError) {
        if (op->cancelled)
            return endOperation(op);
        if (lockError)
            return finishRefresh(op, lockError);
        readStore([this, op](const Error &readError, const SessionRecord &stored) {
            if (op->cancelled)
                return endOperation(op);
            if (!readError && (otherGrantStored(stored) || rotatedElsewhere(stored))) {
                // Another process signed in again (another grant) or rotated the refresh token:
                // the store is the truth; take over its tokens instead of spending ours.
                qCDebug(lcSession) << (otherGrantStored(stored) ? "adopting another sign-in stored by another process"
                                                                : "adopting tokens another process refreshed");
                record = stored;
                op->grantId = stored.grantId();
                rememberStored(stored);
                this->stored = true;
                pendingSave = false;
                setPersistent(true);
                Q_EMIT q->tokensChanged();
                if (isSatisfied(op))
                    return finishRefresh(op, Error());
            } else if (readError.code() == Error::Code::NotFound && this->stored) {
                // Removed by another process (sign-out or a rejected grant).
                endOperation(op);
                requireSignIn(QStringLiteral("the stored session was removed"));
                return;
            } else if (readError && readError.code() != Error::Code::NotFound && this->stored) {
                // RFC 9700 §4.14.2: never spend a refresh token that may already be rotated
                // elsewhere: with reuse detection the provider would revoke the whole grant.
                qCDebug(lcSession) << "re-reading the store failed; not refreshing:" << readError.code();
                Error e(readError.code() == Error::Code::StorageUnavailable ? Error::Code::StorageUnavailable
                                                                             : Error::Code::StorageFailed,
                        QStringLiteral("cannot confirm the stored refresh token is current (%1); try again")
                            .arg(readError.message()));
                e.setTransient(true);
                return finishRefresh(op, e);
            }
            // A refresh token that was never saved can be spent: no other process can hold it.
            refresh(op, false);
        });
    });
}

void SessionPrivate::refresh(const OperationPtr &op, bool retriedAfterReread)
{
    const QByteArray usedToken = record.refreshToken();
    // RFC 6749 §6; RFC 8707 §2.2: one access token per resource, "" = without resource.
    TokenJob *job = tokenClient->refresh(provider, client, usedToken, QStringList(), op->resource);
    job->setDpopKey(dpopKey()); // RFC 9449 §5: a bound refresh token needs a proof with its key
    op->tokenJob = job;
    op->phase = SessionOperation::Phase::Requesting;
    QObject::connect(job, &Job::finished, q, [this, op, job, usedToken, retriedAfterReread] {
        if (op->phase != SessionOperation::Phase::Requesting)
            return; // ended (cancelled) meanwhile
        op->tokenJob = nullptr;
        op->phase = SessionOperation::Phase::Working;
        const Error error = job->error();
        const TokenResponse response = job->response();
        if (!error)
            setSaving(op, true); // from here on, rotated tokens are on their way to the store
        testKillPoint("after-refresh-response");
        testPausePoint("after-refresh-response");
        if (!isCurrent(op))
            return dropResult(op, response);
        if (error)
            return onRefreshFailed(op, usedToken, retriedAfterReread, error);
        onRefreshSucceeded(op, response);
    });
    job->start();
}

// The grant changed while the refresh was in flight (sign-out, account switch, step-up): the
// result belongs to a grant that is over and is never applied or stored.
void SessionPrivate::dropResult(const OperationPtr &op, const TokenResponse &response)
{
    qCDebug(lcSession) << "refresh result dropped: the grant it was started from is no longer current";
    if (response.hasRefreshToken() && response.refreshToken() != record.refreshToken()) {
        // Live at the provider and stored nowhere: revoked (RFC 7009, signout.cpp), never
        // logged by value.
        revokeDroppedRefreshToken(response.refreshToken());
    }
    endOperation(op);
}

void SessionPrivate::onRefreshFailed(const OperationPtr &op, const QByteArray &usedToken, bool retriedAfterReread,
                                     const Error &error)
{
    if (!rejectsGrant(error)) {
        const Error e = keptSessionError(error);
        qCDebug(lcSession) << "refresh failed, keeping the session:" << e.code();
        if (e.retryAfter().count() > 0) {
            refreshNotBefore = now().addSecs(e.retryAfter().count());
            refreshDeferredError = e;
        }
        finishRefresh(op, e);
        return;
    }
    if (!retriedAfterReread) {
        // Before concluding the grant is gone, re-read once: another process may have
        // rotated the token (e.g. one that does not share our lock).
        readStore([this, op, usedToken](const Error &readError, const SessionRecord &stored) {
            if (!isCurrent(op))
                return endOperation(op);
            if (!readError && stored.refreshToken() != usedToken
                && (rotatedElsewhere(stored) || otherGrantStored(stored))) {
                record = stored;
                op->grantId = stored.grantId();
                rememberStored(stored);
                Q_EMIT q->tokensChanged();
                if (isSatisfied(op))
                    return finishRefresh(op, Error());
                refresh(op, true);
                return;
            }
            grantRejected(op);
        });
        return;
    }
    grantRejected(op);
}

void SessionPrivate::grantRejected(const OperationPtr &op)
{
    qCDebug(lcSession) << "refresh token rejected; removing the stored session";
    setSaving(op, true);
    removeStored([this, op](const Error &e) {
        if (e)
            qCWarning(lcSession) << "could not remove the rejected session from the store:" << e.code();
        endOperation(op);
        requireSignIn(QStringLiteral("the refresh token was rejected (RFC 6749 §5.2 invalid_grant)"));
    });
}

void SessionPrivate::onRefreshSucceeded(const OperationPtr &op, const TokenResponse &response)
{
    if (!response.hasIdToken()) {
        adoptRefreshed(op, response); // OIDC Core §12.2: the ID token may be absent
        return;
    }
    validateRefreshedIdToken(response, [this, op, response](const Error &e, bool keepIdToken) {
        if (!isCurrent(op))
            return dropResult(op, response);
        if (!e) {
            TokenResponse adopted = response;
            if (!keepIdToken)
                adopted.setIdToken(QByteArray());
            adoptRefreshed(op, adopted);
        } else if (isUnverifiable(e)) {
            keepRefreshTokenOnly(op, response, e);
        } else {
            rejectRefreshed(op, e);
        }
    });
}

// The refreshed ID token failed validation: nothing of the response is used (OIDC Core
// §12.2). The old refresh token may already be spent (rotation), and a response that names
// another identity cannot be trusted anyway: the session ends.
void SessionPrivate::rejectRefreshed(const OperationPtr &op, const Error &e)
{
    qCWarning(lcSession) << "refreshed ID token rejected:" << e.code() << e.message();
    removeStored([this, op, e](const Error &) {
        failAll(e);
        endOperation(op);
        requireSignIn(e.message());
    });
}

// The refreshed ID token could not be checked (keys unreachable): its tokens are not
// handed out, but a rotated refresh token is kept and saved, since the old one is spent
// (RFC 9700 §4.14: never drop the new refresh token). The callers get the error; the
// next call refreshes again.
void SessionPrivate::keepRefreshTokenOnly(const OperationPtr &op, const TokenResponse &response, const Error &e)
{
    qCDebug(lcSession) << "the refreshed ID token could not be verified, keeping the session:" << e.code();
    if (!response.hasRefreshToken() || response.refreshToken() == record.refreshToken()) {
        finishRefresh(op, e);
        return;
    }
    SessionRecord updated = record;
    updated.setRefreshToken(response.refreshToken());
    updated.setUpdatedAt(now());
    record = updated;
    persistThen(op, updated, [this, op, e] { finishRefresh(op, e); });
}

// RFC 9700 §4.14: save (bounded retries under the lock), then continue. A failed save leaves
// the tokens in memory, reports storageFailed() and is retried at the next token use.
void SessionPrivate::persistThen(const OperationPtr &op, const SessionRecord &updated, std::function<void()> then)
{
    op->phase = SessionOperation::Phase::Saving;
    writeStore(updated, 0, [this, op, updated, then](const Error &saveError) {
        op->phase = SessionOperation::Phase::Working;
        if (!isCurrent(op)) {
            // Signed out or signed in again while the write was in flight: the operation that
            // replaced this grant runs next and has the last word in the store.
            qCDebug(lcSession) << "a save of a finished grant completed; its result is not used";
            endOperation(op);
            return;
        }
        if (saveError) {
            qCWarning(lcSession) << "could not save the refreshed session:" << saveError.code();
            setPersistent(false);
            pendingSave = true;
            nextSaveAttempt = now().addSecs(saveBackoff.count());
            saveBackoff = std::min(saveBackoff * 2, std::chrono::seconds(300));
        } else {
            stored = true;
            pendingSave = false;
            saveBackoff = std::chrono::seconds(1);
            rememberStored(updated);
            setPersistent(true);
        }
        then();
        Q_EMIT q->tokensChanged();
        if (saveError)
            Q_EMIT q->storageFailed(saveError);
    });
}

void SessionPrivate::adoptRefreshed(const OperationPtr &op, const TokenResponse &response)
{
    SessionRecord updated = record;
    SessionAccessToken token;
    token.token = response.accessToken();
    token.tokenType = response.tokenType();
    token.issuedAt = response.receivedAt().isValid() ? response.receivedAt() : now();
    token.expiresAt = response.expiresAt();
    token.scopes = response.scopes();
    updated.setAccessToken(op->resource, token);
    // RFC 6749 §6: a response without refresh_token keeps the old one.
    if (response.hasRefreshToken())
        updated.setRefreshToken(response.refreshToken());
    if (response.hasIdToken())
        updated.setIdToken(response.idToken());
    updated.setUpdatedAt(now());
    record = updated;
    refreshNotBefore = QDateTime();
    qCDebug(lcSession) << "refresh succeeded";

    // RFC 9700 §4.14: persist (a rotated refresh token above all) before anyone uses the
    // new tokens; retries happen while we still hold the lock.
    persistThen(op, updated, [this, op] { finishRefresh(op, Error()); });
}

// A rotated refresh token whose save failed, saved again under the account lock — but only
// if the store still holds the record this session last read or wrote: anything else there
// was written by another process since, and is newer than what this session knows.
void SessionPrivate::retrySave(const OperationPtr &op)
{
    qCDebug(lcSession) << "retrying to save the session";
    lock(op, std::chrono::seconds(10), [this, op](const Error &lockError) {
        if (!isCurrent(op))
            return endOperation(op);
        if (lockError) {
            nextSaveAttempt = now().addSecs(saveBackoff.count());
            return endOperation(op, lockError);
        }
        readStore([this, op](const Error &readError, const SessionRecord &storedRecord) {
            if (!isCurrent(op))
                return endOperation(op);
            if (readError.code() == Error::Code::NotFound && stored) {
                endOperation(op);
                requireSignIn(QStringLiteral("the stored session was removed"));
                return;
            }
            const bool unchanged = readError.code() == Error::Code::NotFound
                ? knownStoredRefreshToken.isEmpty()
                : !readError && storedRecord.refreshToken() == knownStoredRefreshToken;
            if (readError && readError.code() != Error::Code::NotFound) {
                nextSaveAttempt = now().addSecs(saveBackoff.count());
                return endOperation(op, readError);
            }
            if (!unchanged) {
                qCDebug(lcSession) << "the store changed since this session last saved; not overwriting it";
                pendingSave = false;
                return endOperation(op);
            }
            setSaving(op, true);
            persistThen(op, record, [this, op] { endOperation(op); });
        });
    });
}


} // namespace Keyloop
