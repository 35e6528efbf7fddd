// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/endsessionrequest.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <chrono>
#include <memory>

namespace Keyloop {

class BrowserLauncher;
class EndSessionJobPrivate;

/*!
 * \brief Ends the user's session at the provider in the browser: OpenID Connect RP-Initiated
 * Logout 1.0, with the provider sending the browser back to a loopback post_logout_redirect_uri.
 *
 * Steps: check that the provider has an `end_session_endpoint` (else EndSessionNotSupported,
 * and nothing is bound or opened) → bind a LoopbackReceiver on the client's redirect host,
 * ports and path (loopback only, like a sign-in: RFC 8252 §7.3, §8.3) → build the
 * EndSessionRequest (id_token_hint, client_id, that URI, a fresh state) → open the browser →
 * wait for the redirect → finished().
 *
 * The redirect must carry exactly this logout's `state` (RP-Initiated Logout §2, §3). A
 * redirect to the loopback path without it, or with another one, finishes the job at once with
 * StateMismatch (or MissingParameter / DuplicateParameter): nothing is accepted on the strength
 * of such a redirect, and there is nothing worth waiting for — the provider's answer carries no
 * result but "done". The browser's page after the redirect says truthfully how it ended
 * ("Signed out", or "Sign-out not confirmed").
 *
 * A browser that cannot be opened fails the job (BrowserLaunchFailed): the URL holds the ID
 * token and is never printed for copying. The job has a timeout (default: the client's
 * loginTimeout(); Error::Code::Timeout) and can be cancel()led.
 *
 * This job touches no stored session: sign out locally first (Session::signOut(), which revokes
 * and removes), keep the ID token in memory, then start this job — Client::signOut() does so
 * with SignOutScope::ProviderSession.
 *
 * \code
 * auto *logout = new Keyloop::EndSessionJob(config, provider, idToken);
 * logout->setBrowserLauncher(&launcher);             // optional; default: the system's opener
 * connect(logout, &Keyloop::Job::finished, this, [logout] {
 *     if (logout->error()) qWarning() << logout->error(); // the local sign-out stands
 * });
 * logout->start();
 * \endcode
 */
class KEYLOOP_EXPORT EndSessionJob : public Job
{
    Q_OBJECT
public:
    /// \a idTokenHint: the session's ID token (may be empty); it is sent to the provider only.
    EndSessionJob(const ClientConfiguration &client, const ProviderConfiguration &provider,
                  const QByteArray &idTokenHint, QObject *parent = nullptr);
    ~EndSessionJob() override;

    /// The browser launcher (not owned). Default: SystemBrowserLauncher (xdg-open / open / start).
    void setBrowserLauncher(BrowserLauncher *launcher);

    /// How long to wait for the provider's redirect. Default: ClientConfiguration::loginTimeout().
    std::chrono::milliseconds timeout() const;
    /// Sets timeout().
    void setTimeout(std::chrono::milliseconds timeout);

    /// `ui_locales` to send (RP-Initiated Logout §2), e.g. {"de-CH", "de"}. Default: none.
    QStringList uiLocales() const;
    /// Sets uiLocales().
    void setUiLocales(const QStringList &locales);

    /// The request sent (null before the browser is opened). Its url() holds the ID token: never log it.
    EndSessionRequest request() const;
    /// The post_logout_redirect_uri used (http://127.0.0.1:PORT/callback, …); empty before binding.
    QUrl postLogoutRedirectUri() const;

Q_SIGNALS:
    /// The browser was asked to open the end-session URL; the job waits for the redirect.
    void browserOpened();

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class EndSessionJobPrivate;
    std::unique_ptr<EndSessionJobPrivate> d;
};

} // namespace Keyloop
