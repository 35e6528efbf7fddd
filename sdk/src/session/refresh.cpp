// SPDX-License-Identifier: MIT
// Session: the refresh state machine. Under a cross-process lock: re-read the store, refresh
// (RFC 6749 §6), check a refreshed ID token, save a rotated refresh token before anyone uses
// the new tokens (RFC 9700 §4.14).
#include "session/session_p.h"

#include <keyloop/tokenclient.h>

#include "core/logging_p.h"
#include "session/freshness_p.h"
#include "session/testhooks_p.h"

namespace Keyloop {

namespace {

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

// Could the refreshed ID token not be checked at all (the JWKS unreachable: network, TLS, an
// HTTP error; no usable jwks_uri), as opposed to checked and found bad (Jose*, IdToken*)?
bool isUnverifiable(const Error &e)
{
    return e.isTransient() || e.domain() == Error::Domain::Network || e.domain() == Error::Domain::Configuration;
}

} // namespace

void SessionPrivate::startRefresh(const QString &resource)
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

void SessionPrivate::refresh(const QString &resource, bool retriedAfterReread)
{
    const QByteArray usedToken = record.refreshToken();
    // RFC 6749 §6; RFC 8707 §2.2: one access token per resource, "" = without resource.
    TokenJob *job = tokenClient->refresh(provider, client, usedToken, QStringList(), resource);
    QObject::connect(job, &Job::finished, q, [this, job, resource, usedToken, retriedAfterReread] {
        const Error error = job->error();
        const TokenResponse response = job->response();
        testKillPoint("after-refresh-response");
        if (error) {
            onRefreshFailed(resource, usedToken, retriedAfterReread, error);
            return;
        }
        onRefreshSucceeded(resource, response);
    });
    job->start();
}

void SessionPrivate::onRefreshFailed(const QString &resource, const QByteArray &usedToken, bool retriedAfterReread, const Error &error)
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

void SessionPrivate::grantRejected(const QString &resource)
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

void SessionPrivate::onRefreshSucceeded(const QString &resource, const TokenResponse &response)
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

// The refreshed ID token failed validation: nothing of the response is used (OIDC Core
// §12.2). The old refresh token may already be spent (rotation), and a response that names
// another identity cannot be trusted anyway: the session ends.
void SessionPrivate::rejectRefreshed(const Error &e)
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
void SessionPrivate::keepRefreshTokenOnly(const QString &resource, const TokenResponse &response, const Error &e)
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
void SessionPrivate::persistThen(const SessionRecord &updated, std::function<void()> then)
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

void SessionPrivate::adoptRefreshed(const QString &resource, const TokenResponse &response)
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

} // namespace Keyloop
