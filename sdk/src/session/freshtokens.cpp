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
    signedIn = false;
    stored = false;
    setPersistent(false);
    failAll(error);
    Q_EMIT q->tokensChanged();
    Q_EMIT q->signInRequired();
}

// Hands out every waiter whose token is fresh; starts one refresh (at most one at a time
// per session: a rotating refresh token must never be spent twice) for the others.
void SessionPrivate::pump()
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

void SessionPrivate::finishRefresh(const QString &resource, const Error &error)
{
    unlock();
    refreshing = false;
    const QList<Waiter> list = waiting.take(resource);
    const QByteArray token = error ? QByteArray() : record.accessToken(resource).token;
    for (const Waiter &w : list)
        deliver(w, token, error);
    pump();
}

} // namespace Keyloop
