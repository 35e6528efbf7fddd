// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
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
 * \brief A Session operation (restore, adopt a sign-in, sign out). A Job: nothing happens
 * until start() (queued); finished() is emitted exactly once, then the job deletes itself
 * unless setAutoDelete(false).
 */
class KEYLOOP_EXPORT SessionJob : public Job
{
    Q_OBJECT
public:
    /// Which Session function made the job.
    enum class Operation {
        Restore,     ///< Session::restore()
        AdoptSignIn, ///< Session::adoptSignIn()
        SignOut      ///< Session::signOut()
    };
    Q_ENUM(Operation)

    ~SessionJob() override;
    /// Which operation this job runs.
    Operation operation() const;
    // error(): null on success. Restore: NotFound (nothing stored), StorageUnavailable/Failed/
    // Corrupt. AdoptSignIn: a storage error means the tokens are usable in memory but were not
    // saved (the app decides whether that is acceptable; the CLI's login fails). SignOut:
    // SessionBusy (nothing removed), a storage error (still stored), or RevocationFailed (removed
    // on this device; the provider did not confirm the revocation) — see Session::signOut().

protected:
    void doStart() override;

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
 * auto *store = new Keyloop::KeychainTokenStore(QStringLiteral("org.example.App"), this);
 * auto *session = new Keyloop::Session(client, provider, store, nam, this);
 * Keyloop::SessionJob *job = session->restore();   // reads the keychain, no network
 * connect(job, &Keyloop::Job::finished, this, [=] {
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
 * One operation at a time: restore, adoption of a sign-in, each refresh and sign-out run in
 * order, in a small state machine per account (docs/sessions.md). Across processes a lock file
 * per account serialises read → refresh → write; each operation takes its own lock handle.
 * The store is re-read under the lock, so a token another process already rotated is adopted
 * instead of spending the old one — and if that re-read fails, the refresh fails (transient)
 * rather than spend a token that may be rotated already (RFC 9700 §4.14.2). Every sign-in
 * starts a new grant (SessionRecord::grantId()); a refresh's result is applied only to the
 * grant it started from, so a sign-out, an account switch or a step-up sign-in during a refresh
 * drops its result. A new refresh token is saved before anyone gets the new tokens; if the save
 * fails (after bounded retries) the tokens are still used from memory, storageFailed() is
 * emitted, and the save is retried with backoff at the next token use — written only if the
 * store still holds what this session last read or wrote.
 *
 * signOut() revokes the tokens at the provider (RFC 7009) before it removes the stored session;
 * a failed revocation still removes it and is reported (Error::Code::RevocationFailed).
 *
 * Only a dead grant ends a session (RFC 6749 §5.2): invalid_grant, or a bare 400 without a JSON
 * body. invalid_client / unauthorized_client (ClientAuthenticationFailed), 408/429/5xx and
 * network errors (transient, with Error::retryAfter() from a Retry-After, honoured by the next
 * refresh), request errors (invalid_scope, invalid_target, invalid_request) and any other 4xx
 * (UnexpectedTokenResponse) keep the session.
 */
class KEYLOOP_EXPORT Session : public QObject
{
    Q_OBJECT
public:
    /// The callback of freshAccessToken(): the access token, or an empty one and the error.
    using TokenCallback = std::function<void(const QByteArray &accessToken, const Keyloop::Error &error)>;
    /// The callback of freshIdToken(): the raw ID token (a JWS), or an empty one and the error.
    using IdTokenCallback = std::function<void(const QByteArray &idToken, const Keyloop::Error &error)>;

    /// \a store and \a nam are not owned and must outlive the session. The store's
    /// TokenStore::appId() names the cross-process lock.
    Session(const ClientConfiguration &client, const ProviderConfiguration &provider, TokenStore *store,
            QNetworkAccessManager *nam, QObject *parent = nullptr);
    ~Session() override;

    /// The client configuration given to the constructor.
    ClientConfiguration clientConfiguration() const;
    /// The provider configuration given to the constructor.
    ProviderConfiguration providerConfiguration() const;
    /// The application id: the store's TokenStore::appId() (the keychain service name).
    QString appId() const;

    /// The clock that judges token freshness (not owned). Default Clock::system().
    const Clock *clock() const;
    /// Sets clock() (also for the session's token requests and own JWKS cache); nullptr:
    /// Clock::system().
    void setClock(const Clock *clock);

    /// The app's name of the account ("" = default). Set before restore()/adoptSignIn().
    QString account() const;
    /// Sets account().
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
    /// Sets jwksCache().
    void setJwksCache(JwksCache *cache);

    /// Default 60 s; capped at half of each token's lifetime.
    std::chrono::seconds refreshLeadTime() const;
    /// Sets refreshLeadTime() (negative: 0).
    void setRefreshLeadTime(std::chrono::seconds leadTime);

    /// True once tokens are held (restored or adopted) and until sign-in is required.
    bool isSignedIn() const;
    /// False when the session lives in memory only: no refresh token was issued, or it
    /// has never been saved successfully.
    bool isPersistent() const;
    /// A copy of the current state (secrets included; never log it unredacted).
    SessionRecord record() const;
    /*!
     * The key the session's tokens are bound to (DPoP, RFC 9449; SessionRecord::dpopKey()), read
     * from the stored record — so a restored session, or another process, uses the key of the
     * sign-in. Null when the tokens are Bearer tokens. SessionCredential makes its proofs with it.
     */
    DpopKey dpopKey() const;
    /// True while the store is being written: tokens of a refresh on their way to the keychain,
    /// a sign-in being saved, a sign-out deleting. A program about to exit (Ctrl-C) waits for
    /// savingChanged(false), bounded, so that a rotated refresh token is not lost.
    bool isSaving() const;

    /// Reads the stored session of storeKey(). No network. See SessionJob::error().
    [[nodiscard]] SessionJob *restore();
    /// Restores from \a record, which the app has just read from this session's store with
    /// TokenStore::read(storeKey()) (e.g. to learn its appData() first): no second keychain read.
    /// A record of another issuer, client or account fails with InvalidConfiguration.
    [[nodiscard]] SessionJob *restore(const SessionRecord &record);

    /*!
     * Takes over the tokens of a completed sign-in. \a claims are the validated ID token's
     * claims (empty for plain OAuth 2.0); iss, sub, aud, azp and auth_time are kept to check
     * refreshed ID tokens (OIDC Core §12.2). \a resource is the resource the access token was
     * issued for ("" = none). \a appData is remembered with the session (non-secret).
     * Saving: before the first save a probe (write–read–delete) checks the store works.
     * Without a refresh token nothing is saved and isPersistent() is false.
     */
    [[nodiscard]] SessionJob *adoptSignIn(const TokenResponse &response, const QJsonObject &claims,
                            const QString &resource = QString(), const QJsonObject &appData = QJsonObject());

    /// Same, with the claims of the validated ID token (IdTokenClaims::claims()).
    [[nodiscard]] SessionJob *adoptSignIn(const TokenResponse &response, const IdTokenClaims &claims,
                            const QString &resource = QString(), const QJsonObject &appData = QJsonObject());

    /*!
     * Ends the session: revokes its tokens at the provider (RFC 7009), then removes it.
     *
     * At once, in this process: the tokens are forgotten, a refresh in flight is cancelled and
     * its result dropped, waiting callers get SignInRequired. Then, under the account's
     * cross-process lock — after waiting at most 10 s for another process's refresh to finish,
     * else Error::Code::SessionBusy, and nothing is revoked or deleted: try again:
     * 1. When the provider has a `revocation_endpoint` (ProviderConfiguration::revocationEndpoint()),
     *    the store is re-read (another process may have rotated the refresh token) and the
     *    tokens are revoked (TokenClient::revoke()): the refresh token first
     *    (`token_type_hint=refresh_token`, RFC 7009 §2.1: that ends the grant), then the access
     *    tokens that have not expired (`access_token`; `unsupported_token_type`, §2.2.1, counts
     *    as done). Each request is bounded by the transport timeout; a transient failure
     *    (network, timeout, 5xx) skips the rest. Without a revocation endpoint nothing is
     *    revoked: the tokens stay valid at the provider until they expire.
     * 2. The stored session is deleted: the keychain items first, the account index entry last.
     *
     * A failed revocation does not keep the session: it is deleted all the same, and the job
     * finishes with Error::Code::RevocationFailed — signed out on this device, but the tokens
     * stay valid at the provider until they expire (oauthError() and httpStatus() keep the
     * provider's answer; not transient: nothing is left to retry with). A storage error instead
     * means the session is still stored (a retry revokes and removes it); a failure of the index
     * update after the keychain items were deleted is reported too. Nothing written afterwards
     * can bring the session back.
     */
    [[nodiscard]] SessionJob *signOut();

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

    /*!
     * Like freshAccessToken(), but the token must have more than \a minValidity left instead of
     * refreshLeadTime() (whichever is longer; capped, like the lead time, at half the token's
     * lifetime): a token with less left is refreshed first (RFC 6749 §6). For a caller that
     * needs its token to last (a long upload), and for the background refresh of
     * SessionCredential, which refreshes a token that is still fresh at a random point of the
     * second half of its lifetime (RefreshSchedule) so that a fleet of clients started together
     * does not refresh together.
     *
     * It is the same refresh: one at a time per account, shared with the freshAccessToken()
     * callers waiting for \a resource, under the cross-process lock, with the store re-read
     * first — a token another process refreshed meanwhile that has more than \a minValidity
     * left is handed out without a request. Errors, and the callback contract: those of
     * freshAccessToken().
     *
     * \code
     * // At least 10 minutes left, for a long upload:
     * session->accessTokenValidFor(resource, std::chrono::minutes(10), this, [](const QByteArray &token, const Keyloop::Error &e) { ... });
     * \endcode
     */
    void accessTokenValidFor(const QString &resource, std::chrono::milliseconds minValidity, QObject *context,
                             TokenCallback callback);

    /*!
     * Calls \a callback on \a context with a fresh ID token (OIDC Core §2: the raw JWS, whose
     * `aud` holds the client id), refreshing first when needed — for a program that hands the ID
     * token itself to a relying service, such as the Kubernetes API server's OIDC authenticator
     * (`keyloop token --exec-credential`). Not for calling APIs: send access tokens to them.
     *
     * The ID token is fresh when its `exp` is more than the lead time away (refreshLeadTime(),
     * capped at half of exp − iat, as for access tokens); a missing or unreadable ID token is
     * never fresh. Otherwise the session refreshes without a resource (RFC 8707: the provider's
     * own access token comes along) — or waits for a refresh already queued or running, which
     * may bring a new ID token too. It is the same refresh as freshAccessToken()'s: one at a time
     * per account, shared by every waiting caller, under the cross-process lock, with the store
     * re-read first and a rotated refresh token saved before anyone gets the tokens; the
     * refreshed ID token is validated as described there before it is handed out.
     *
     * The same contract as freshAccessToken(): the callback is always queued (never called
     * before this function returns) and called exactly once, unless \a context is destroyed
     * first. Errors: those of freshAccessToken(), and Error::Code::IdTokenNotReturned when the
     * refresh succeeded but brought no new ID token (OIDC Core §12.2 allows that; only a new
     * sign-in gets one — the session itself stays). A session without a refresh token answers
     * SignInRequired once its ID token is stale, and is not ended for that.
     */
    void freshIdToken(QObject *context, IdTokenCallback callback);

    /*!
     * A resource server rejected \a rejected, the access token for \a resource (a 401 with
     * `invalid_token`, RFC 6750 §3.1): the session drops it — only if it is still the current
     * token for \a resource, so that many requests rejecting the same old token cause one
     * refresh, and a token refreshed meanwhile is kept. The next freshAccessToken() then
     * refreshes (like AppAuth's setNeedsTokenRefresh or MSAL's WithForceRefresh). In memory only;
     * emits tokensChanged() when it dropped the token. Keyloop::SessionCredential calls it.
     */
    void invalidateAccessToken(const QString &resource, const QByteArray &rejected);

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
    /// isSaving() changed.
    void savingChanged(bool saving);

private:
    friend class SessionPrivate;
    std::unique_ptr<SessionPrivate> d;
};

} // namespace Keyloop
