// SPDX-License-Identifier: MIT
// Session's private state. Its operations live in one file per responsibility:
//   session.cpp           the public Session and SessionJob API
//   freshtokens.cpp       the waiting callers: fresh tokens handed out, one refresh at a time
//   refresh.cpp           the refresh state machine (lock, store re-read, grant, rotation saved first)
//   refreshedidtoken.cpp  the refreshed ID token checks (OIDC Core §12.2)
//   sessionstorage.cpp    the cross-process lock, the token store and the account index
#pragma once

#include <keyloop/issueridentifier.h>
#include <keyloop/session.h>

#include <QtCore/QMap>
#include <QtCore/QPointer>

namespace Keyloop {

class ProcessLock;
class TokenClient;

class SessionPrivate
{
public:
    struct Waiter
    {
        QPointer<QObject> context;
        Session::TokenCallback callback;
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

    /// The issuer identifier of the session, as stored and in its key (issuerIdentifier()).
    QString issuer() const
    {
        return issuerIdentifier(client.issuer().isEmpty() ? provider.issuer() : client.issuer());
    }
    QString key() const;
    QDateTime now() const
    {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch());
        return QDateTime::fromMSecsSinceEpoch(ms.count(), Qt::UTC);
    }
    JwksCache *jwks() const;
    // session.cpp: take over a record read from the store (restore()).
    void adoptRestored(const SessionRecord &r);

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

    // ---- lock, store and index (sessionstorage.cpp) -----------------------------------
    void withLock(std::function<void(const Error &)> then);
    void unlock();
    void readStore(std::function<void(const Error &, const SessionRecord &)> then);
    void writeStore(const SessionRecord &r, int attempt, std::function<void(const Error &)> then);
    void updateIndex(std::function<void()> done = {});
    void removeStored(std::function<void(const Error &)> then);

    // ---- fresh tokens (freshtokens.cpp) ------------------------------------------------
    void failAll(const Error &error);
    void requireSignIn(const QString &why);
    void pump();
    void finishRefresh(const QString &resource, const Error &error);

    // ---- refresh (refresh.cpp) ---------------------------------------------------------
    void startRefresh(const QString &resource);
    void refresh(const QString &resource, bool retriedAfterReread);
    void onRefreshFailed(const QString &resource, const QByteArray &usedToken, bool retriedAfterReread, const Error &error);
    void grantRejected(const QString &resource);
    void onRefreshSucceeded(const QString &resource, const TokenResponse &response);
    void rejectRefreshed(const Error &e);
    void keepRefreshTokenOnly(const QString &resource, const TokenResponse &response, const Error &e);
    void persistThen(const SessionRecord &updated, std::function<void()> then);
    void adoptRefreshed(const QString &resource, const TokenResponse &response);

    // ---- refreshed ID token (refreshedidtoken.cpp) -------------------------------------
    void validateRefreshedIdToken(const TokenResponse &response, std::function<void(const Error &, bool keepIdToken)> then);
};

} // namespace Keyloop
