// SPDX-License-Identifier: MIT
// Session: the callers waiting for a fresh access token, and when a refresh starts.
#include "session/session_p.h"

#include "core/logging_p.h"
#include "session/freshness_p.h"

namespace Keyloop {

void SessionPrivate::failAll(const Error &error)
{
    const auto all = std::exchange(waiting, {});
    for (const auto &list : all)
        for (const Waiter &w : list)
            deliver(w, QByteArray(), error);
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
        if (signedIn && Freshness::isFresh(token, t, leadTime)) {
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
        // A restore or an adoption may still be on its way: let it decide.
        if (hasOperation(SessionOperation::Kind::Restore) || hasOperation(SessionOperation::Kind::Adopt))
            return;
        failAll(Error(Error::Code::SignInRequired, QStringLiteral("not signed in")));
        return;
    }
    if (record.refreshToken().isEmpty()) {
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
        return;
    }
    for (auto it = waiting.cbegin(); it != waiting.cend(); ++it) {
        if (hasOperation(SessionOperation::Kind::Refresh, it.key()))
            continue;
        enqueue(SessionOperation::Kind::Refresh, [this](const OperationPtr &op) { startRefresh(op); }, {}, it.key());
        break; // one refresh queued at a time; the next is queued when it ends
    }
}

void SessionPrivate::finishRefresh(const OperationPtr &op, const Error &error)
{
    const QList<Waiter> list = waiting.take(op->resource);
    const QByteArray token = error ? QByteArray() : record.accessToken(op->resource).token;
    for (const Waiter &w : list)
        deliver(w, token, error);
    endOperation(op, error);
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
