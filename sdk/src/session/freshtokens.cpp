// SPDX-License-Identifier: MIT
// Session: the callers waiting for a fresh access token or ID token, and when a refresh starts.
#include "session/session_p.h"

#include "core/logging_p.h"
#include "session/freshness_p.h"

namespace Keyloop {

namespace {

// The resource of a refresh made for Session::freshIdToken(): none, the provider's own token.
const QString kIdTokenResource;

} // namespace

void SessionPrivate::failAll(const Error &error)
{
    const auto all = std::exchange(waiting, {});
    for (const auto &list : all)
        for (const Waiter &w : list)
            deliver(w, QByteArray(), error);
    const QList<Waiter> ids = std::exchange(idTokenWaiting, {});
    for (const Waiter &w : ids)
        deliver(w, QByteArray(), error);
}

bool SessionPrivate::isIdTokenFresh() const
{
    return signedIn && Freshness::isIdTokenFresh(record.idToken(), now(), leadTime);
}

// The longest lead time the callers waiting for \a resource ask for (accessTokenValidFor()).
std::chrono::milliseconds SessionPrivate::leadFor(const QString &resource) const
{
    std::chrono::milliseconds lead = leadTime;
    for (const Waiter &w : waiting.value(resource))
        lead = std::max(lead, leadFor(w));
    return lead;
}

bool SessionPrivate::isSatisfied(const OperationPtr &op) const
{
    return Freshness::isFresh(record.accessToken(op->resource), now(), leadFor(op->resource))
        && (!op->wantsIdToken || isIdTokenFresh());
}

void SessionPrivate::requireSignIn(const QString &why)
{
    qCDebug(lcSession) << "sign-in required";
    const Error error(Error::Code::SignInRequired, why);
    record.setRefreshToken(QByteArray());
    record.clearAccessTokens();
    record.setGrantId(QByteArray()); // whatever is still in flight for it is dropped
    signedIn = false;
    stored = false;
    cancelGrantWork();
    setPersistent(false);
    failAll(error);
    Q_EMIT q->tokensChanged();
    Q_EMIT q->signInRequired();
}

// Hands out every waiter whose token is fresh; queues one refresh (one operation at a time
// per account: a rotating refresh token must never be spent twice) for the others.
void SessionPrivate::pump()
{
    const QDateTime t = now();
    for (auto it = waiting.begin(); it != waiting.end();) {
        const SessionAccessToken token = record.accessToken(it.key());
        QList<Waiter> &list = it.value();
        for (auto w = list.begin(); w != list.end();) {
            if (signedIn && Freshness::isFresh(token, t, leadFor(*w))) {
                deliver(*w, token.token, Error());
                w = list.erase(w);
            } else {
                ++w;
            }
        }
        if (list.isEmpty())
            it = waiting.erase(it);
        else
            ++it;
    }
    if (!idTokenWaiting.isEmpty() && isIdTokenFresh()) {
        for (const Waiter &w : std::exchange(idTokenWaiting, {}))
            deliver(w, record.idToken(), Error());
    }
    if (waiting.isEmpty() && idTokenWaiting.isEmpty())
        return;
    if (!signedIn) {
        // A restore or an adoption may still be on its way: let it decide.
        if (hasOperation(SessionOperation::Kind::Restore) || hasOperation(SessionOperation::Kind::Adopt))
            return;
        failAll(Error(Error::Code::SignInRequired, QStringLiteral("not signed in")));
        return;
    }
    if (record.refreshToken().isEmpty()) {
        // Only a new sign-in brings a new ID token; the access tokens may still be good, so the
        // session itself is not ended for that.
        const Error noIdToken(Error::Code::SignInRequired,
                              QStringLiteral("the ID token expired and the provider issued no refresh token"));
        for (const Waiter &w : std::exchange(idTokenWaiting, {}))
            deliver(w, QByteArray(), noIdToken);
        if (!waiting.isEmpty())
            requireSignIn(QStringLiteral("the access token expired and the provider issued no refresh token"));
        return;
    }
    if (refreshNotBefore.isValid() && t < refreshNotBefore) {
        // RFC 9110 §10.2.3: the token endpoint asked us to wait; do not ask again before then.
        Error e = refreshDeferredError;
        e.setRetryAfter(std::chrono::seconds(std::max<qint64>(1, t.secsTo(refreshNotBefore))));
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (!hasOperation(SessionOperation::Kind::Refresh, it.key())) {
                for (const Waiter &w : std::as_const(it.value()))
                    deliver(w, QByteArray(), e);
                it = waiting.erase(it);
            } else {
                ++it;
            }
        }
        if (!hasAnyRefresh()) {
            for (const Waiter &w : std::exchange(idTokenWaiting, {}))
                deliver(w, QByteArray(), e);
        }
        return;
    }
    for (auto it = waiting.cbegin(); it != waiting.cend(); ++it) {
        if (hasOperation(SessionOperation::Kind::Refresh, it.key()))
            continue;
        enqueue(SessionOperation::Kind::Refresh, [this](const OperationPtr &op) { startRefresh(op); }, {}, it.key());
        break; // one refresh queued at a time; the next is queued when it ends
    }
    if (idTokenWaiting.isEmpty())
        return;
    // A stale ID token: refresh without a resource (the provider's own token comes along) — or
    // join a refresh that is queued or running: every refresh may bring a new ID token (OIDC
    // Core §12.2), and one for "" is made to answer these callers too.
    if (const OperationPtr op = findRefresh(kIdTokenResource)) {
        op->wantsIdToken = true;
        return;
    }
    if (hasAnyRefresh())
        return; // when it ends, pump() looks again: its ID token may be fresh
    const OperationPtr op = enqueue(SessionOperation::Kind::Refresh, [this](const OperationPtr &o) { startRefresh(o); },
                                    {}, kIdTokenResource);
    op->wantsIdToken = true;
}

void SessionPrivate::finishRefresh(const OperationPtr &op, const Error &error)
{
    const QList<Waiter> list = waiting.take(op->resource);
    const QByteArray token = error ? QByteArray() : record.accessToken(op->resource).token;
    for (const Waiter &w : list)
        deliver(w, token, error);
    finishIdTokenWaiters(op, error);
    endOperation(op, error);
}

void SessionPrivate::finishIdTokenWaiters(const OperationPtr &op, const Error &error)
{
    if (idTokenWaiting.isEmpty())
        return;
    if (!error && isIdTokenFresh()) {
        for (const Waiter &w : std::exchange(idTokenWaiting, {}))
            deliver(w, record.idToken(), Error());
        return;
    }
    if (!op->wantsIdToken)
        return; // a refresh for another resource: pump() queues one for the ID token next
    Error e = error;
    if (!e) {
        // OIDC Core §12.2: a refresh response MAY omit the ID token; only a new sign-in brings one.
        qCDebug(lcSession) << "the refresh brought no fresh ID token";
        e = Error(Error::Code::IdTokenNotReturned,
                  QStringLiteral("the provider returned no new ID token with the refreshed tokens "
                                 "(OpenID Connect Core 12.2 lets it omit one): sign in again for a fresh ID token"));
    }
    for (const Waiter &w : std::exchange(idTokenWaiting, {}))
        deliver(w, QByteArray(), e);
}

// A rotated refresh token whose save failed is saved again at the next token use, with
// backoff, under the account lock (refresh.cpp: retrySave()).
void SessionPrivate::maybeRetrySave()
{
    if (!pendingSave || hasOperation(SessionOperation::Kind::SaveRetry))
        return;
    if (nextSaveAttempt.isValid() && now() < nextSaveAttempt)
        return;
    enqueue(SessionOperation::Kind::SaveRetry, [this](const OperationPtr &op) { retrySave(op); });
}

} // namespace Keyloop
