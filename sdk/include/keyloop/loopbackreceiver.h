// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/redirecthost.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QUrl>

#include <chrono>
#include <memory>

namespace Keyloop {

class LoopbackReceiverPrivate;

/*!
 * \brief Receives the authorization response on a loopback redirect URI (RFC 8252 §7.3).
 *
 * The receiver binds loopback addresses only, never all interfaces (RFC 8252 §8.3), on an
 * ephemeral port by default, and must be bound with listen() \e before the browser is
 * opened. The redirect URI it answers is redirectUri(), e.g. `http://127.0.0.1:49152/callback`.
 *
 * It survives what a browser and a hostile local process may send; none of these ends,
 * blocks or hijacks the flow:
 * - other paths (favicon, …) → 404; a method other than GET → 405;
 * - a Host header that is not exactly the redirect URI's host and port (DNS rebinding) → 421;
 * - oversized or malformed requests → 400/414/431/505 (see the private HttpRequestParser);
 *   at most 16 KiB (the request head) are read from a connection, and never a body;
 * - idle and slow connections: each connection has a total deadline (connectionTimeout(),
 *   default 10 s) and at most maxConnections() (default 16) are open at once; when full,
 *   the least recently active one is dropped;
 * - a callback with a missing, repeated or wrong `state` (RFC 6749 §10.12) → 400 page; the
 *   receiver keeps waiting (and tells the app with callbackRejected()).
 *
 * The one request on the right path with exactly one `state` equal to expectedState()
 * (compared in constant time) is accepted: the listener closes, all other connections are
 * dropped and callbackReceived() is emitted exactly once. The browser's answer is \e held
 * until the app knows how the sign-in ended (code exchange, ID token validation) and says so
 * with reportOutcome(): then the browser gets the success page, or a failure page saying in
 * plain words what went wrong (or a 303 to the app's own page, see setSuccessRedirectUrl()).
 * Without an outcome within outcomeTimeout() (default 10 s), or when the receiver is closed
 * or destroyed first, it gets a neutral "return to the application" page: the page never
 * claims a success that has not happened. No page shows a token, code, state or anything
 * else from the request or the provider. Every answer carries `Cache-Control: no-store`,
 * `Referrer-Policy: no-referrer` and `Content-Security-Policy: default-src 'none'`, and
 * closes the connection.
 *
 * The query is handed over raw (undecoded) for AuthorizationResponse to parse. Logs name
 * events only, never the query or the state.
 *
 * With setStartPageEnabled(true), the receiver also serves a \e start page for pushed
 * authorization requests (RFC 9126): startPageUrl(), `http://127.0.0.1:PORT/start/<token>`,
 * where the token is 256 bits from the CSPRNG, new at every listen(). A `GET` of exactly that
 * path is held and startPageRequested() is emitted; the app pushes the request afresh and
 * answers with redirectStartPage() (a `302 Found` to the authorization URL with the new
 * request_uri) or failStartPage() (a page saying why). So a URL shown for copying keeps
 * working for the whole sign-in although each request_uri lives for seconds (RFC 9126 §2.2,
 * §4: it is used once). The start page refuses what the callback refuses (another Host,
 * another method: 405); a missing or wrong token is the 404 of any unknown path, so only who
 * was given the URL can make the app push. At most 4 requests wait at once (more: 503), each
 * at most outcomeTimeout() (then: 504 and a page saying so). Once the callback was accepted, or
 * the receiver closed, waiting ones get a 410 page, and the closed listener answers nothing.
 * The start page is not part of the redirect URI: the provider never sees it.
 *
 * \code
 * auto *receiver = new Keyloop::LoopbackReceiver(this);
 * receiver->setExpectedState(state);
 * if (const Keyloop::Error error = receiver->listen())
 *     return fail(error);
 * connect(receiver, &Keyloop::LoopbackReceiver::callbackReceived, this, &Flow::onCallback);
 * request.setRedirectUri(receiver->redirectUri());
 * launcher->openUrl(request.url());
 * // … later, once the code is exchanged and the ID token validated (or that failed):
 * receiver->reportOutcome(error); // null error: "Signed in"
 * \endcode
 */
class KEYLOOP_EXPORT LoopbackReceiver : public QObject
{
    Q_OBJECT
public:
    /// The host of the redirect URI. Providers disagree on which they allow.
    /// The redirect URI's host (see keyloop/redirecthost.h): 127.0.0.1 (default), localhost
    /// (bound on 127.0.0.1 and [::1] on the same port, or 127.0.0.1 alone without IPv6 loopback)
    /// or [::1]. One enum for the whole SDK, shared with ClientConfiguration.
    using RedirectHost = Keyloop::RedirectHost;

    /// What the browser's pages speak of. The receiver works the same either way.
    enum class Purpose {
        SignIn,  ///< default: the redirect of an authorization request ("Signed in", "Sign-in failed")
        SignOut, ///< the redirect after an RP-initiated logout ("Signed out", "Sign-out not confirmed")
    };
    Q_ENUM(Purpose)

    /// A receiver that is not listening yet.
    explicit LoopbackReceiver(QObject *parent = nullptr);
    ~LoopbackReceiver() override;

    /// The redirect URI's host and the address(es) bound. Default RedirectHost::Ipv4.
    RedirectHost redirectHost() const;
    /// Sets redirectHost().
    void setRedirectHost(RedirectHost host);

    /// Ports tried in order by listen(); the first one that binds is used. Empty (the
    /// default) means an ephemeral port chosen by the OS. A 0 in the list means ephemeral too.
    QList<quint16> ports() const;
    /// Sets ports().
    void setPorts(const QList<quint16> &ports);

    /// Default Purpose::SignIn.
    Purpose purpose() const;
    /// Sets purpose().
    void setPurpose(Purpose purpose);

    /// The redirect URI's path, matched exactly (byte for byte, encoded). Default "/callback".
    QString path() const;
    /// Sets path().
    void setPath(const QString &path);

    /// The `state` the callback must carry (RFC 6749 §10.12). It may be set after listen()
    /// (the authorization request, and so its state, is built from redirectUri()); while it
    /// is empty, every callback is rejected.
    QByteArray expectedState() const;
    /// Sets expectedState().
    void setExpectedState(const QByteArray &state);

    /// When set, a successful outcome (reportOutcome() with a null error) is answered with
    /// `303 See Other` to this absolute URL instead of the built-in success page.
    QUrl successRedirectUrl() const;
    /// Sets successRedirectUrl().
    void setSuccessRedirectUrl(const QUrl &url);
    /// Same for a failed outcome (reportOutcome() with an error). The neutral page after
    /// outcomeTimeout() is never redirected.
    QUrl failureRedirectUrl() const;
    /// Sets failureRedirectUrl().
    void setFailureRedirectUrl(const QUrl &url);

    /// Total time one connection may take to send its request (slow-loris defence). Default 10 s.
    std::chrono::milliseconds connectionTimeout() const;
    /// Sets connectionTimeout().
    void setConnectionTimeout(std::chrono::milliseconds timeout);

    /// How long the browser's answer to the accepted callback waits for reportOutcome();
    /// after it, the browser gets the neutral "return to the application" page. Default 10 s.
    /// It also bounds a start page request's wait for redirectStartPage() / failStartPage().
    std::chrono::milliseconds outcomeTimeout() const;
    /// Sets outcomeTimeout().
    void setOutcomeTimeout(std::chrono::milliseconds timeout);

    /// Concurrent connections kept open; when exceeded, the least recently active is dropped.
    /// Default 16.
    int maxConnections() const;
    /// Sets maxConnections() (at least 1).
    void setMaxConnections(int count);

    /*!
     * Binds synchronously. Fails with Error::Code::ListenFailed if no port binds, and with
     * Error::Code::InvalidConfiguration if path() is not an absolute path without query or
     * fragment, or a page redirect URL is not absolute.
     * Calling listen() while listening fails too.
     */
    Error listen();
    /// True between a successful listen() and the accepted callback or close().
    bool isListening() const;
    /// The bound port, 0 when not listening.
    quint16 port() const;
    /// The redirect URI to send in the authorization request; empty when not listening.
    QUrl redirectUri() const;

    /*!
     * Answers the browser's held request with the outcome of the sign-in: the success page
     * when \a error is null, else a failure page with one plain sentence chosen by the error's
     * code (e.g. "The request was declined" for access_denied) — never error.message(), the
     * provider's error_description, or any token, code or state. A 303 instead when
     * successRedirectUrl() / failureRedirectUrl() is set. No effect when no answer is held
     * (no callback yet, already answered, timed out, or the browser went away).
     */
    void reportOutcome(const Keyloop::Error &error);

    /// Stops listening and drops every open connection; a held answer gets the neutral page.
    /// No signal is emitted afterwards.
    void close();

    /// Whether listen() also serves the start page (see the class description). Default false.
    bool isStartPageEnabled() const;
    /// Sets isStartPageEnabled(); takes effect at the next listen().
    void setStartPageEnabled(bool enabled);
    /*!
     * The start page's URL, `http://127.0.0.1:PORT/start/<token>` (the redirect URI's host and
     * port): give it to the user to copy when the browser does not open. The token is its only
     * protection against other local users: show it, never log it. Empty unless the start page
     * is enabled and the receiver is listening.
     */
    QUrl startPageUrl() const;
    /*!
     * Answers the longest-waiting start page request with `302 Found` to \a location (the
     * authorization URL with a fresh request_uri, AuthorizationRequest::urlWithRequestUri()).
     * No effect when none waits (the browser went away: push results are interchangeable, so
     * the next waiting request gets the next answer). \a location must be an absolute http(s)
     * URL; otherwise the request gets the failure page.
     */
    void redirectStartPage(const QUrl &location);
    /*!
     * Answers the longest-waiting start page request with `502 Bad Gateway` and a page saying
     * in plain words why the sign-in could not start (chosen by \a error's code, like
     * reportOutcome()'s, never its message), and that reloading may help when \a error
     * isTransient(). The receiver keeps listening: the sign-in goes on. No effect when none waits.
     */
    void failStartPage(const Keyloop::Error &error);

Q_SIGNALS:
    /*!
     * The accepted callback's raw (undecoded) query. Emitted exactly once; the listener is
     * already closed, and the browser waits for reportOutcome(). It is safe to delete the
     * receiver from a slot connected to this signal (the browser then gets the neutral page).
     */
    void callbackReceived(const QByteArray &rawQuery);
    /*!
     * A request on the redirect path was refused because its `state` is missing (\a error is
     * MissingParameter), repeated (DuplicateParameter) or not expectedState() (StateMismatch).
     * The browser got the 400 page and the receiver keeps listening: a sign-in ignores this (a
     * forged callback must not end it); a flow with nothing to protect by waiting (logout) may
     * stop. \a error names the rule, never the value. Deleting the receiver from a connected
     * slot is safe.
     */
    void callbackRejected(const Keyloop::Error &error);
    /*!
     * A browser asked for the start page with the right token; its answer waits. Answer each
     * emission with redirectStartPage() or failStartPage() (in any order: answers go to the
     * longest-waiting request). Deleting the receiver from a connected slot is safe (the
     * waiting browsers get the "ended" page).
     */
    void startPageRequested();

private:
    friend class LoopbackReceiverPrivate;
    std::unique_ptr<LoopbackReceiverPrivate> d;
};

} // namespace Keyloop
