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

#include <QtCore/QDateTime>
#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <chrono>
#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class JwksCache;
class DeviceSignInPrivate;

/*!
 * \brief One sign-in with the OAuth 2.0 device authorization grant (RFC 8628), for machines
 * where no browser can reach a loopback port: over SSH, in WSL or a container, on a headless
 * box. The user opens a URL on another device (a phone, a laptop) and enters a short code.
 *
 * Steps, all asynchronous: discovery (unless endpoints were set by hand) → the device
 * authorization request (§3.1: client id, scopes, resources) → userCodeReady(): show the user
 * code and the verification URI (§3.3; verificationUriComplete() carries the code, e.g. for a
 * QR code, but show the code as text too, §3.3.1) → poll the token endpoint at the provider's
 * `interval` (§3.4, §3.5: `authorization_pending` waits, `slow_down` adds 5 s to the interval
 * for good; a network failure or 5xx backs off exponentially) → validate the ID token by every
 * OIDC Core §3.1.3.7 rule except the nonce (none is sent in this grant) → finished().
 *
 * It ends with Error::Code::OAuthError `access_denied` when the user declines,
 * Error::Code::DeviceCodeExpired when the device code expires first (`expired_token`, or its
 * `expires_in` passed here; at most 30 minutes either way), DeviceFlowNotSupported when the
 * provider has no `device_authorization_endpoint` or refuses this client the grant
 * (`unauthorized_client`), and can be cancel()led at any time.
 *
 * Nothing switches to this grant by itself (RFC 8628 §5.4): the app, or the user, chooses it —
 * e.g. after SignIn::browserLaunchFailed(), and only when ProviderConfiguration::
 * deviceAuthorizationEndpoint() is set. Keyloop::Client::signInWithDeviceCode() runs it for the
 * one-object API; then Session::adoptSignIn() stores the result like any sign-in.
 *
 * \code
 * auto *signIn = new Keyloop::DeviceSignIn(config, &nam);
 * connect(signIn, &Keyloop::DeviceSignIn::userCodeReady, this,
 *         [](const QString &code, const QUrl &uri, const QUrl &complete) { showCode(code, uri, complete); });
 * connect(signIn, &Keyloop::Job::finished, this, [signIn] {
 *     if (!signIn->error())
 *         qInfo() << "signed in as" << signIn->idTokenClaims().subject();
 * });
 * signIn->start();
 * \endcode
 *
 * A Job: start() queues it, finished() is emitted exactly once, then it deletes itself unless
 * setAutoDelete(false).
 */
class KEYLOOP_EXPORT DeviceSignIn : public Job
{
    Q_OBJECT

public:
    /// A device sign-in with \a client's settings, through \a nam (not owned; it must outlive
    /// the job). Not started.
    DeviceSignIn(const ClientConfiguration &client, QNetworkAccessManager *nam, QObject *parent = nullptr);
    ~DeviceSignIn() override;

    /// The clock for the device code's expiry and the ID token's time checks (not owned).
    /// Default: Clock::system().
    void setClock(const Clock *clock);
    /// A JWKS cache shared with other sign-ins and sessions (not owned). Default: its own.
    void setJwksCache(JwksCache *cache);

    /// The client configuration given to the constructor.
    ClientConfiguration clientConfiguration() const;
    /// The provider's metadata: set by hand in the client configuration, or discovered.
    ProviderConfiguration providerConfiguration() const;

    /// The code the user enters at verificationUri() (RFC 8628 §3.2 `user_code`); empty before
    /// userCodeReady(). As the provider sent it: show it as plain text.
    QString userCode() const;
    /// Where the user goes to enter userCode() (`verification_uri`).
    QUrl verificationUri() const;
    /// verificationUri() with the code in it (`verification_uri_complete`, optional, §3.3.1);
    /// empty when the provider gave none.
    QUrl verificationUriComplete() const;
    /// When the device code (and so this sign-in) expires.
    QDateTime expiresAt() const;
    /// The current polling interval: the provider's `interval` (default 5 s), plus 5 s for
    /// each `slow_down` (§3.5).
    std::chrono::seconds pollInterval() const;

    /// The token response; null until the user approved. Use it only after finishing without
    /// error.
    TokenResponse tokenResponse() const;
    /// The resource indicator the access token was asked for (RFC 8707 §2.2): the first of
    /// ClientConfiguration::resources(), "" when none. Pass it to Session::adoptSignIn().
    QString resource() const;
    /// The validated ID token's claims; null without the `openid` scope.
    IdTokenClaims idTokenClaims() const;

Q_SIGNALS:
    /// The provider issued a user code: show \a userCode and \a verificationUri (and, where
    /// given, \a verificationUriComplete, e.g. as a QR code) until the sign-in ends.
    void userCodeReady(const QString &userCode, const QUrl &verificationUri, const QUrl &verificationUriComplete);
    /// The provider asked to poll more slowly (`slow_down`); pollInterval() is now \a interval.
    void pollIntervalChanged(std::chrono::seconds interval);

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class DeviceSignInPrivate;
    std::unique_ptr<DeviceSignInPrivate> d;
};

} // namespace Keyloop
