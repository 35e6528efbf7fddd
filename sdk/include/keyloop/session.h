// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/sessionrecord.h>
#include <keyloop/tokenresponse.h>

#include <QtCore/QJsonObject>
#include <QtCore/QObject>

#include <chrono>
#include <functional>
#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class AccountIndex;
class IdTokenClaims;
class JwksCache;
class Session;
class SessionJobPrivate;
class SessionPrivate;
class TokenStore;

/*!
 * \brief A Session operation (restore, adopt a sign-in, sign out), in the QtKeychain job
 * style: connect to finished(), call start() (queued); finished() is emitted exactly once,
 * then the job deletes itself unless setAutoDelete(false).
 */
class KEYLOOP_EXPORT SessionJob : public QObject
{
    Q_OBJECT
public:
    enum class Operation { Restore, AdoptSignIn, SignOut };
    Q_ENUM(Operation)

    ~SessionJob() override;
    Operation operation() const;
    /*!
     * Null on success. Restore: NotFound (nothing stored), StorageUnavailable/Failed/Corrupt.
     * AdoptSignIn: a storage error means the tokens are usable in memory but were not saved
     * (the app decides whether that is acceptable; the CLI's login fails).
     */
    Error error() const;
    bool autoDelete() const;
    void setAutoDelete(bool autoDelete);
    void start();

Q_SIGNALS:
    void finished(Keyloop::SessionJob *job);

private:
    friend class Session;
    friend class SessionPrivate;
    friend class SessionJobPrivate;
    SessionJob(Operation operation, QObject *parent);
    std::unique_ptr<SessionJobPrivate> d;
};

/*!
 * \brief The signed-in state of one account: hands out fresh access tokens, refreshes them
 * (RFC 6749 §6) once for all waiting callers, and keeps the store up to date across
 * refresh-token rotation (RFC 9700 §4.14) and across processes.
 *
 * \code
 * auto *session = new Keyloop::Session(client, provider, store, nam, QStringLiteral("org.example.App"));
 * auto *job = session->restore();              // reads the keychain, no network
 * connect(job, &Keyloop::SessionJob::finished, this, [=](Keyloop::SessionJob *job) {
 *     if (job->error()) { startSignIn(); return; }
 *     session->freshAccessToken(apiResource, this, [](const QByteArray &token, const Keyloop::Error &e) {
 *         if (e.requiresSignIn()) ...; else if (e) ...; else useToken(token);
 *     });
 * });
 * job->start();
 * \endcode
 *
 * Tokens per resource: the session keeps one access token per resource indicator
 * (RFC 8707 §2.2); "" is the provider's own token, requested without a resource (e.g. for
 * UserInfo).
 *
 * Freshness is judged on the injected Clock's wall clock at the time of each call (so it
 * survives sleep/resume): a token is refreshed when fewer than the lead time remains, where
 * the lead time (default 60 s) is capped at half the token's lifetime.
 *
 * Refresh (single-flight): one refresh per resource at a time in this process; across
 * processes a lock file per account serialises read → refresh → write, and the store is
 * re-read under the lock, so a token another process already rotated is adopted instead of
 * spending the old one. A new refresh token is saved before anyone gets the new tokens; if
 * the save fails (after bounded retries) the tokens are still used from memory and
 * storageFailed() is emitted.
 */
class KEYLOOP_EXPORT Session : public QObject
{
    Q_OBJECT
public:
    using TokenCallback = std::function<void(const QByteArray &accessToken, const Keyloop::Error &error)>;

    /// \a store, \a nam and \a clock are not owned and must outlive the session.
    /// \a appId names the cross-process lock (use the keychain service name).
    Session(const ClientConfiguration &client, const ProviderConfiguration &provider, TokenStore *store,
            QNetworkAccessManager *nam, const QString &appId, const Clock *clock = Clock::system(),
            QObject *parent = nullptr);
    ~Session() override;

    ClientConfiguration clientConfiguration() const;
    ProviderConfiguration providerConfiguration() const;
    QString appId() const;

    /// The app's name of the account ("" = default). Set before restore()/adoptSignIn().
    QString account() const;
    void setAccount(const QString &account);
    /// TokenStore::keyFor(issuerIdentifier(issuer), client id, account).
    QString storeKey() const;

    /// Optional non-secret index updated on save and removal (not owned).
    void setAccountIndex(AccountIndex *index);

    /*!
     * The cache of the provider's keys used to verify ID tokens returned by a refresh (OIDC
     * Core §12.2, §3.1.3.7 rule 6). By default the session owns one; apps share one cache
     * (with SignIn::setJwksCache() and other sessions) by passing it here. Not owned; must
     * outlive the session, or pass nullptr to go back to the session's own cache.
     */
    JwksCache *jwksCache() const;
    void setJwksCache(JwksCache *cache);

    /// Default 60 s; capped at half of each token's lifetime.
    std::chrono::seconds refreshLeadTime() const;
    void setRefreshLeadTime(std::chrono::seconds leadTime);

    /// True once tokens are held (restored or adopted) and until sign-in is required.
    bool isSignedIn() const;
    /// False when the session lives in memory only: no refresh token was issued, or it
    /// has never been saved successfully.
    bool isPersistent() const;
    /// A copy of the current state (secrets included; never log it unredacted).
    SessionRecord record() const;

    /// Reads the stored session of storeKey(). No network. See SessionJob::error().
    SessionJob *restore();
    /// Restores from \a record, which the app has just read from this session's store with
    /// TokenStore::read(storeKey()) (e.g. to learn its appData() first): no second keychain read.
    SessionJob *restore(const SessionRecord &record);

    /*!
     * Takes over the tokens of a completed sign-in. \a claims are the validated ID token's
     * claims (empty for plain OAuth 2.0); iss, sub, aud, azp and auth_time are kept to check
     * refreshed ID tokens (OIDC Core §12.2). \a resource is the resource the access token was
     * issued for ("" = none). \a appData is remembered with the session (non-secret).
     * Saving: before the first save a probe (write–read–delete) checks the store works.
     * Without a refresh token nothing is saved and isPersistent() is false.
     */
    SessionJob *adoptSignIn(const TokenResponse &response, const QJsonObject &claims,
                            const QString &resource = QString(), const QJsonObject &appData = QJsonObject());

    /// Same, with the claims of the validated ID token (IdTokenClaims::claims()).
    SessionJob *adoptSignIn(const TokenResponse &response, const IdTokenClaims &claims,
                            const QString &resource = QString(), const QJsonObject &appData = QJsonObject());

    /// Removes the stored session (and index entry) and forgets the tokens.
    /// (Revocation, RFC 7009, comes with the HTTP client.)
    SessionJob *signOut();

    /*!
     * Calls \a callback on \a context with a fresh access token for \a resource, refreshing
     * first when needed. The callback is always queued (never called before this function
     * returns) and called exactly once, unless \a context is destroyed first.
     * Errors: SignInRequired (requiresSignIn()), transient network/5xx/408/429 errors
     * (isTransient()), lock/storage errors, and ID token errors. A refresh that returns an ID
     * token is used only once that token is validated like the original one (signature with
     * the provider's keys from jwksCache(), §3.1.3.7 claims, at_hash; no login nonce) and keeps
     * the original iss, sub, aud, azp and auth_time (OIDC Core §12.2):
     * - it fails (IdTokenRefreshMismatch, Jose*, IdToken*): nothing of the response is used, the
     *   stored session is removed and signInRequired() is emitted; the callers get that error.
     * - it cannot be checked (the JWKS unreachable: a transient or network error): the callers
     *   get that error and the session stays; a rotated refresh token is still saved.
     */
    void freshAccessToken(const QString &resource, QObject *context, TokenCallback callback);

Q_SIGNALS:
    /// The tokens changed (restore, sign-in, refresh, adoption of another process's rotation,
    /// sign-out).
    void tokensChanged();
    /// The refresh token is gone or rejected; the stored session was removed. Sign in again.
    void signInRequired();
    /// New tokens could not be saved (after retries); they are still used from memory.
    void storageFailed(const Keyloop::Error &error);
    /// isPersistent() changed.
    void persistentChanged(bool persistent);

private:
    friend class SessionPrivate;
    std::unique_ptr<SessionPrivate> d;
};

} // namespace Keyloop
