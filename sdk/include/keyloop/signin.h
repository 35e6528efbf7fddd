// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/job.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/tokenresponse.h>

#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class BrowserLauncher;
class JwksCache;
class SignInPrivate;

/*!
 * \brief One interactive sign-in in the system browser: authorization code + PKCE + loopback
 * redirect (RFC 6749 §4.1, RFC 7636, RFC 8252), with the ID token verified (OIDC Core §3.1.3.7).
 *
 * Steps, all asynchronous: discovery (unless endpoints were set by hand) → bind the loopback
 * listener → build the request (state, nonce, S256 challenge from the CSPRNG) → hand the URL to
 * the app (authorizationUrlReady()) and to the browser launcher → wait for the callback with the
 * right state → check the response (state, error, RFC 9207 iss) → exchange the code → validate
 * the ID token (signature on the provider's JWKS, every claim rule) → finished(). The browser's
 * page after the redirect waits for that outcome and says how the sign-in ended (see
 * LoopbackReceiver::reportOutcome()).
 *
 * **Pushed authorization requests** (RFC 9126), when the provider requires them
 * (`require_pushed_authorization_requests`) or ClientConfiguration::pushedAuthorizationRequests()
 * is Always: after the listener is bound, the request's parameters (state, nonce, PKCE
 * challenge, scopes, resources, prompt, max_age … and the additional parameters) are POSTed to
 * the provider's `pushed_authorization_request_endpoint` with the client's authentication, and
 * the browser is opened at the authorization endpoint with only `client_id` and the
 * `request_uri` it answered (§4). A failed push — an RFC 9126 §2.3 error, a network or HTTP
 * failure, a malformed answer — ends the sign-in with that error before any browser opens, and
 * so does a provider without that endpoint when the app asked for PAR
 * (Error::Code::PushedAuthorizationNotSupported). A request_uri is single-use and lives for
 * seconds, so the URL for copying (authorizationUrl(), authorizationUrlReady()) is then the
 * receiver's start page (LoopbackReceiver::startPageUrl()): each visit pushes the same request
 * again and redirects the browser with a new request_uri, for as long as the sign-in waits.
 *
 * The whole sign-in has an overall timeout (ClientConfiguration::loginTimeout(), default 5 min)
 * and can be cancel()led; it never hangs. It is a Job: start() queues it, finished() is emitted
 * exactly once, then the sign-in deletes itself unless setAutoDelete(false) — read its results
 * in the slot connected to finished().
 *
 * \code
 * auto *signIn = new Keyloop::SignIn(config, &nam);
 * signIn->setBrowserLauncher(&launcher);             // optional; default: the system's opener
 * connect(signIn, &Keyloop::Job::finished, this, [signIn] {
 *     if (signIn->error()) { qWarning() << signIn->error(); return; }
 *     qInfo() << "signed in as" << signIn->idTokenClaims().subject();
 * });
 * signIn->start();
 * \endcode
 */
class KEYLOOP_EXPORT SignIn : public Job
{
    Q_OBJECT
public:
    /// A sign-in with \a client's settings, through \a nam (not owned; it must outlive the
    /// job). Not started.
    SignIn(const ClientConfiguration &client, QNetworkAccessManager *nam, QObject *parent = nullptr);
    ~SignIn() override;

    /// The browser launcher (not owned). Default: SystemBrowserLauncher (xdg-open / open / start).
    void setBrowserLauncher(BrowserLauncher *launcher);
    /// The clock for token expiry and ID-token time checks (not owned). Default: Clock::system().
    void setClock(const Clock *clock);
    /// A JWKS cache shared with other sign-ins and sessions (not owned), so that keys are fetched
    /// once per provider and a key rotation costs one refetch. Default: a cache of its own.
    void setJwksCache(JwksCache *cache);

    /*!
     * The URL to show for copying (also given by authorizationUrlReady()). Without pushed
     * authorization requests: the authorization request URL, with state and a PKCE challenge,
     * never a secret — but single-use. With them: the start page on the loopback listener
     * (`http://127.0.0.1:PORT/start/<token>`), which works for the whole sign-in and whose token
     * keeps other local users from using it; the browser itself is opened at the authorization
     * endpoint with `client_id` and `request_uri` only. Either way: do not log it.
     */
    QUrl authorizationUrl() const;
    /// True when this sign-in pushes its authorization request (RFC 9126); known once the
    /// provider's metadata is (before authorizationUrlReady()).
    bool usesPushedAuthorizationRequests() const;
    /// The client configuration given to the constructor.
    ClientConfiguration clientConfiguration() const;
    /// The provider's metadata: set by hand in the client configuration, or discovered; null
    /// before that.
    ProviderConfiguration providerConfiguration() const;
    /// The redirect URI used (http://127.0.0.1:PORT/callback, …).
    QUrl redirectUri() const;
    /// The token response (RFC 6749 §5.1); null until the code has been exchanged. Use it only
    /// after finishing without error: the ID token is validated after the exchange.
    TokenResponse tokenResponse() const;
    /// The resource indicator the access token was issued for (RFC 8707 §2.2): the first of
    /// ClientConfiguration::resources(), "" when none is configured. Pass it to
    /// Session::adoptSignIn() so the token is kept under that resource.
    QString resource() const;
    /// The validated ID token's claims; null for plain OAuth 2.0 (no `openid` scope).
    IdTokenClaims idTokenClaims() const;

Q_SIGNALS:
    /// The browser is about to be opened. Show \a url (authorizationUrl()) to the user so it can
    /// be copied when no browser opens.
    void authorizationUrlReady(const QUrl &url);
    /// The launcher could not open a browser; the sign-in keeps waiting for the redirect.
    void browserLaunchFailed(const Keyloop::Error &error);
    /// The redirect arrived; the code is being exchanged.
    void callbackReceived();

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class SignInPrivate;
    std::unique_ptr<SignInPrivate> d;
};

} // namespace Keyloop
