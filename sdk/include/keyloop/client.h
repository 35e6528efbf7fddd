// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/accountindex.h>
#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/httpbody.h>
#include <keyloop/session.h>

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <memory>

QT_BEGIN_NAMESPACE
class QIODevice;
class QNetworkAccessManager;
class QNetworkRequest;
QT_END_NAMESPACE

namespace Keyloop {

class AccountIndex;
class BrowserLauncher;
class HttpClient;
class HttpReply;
class JwksCache;
class SignIn;
class TokenStore;
class ClientPrivate;

/*!
 * \brief The one object an app embeds: sign in in the system browser, restore the session
 * silently at the next start, and call protected APIs with tokens that refresh themselves.
 *
 * \code
 * Keyloop::Client client(configuration);                    // issuer, client id, scopes, resources
 * client.addApi(QStringLiteral("https://api.example.com"), {QUrl(QStringLiteral("https://api.example.com/v1/"))});
 * connect(&client, &Keyloop::Client::signInRequired, &client, [&] { client.signIn(); });
 * connect(&client, &Keyloop::Client::signedIn, &client, [&] {
 *     Keyloop::HttpReply *reply = client.get(QUrl(QStringLiteral("https://api.example.com/v1/me")));
 *     connect(reply, &Keyloop::Job::finished, reply, [reply] { qInfo() << reply->statusCode(); });
 * });
 * client.restore();                                          // keychain only: no network, no browser
 * \endcode
 *
 * Defaults, each replaceable before restore()/signIn(): its own QNetworkAccessManager, the OS
 * keychain (KeychainTokenStore, service = appId()), the account index, the system browser, and
 * one JWKS cache shared by sign-in and refresh.
 *
 * The client never opens a browser by itself: when only an interactive sign-in can help, it
 * emits signInRequired() and the app decides (call signIn(), or show a button).
 *
 * Requests go through an HttpClient (httpClient(); docs/http-client.md): tokens only to the
 * locations given with addApi(), refreshed in the background and before use, one replay after
 * a 401. A request's StepUpRequired answer is also emitted as stepUpRequired(), a transient
 * failure as transientError(): the reply still carries it.
 *
 * A way down: session(), httpClient() and the injected building blocks stay public.
 */
class KEYLOOP_EXPORT Client : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool signedIn READ isSignedIn NOTIFY stateChanged)
    Q_PROPERTY(QString account READ account NOTIFY accountChanged)
    Q_PROPERTY(QString subject READ subject NOTIFY userChanged)
    Q_PROPERTY(QString displayName READ displayName NOTIFY userChanged)
    Q_PROPERTY(QString email READ email NOTIFY userChanged)
    Q_PROPERTY(QJsonObject claims READ claims NOTIFY userChanged)
    Q_PROPERTY(QUrl authorizationUrl READ authorizationUrl NOTIFY authorizationUrlChanged)
    Q_PROPERTY(QString userCode READ userCode NOTIFY userCodeChanged)
    Q_PROPERTY(QUrl verificationUri READ verificationUri NOTIFY userCodeChanged)
    Q_PROPERTY(QUrl verificationUriComplete READ verificationUriComplete NOTIFY userCodeChanged)

public:
    /// Where the client is; stateChanged() follows every change.
    enum class State {
        Idle,            ///< nothing done yet: call restore()
        Restoring,       ///< reading the keychain
        SignInRequired,  ///< no usable session: the app may call signIn()
        SigningIn,       ///< a sign-in (browser or device code) is in progress (cancelSignIn() stops it)
        SignedIn,        ///< tokens are held; requests carry them
        SigningOut,      ///< revoking and removing
    };
    Q_ENUM(State)

    /// How far signOut() reaches.
    enum class SignOutScope {
        Application,     ///< revoke the tokens (RFC 7009) and remove the stored session (the default)
        ProviderSession, ///< that, then also end the user's session at the provider in the browser
                         ///< (OpenID Connect RP-Initiated Logout 1.0; see EndSessionJob)
    };
    Q_ENUM(SignOutScope)

    /// A client for \a configuration whose app id is the QCoreApplication's organization domain
    /// and application name, joined with a dot (e.g. "org.example.MyApp"; the application name
    /// alone when there is no domain).
    explicit Client(const ClientConfiguration &configuration, QObject *parent = nullptr);
    /// A client for \a configuration. \a appId names the keychain service, the lock and the
    /// account index; empty: "keyloop".
    Client(const ClientConfiguration &configuration, const QString &appId, QObject *parent = nullptr);
    ~Client() override;

    /// The configuration given to the constructor.
    ClientConfiguration configuration() const;
    /// The app id: the keychain service name, and the name of the lock and the account index.
    QString appId() const;

    // ---- replaceable building blocks (before restore()/signIn(); not owned) -------------
    /// The network access manager; by default the client's own, created on first use.
    QNetworkAccessManager *networkAccessManager() const;
    /// Uses \a nam (not owned) instead of the client's own.
    void setNetworkAccessManager(QNetworkAccessManager *nam);
    /// The token store; by default a KeychainTokenStore with service name appId().
    TokenStore *tokenStore() const;
    /// Uses \a store (not owned) instead of the OS keychain.
    void setTokenStore(TokenStore *store);
    /// The account index; by default an AccountIndex for appId().
    AccountIndex *accountIndex() const;
    /// Uses \a index (not owned) instead of the default one.
    void setAccountIndex(AccountIndex *index);
    /// The browser launcher; by default a SystemBrowserLauncher.
    BrowserLauncher *browserLauncher() const;
    /// Uses \a launcher (not owned) to open the browser, e.g. a DesktopServicesBrowserLauncher.
    void setBrowserLauncher(BrowserLauncher *launcher);
    /// The JWKS cache shared by sign-in and refresh; by default the client's own.
    JwksCache *jwksCache() const;
    /// Uses \a cache (not owned) instead of the client's own.
    void setJwksCache(JwksCache *cache);
    /// The time source for token expiry and ID token checks (not owned); nullptr: Clock::system().
    void setClock(const Clock *clock);

    // ---- state ---------------------------------------------------------------------------
    /// The current state.
    State state() const;
    /// True in State::SignedIn.
    bool isSignedIn() const;
    /// The account in use ("" = the default account). Set with switchAccount().
    QString account() const;
    /// The stored accounts of this issuer and client (from the account index; no secrets).
    QList<AccountIndexEntry> accounts() const;
    /// The validated ID token's claims (OIDC Core §3.1.3.7), empty when signed out.
    QJsonObject claims() const;
    /// The ID token's `sub`: the user's identifier at the issuer. Empty when signed out.
    QString subject() const;
    /// `name`, else `preferred_username`, else `email` (as given by the provider: show it as
    /// plain text).
    QString displayName() const;
    /// The ID token's `email` claim, as given by the provider. Empty when signed out or absent.
    QString email() const;
    /// While signing in: the URL to show for copying if no browser opened — the authorization URL
    /// the browser was sent to, or with pushed authorization requests the loopback start page
    /// (SignIn::authorizationUrl()).
    QUrl authorizationUrl() const;
    /// While signing in with a device code: the code the user enters at verificationUri()
    /// (RFC 8628 §3.3); empty otherwise. Show it as plain text.
    QString userCode() const;
    /// While signing in with a device code: where the user enters userCode().
    QUrl verificationUri() const;
    /// While signing in with a device code: verificationUri() with the code in it, when the
    /// provider gives one (e.g. for a QR code; show userCode() as text next to it, §3.3.1).
    QUrl verificationUriComplete() const;
    /*!
     * True when the provider's metadata is known and offers the device authorization grant
     * (`device_authorization_endpoint`, RFC 8628 §4). Known after a restore, a sign-in, or once a
     * browser sign-in has discovered the provider (e.g. when browserLaunchFailed() is emitted).
     * Offer signInWithDeviceCode() to the user only then.
     */
    bool isDeviceSignInAvailable() const;

    // ---- the session -----------------------------------------------------------------------
    /*!
     * Reads the stored session of account() and the provider metadata remembered with it: no
     * discovery, no browser. Ends in signedIn(), signInRequired(), or storageFailed() with the
     * state kept (a keychain that is locked or unavailable is not "signed out").
     */
    void restore();
    /*!
     * The browser sign-in for account() (a new sign-in for it), its adoption and its save.
     * \a extraScopes asks for more than the configuration's scopes (incremental consent, e.g.
     * Error::requiredScopes() of an InsufficientScope answer: a refresh can only narrow, RFC 6749
     * §6). \a acrValues / \a maxAge (seconds, -1 = none) ask for a step-up (RFC 9470 §4): pass
     * Error::requiredAcrValues() / requiredMaxAge() of a StepUpRequired answer.
     */
    void signIn(const QStringList &extraScopes = {}, const QStringList &acrValues = {}, int maxAge = -1);
    /*!
     * Signs in for account() with the device authorization grant (RFC 8628; see DeviceSignIn):
     * for machines where no browser can reach a loopback port (SSH, WSL, containers). The user
     * signs in on another device: show userCode() and verificationUri() when userCodeChanged()
     * is emitted. Never chosen by the client itself (RFC 8628 §5.4): call it when the user
     * asks, e.g. after browserLaunchFailed(). A browser sign-in in progress is replaced (without
     * failed()). Fails with DeviceFlowNotSupported when the provider does not offer the grant.
     * \a extraScopes as for signIn().
     */
    void signInWithDeviceCode(const QStringList &extraScopes = {});
    /// Stops a sign-in in progress (browser or device code): failed() with
    /// Error::Code::Cancelled; the state goes back to SignedIn if it was, else SignInRequired.
    void cancelSignIn();
    /*!
     * Revokes at the provider where possible, then removes the stored session: signedOut().
     * With SignOutScope::ProviderSession, and only after that local sign-out (which stands
     * whatever follows), the browser is sent to the provider's end_session_endpoint with the
     * session's ID token as id_token_hint (kept in memory only) and comes back to a loopback
     * post_logout_redirect_uri: providerSessionEnded(), or failed() with the reason
     * (EndSessionNotSupported, StateMismatch, Timeout, BrowserLaunchFailed, …).
     */
    void signOut(SignOutScope scope = SignOutScope::Application);
    /// Uses another stored account (or a new one: then signInRequired()). Restores it.
    void switchAccount(const QString &account);

    /// A fresh access token for \a resource, for other transports (WebSocket, gRPC). The
    /// callback contract of Session::freshAccessToken().
    void freshAccessToken(const QString &resource, QObject *context, Session::TokenCallback callback);

    // ---- requests ----------------------------------------------------------------------------
    /// The API of \a resource (an RFC 8707 resource indicator, "" for the provider's own token)
    /// lives under \a locations (scheme, host, port, path prefix). Its token goes there and
    /// nowhere else.
    void addApi(const QString &resource, const QList<QUrl> &locations);
    /// Requests through httpClient(), with the contract of HttpClient::get() and the other
    /// HttpClient functions of the same name: the reply has sent its request already and
    /// deletes itself after Job::finished(). A StepUpRequired answer is also emitted as
    /// stepUpRequired(), a transient failure as transientError().
    ///@{
    [[nodiscard]] HttpReply *get(const QUrl &url);
    [[nodiscard]] HttpReply *get(const QNetworkRequest &request);
    [[nodiscard]] HttpReply *post(const QNetworkRequest &request, const HttpBody &body);
    [[nodiscard]] HttpReply *put(const QNetworkRequest &request, const HttpBody &body);
    [[nodiscard]] HttpReply *patch(const QNetworkRequest &request, const HttpBody &body);
    [[nodiscard]] HttpReply *deleteResource(const QNetworkRequest &request);
    [[nodiscard]] HttpReply *sendCustomRequest(const QNetworkRequest &request, const QByteArray &verb,
                                               const HttpBody &body = HttpBody());
    ///@}

    // ---- a way down ----------------------------------------------------------------------------
    /// The session of account() (null before restore()/signIn()).
    Session *session() const;
    /// The HttpClient the requests go through (a child of the client); while signed in it
    /// holds a SessionCredential for each addApi().
    HttpClient *httpClient() const;

Q_SIGNALS:
    /// state() changed to \a state.
    void stateChanged(Keyloop::Client::State state);
    /// account() changed (switchAccount()).
    void accountChanged();
    /// The user's claims changed: subject(), displayName(), email(), claims().
    void userChanged();
    /// authorizationUrl() changed to \a url (empty once the sign-in has ended).
    void authorizationUrlChanged(const QUrl &url);
    /// userCode(), verificationUri() and verificationUriComplete() changed: a device sign-in
    /// has a code to show, or it has ended (then all three are empty).
    void userCodeChanged();
    /*!
     * The browser sign-in could not open a browser (Error::Code::BrowserLaunchFailed says why).
     * It keeps waiting for the redirect: authorizationUrl() can be opened by hand. When
     * isDeviceSignInAvailable(), the app may offer signInWithDeviceCode() instead — the user
     * decides (RFC 8628 §5.4).
     */
    void browserLaunchFailed(const Keyloop::Error &error);
    /// Signed in: restored silently, or a sign-in completed and was saved.
    void signedIn();
    /// Only an interactive sign-in can help (nothing stored, the grant was rejected).
    void signInRequired();
    /// A sign-in or restore failed (the error says why); the state before it is kept. Also a
    /// sign-out whose provider part failed (revocation, RP-initiated logout): signed out all the same.
    void failed(const Keyloop::Error &error);
    /// New tokens were received and saved.
    void tokensRefreshed();
    /// signOut() is done: the session is no longer used, even when the revocation or its
    /// removal from the keychain failed (then failed() came first).
    void signedOut();
    /// After signOut(SignOutScope::ProviderSession): the provider redirected the browser back
    /// with this logout's state — its session has ended (RP-Initiated Logout §3).
    void providerSessionEnded();
    /// An API asked for a stronger authentication (RFC 9470): call signIn() with its values.
    void stepUpRequired(const Keyloop::Error &challenge);
    /// A transient failure (network, 5xx, 429): kept, retried later.
    void transientError(const Keyloop::Error &error);
    /// The keychain failed; tokens are used from memory where possible.
    void storageFailed(const Keyloop::Error &error);

private:
    std::unique_ptr<ClientPrivate> d;
};

} // namespace Keyloop
