// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/credential.h>
#include <keyloop/refreshschedule.h>

#include <QtCore/QDateTime>
#include <QtCore/QString>

#include <functional>
#include <memory>

namespace Keyloop {

class Session;
class SessionCredentialPrivate;

/*!
 * \brief A signed-in user's access token for one API: `Authorization: Bearer <token>`
 * (RFC 6750 §2.1), from a Session, for one resource indicator (RFC 8707) — or, for a token bound
 * to the session's key (DPoP, ClientConfiguration::setDpopEnabled()), `Authorization: DPoP
 * <token>` with a new `DPoP` proof on every request (RFC 9449 §7.1).
 *
 * \code
 * auto *credential = new Keyloop::SessionCredential(session, QStringLiteral("https://api.example.com"), this);
 * http->addCredential(credential, {QUrl(QStringLiteral("https://api.example.com/v1"))});
 * \endcode
 *
 * - authorize() asks Session::freshAccessToken() for the resource: a fresh token costs no I/O;
 *   a stale one is refreshed once for every waiting request (single flight).
 * - reject() (a 401 from the API) calls Session::invalidateAccessToken(): the token is dropped
 *   only if it is still the current one, so the next authorize() refreshes.
 * - **Proactive refresh** (on by default): a timer refreshes the token in the background
 *   before it goes stale, at a time drawn by refreshSchedule() from the second half of its
 *   lifetime (jitter, and backoff with jitter after transient failures; Retry-After is
 *   honoured) through Session::accessTokenValidFor(), so that requests rarely
 *   wait for a refresh. Freshness is still checked at each use: the timer is an optimisation,
 *   never a promise. It uses the session's Clock (Session::setClock()) and lead time; after a
 *   refresh that says the user must sign in again it stops until the session's tokens change.
 *
 * The resource indicator names the API to the provider; it is never compared with a URL. Which
 * URLs get the token is decided by HttpClient::addCredential() alone. The session is not
 * owned; if it is destroyed, authorize() fails with SignInRequired.
 */
class KEYLOOP_EXPORT SessionCredential : public Credential
{
    Q_OBJECT
public:
    /// \a resource: the resource indicator of the API (RFC 8707 §2); "" = the provider's own
    /// token (e.g. for UserInfo).
    SessionCredential(Session *session, const QString &resource, QObject *parent = nullptr);
    ~SessionCredential() override;

    /// The session the tokens come from; null once it was destroyed.
    Session *session() const;
    /// The API's resource indicator (RFC 8707 §2); "" = the provider's own token.
    QString resource() const;

    /// Calls back with ("Authorization", "Bearer " + a fresh access token), or the session's error.
    void authorize(QObject *context, AuthorizeCallback callback) override;
    /// Drops the rejected token in the session if it is still current (Session::invalidateAccessToken()).
    void reject(const QByteArray &headerValue) override;
    /// The token when it is fresh (the session's lead-time rule) and the session is saved; the
    /// other cases (a refresh due, a save to retry) go through authorize().
    bool currentHeader(QByteArray *headerName, QByteArray *headerValue) const override;
    /// For a DPoP-bound token (`Authorization: DPoP`), a new proof for this request made with
    /// Session::dpopKey(): `htm`, `htu`, `ath` and the API's last nonce (RFC 9449 §7.1, §9).
    HeaderList requestHeaders(const QByteArray &method, const QUrl &url, const QByteArray &headerValue) override;
    /// Remembers the API's `DPoP-Nonce` for the next proofs (RFC 9449 §9).
    void responseReceived(const QUrl &url, const QByteArray &headerValue, const HeaderList &headers) override;

    /// Default true.
    bool isProactiveRefreshEnabled() const;
    /// Sets isProactiveRefreshEnabled().
    void setProactiveRefreshEnabled(bool enabled);

    /// When background refreshes happen (jitter, backoff). Default: RefreshSchedule().
    RefreshSchedule refreshSchedule() const;
    /// Sets refreshSchedule().
    void setRefreshSchedule(const RefreshSchedule &schedule);

    /// The random source of the jitter: uniform in [0, 1). Default QRandomGenerator::global().
    void setRandomSource(std::function<double()> random01);

    /// When the next background refresh is due (the session's wall clock); invalid when none is
    /// scheduled (disabled, no token, no expiry, or the session needs a new sign-in).
    QDateTime nextRefresh() const;

Q_SIGNALS:
    /// A background refresh failed (e.g. transient, with a retry scheduled; or SignInRequired,
    /// and Session::signInRequired() is emitted too).
    void backgroundRefreshFailed(const Keyloop::Error &error);

private:
    std::unique_ptr<SessionCredentialPrivate> d;
};

} // namespace Keyloop
