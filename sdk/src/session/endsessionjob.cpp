// SPDX-License-Identifier: MIT
// EndSessionJob: OpenID Connect RP-Initiated Logout 1.0 in the browser, back to a loopback URI.
#include <keyloop/endsessionjob.h>

#include <keyloop/browserlauncher.h>
#include <keyloop/loopbackreceiver.h>

#include "core/logging_p.h"

#include <QtCore/QTimer>

namespace Keyloop {

class EndSessionJobPrivate
{
public:
    EndSessionJob *q = nullptr;
    ClientConfiguration client;
    ProviderConfiguration provider;
    QByteArray idTokenHint; // secret: sent to the provider in the browser's URL only
    QStringList uiLocales;
    std::chrono::milliseconds timeout{0};
    BrowserLauncher *launcher = nullptr;
    std::unique_ptr<SystemBrowserLauncher> defaultLauncher;

    EndSessionRequest request;
    LoopbackReceiver *receiver = nullptr;
    QTimer timer;
    bool done = false;

    void begin();
    void finish(const Error &e);
};

EndSessionJob::EndSessionJob(const ClientConfiguration &client, const ProviderConfiguration &provider,
                             const QByteArray &idTokenHint, QObject *parent)
    : Job(parent), d(new EndSessionJobPrivate)
{
    d->q = this;
    d->client = client;
    d->provider = provider;
    d->idTokenHint = idTokenHint;
    d->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(client.loginTimeout());
    d->timer.setSingleShot(true);
    connect(&d->timer, &QTimer::timeout, this, [this] {
        // Never hang: a closed tab, or a provider that does not redirect back.
        d->finish(Error(Error::Code::Timeout,
                        QStringLiteral("RP-Initiated Logout §3: the provider did not redirect back within %1 s")
                            .arg(std::chrono::duration_cast<std::chrono::seconds>(d->timeout).count())));
    });
}

EndSessionJob::~EndSessionJob()
{
    d->timer.stop();
    if (d->receiver)
        d->receiver->close();
}

void EndSessionJob::setBrowserLauncher(BrowserLauncher *launcher) { d->launcher = launcher; }
std::chrono::milliseconds EndSessionJob::timeout() const { return d->timeout; }
void EndSessionJob::setTimeout(std::chrono::milliseconds timeout) { d->timeout = timeout; }
QStringList EndSessionJob::uiLocales() const { return d->uiLocales; }
void EndSessionJob::setUiLocales(const QStringList &locales) { d->uiLocales = locales; }
EndSessionRequest EndSessionJob::request() const { return d->request; }
QUrl EndSessionJob::postLogoutRedirectUri() const { return d->request.postLogoutRedirectUri(); }

void EndSessionJob::doStart()
{
    d->begin();
}

void EndSessionJob::doCancel()
{
    qCDebug(lcAuthorization) << "end session cancelled";
    d->done = true;
    d->timer.stop();
    if (d->receiver) {
        // The browser's page says so (a no-op before the redirect).
        d->receiver->reportOutcome(Error(Error::Code::Cancelled, QStringLiteral("the sign-out was cancelled")));
        d->receiver->close();
    }
}

void EndSessionJobPrivate::begin()
{
    if (done)
        return;
    // RP-Initiated Logout §2.1: without an end_session_endpoint there is nothing to open; say so
    // before binding a port or starting a browser.
    if (provider.endSessionEndpoint().isEmpty()) {
        finish(Error(Error::Code::EndSessionNotSupported,
                     QStringLiteral("the provider has no end_session_endpoint: it does not offer RP-initiated "
                                    "logout (OpenID Connect RP-Initiated Logout 1.0 §2.1)")));
        return;
    }
    if (timeout <= std::chrono::milliseconds::zero()) {
        finish(Error(Error::Code::InvalidConfiguration, QStringLiteral("the end-session timeout must be positive")));
        return;
    }

    // RP-Initiated Logout §3 + RFC 8252 §7.3 / §8.3: the post-logout redirect URI is a loopback
    // URI, bound (loopback interfaces only) before the browser is opened. Same host, ports and
    // path as the sign-in's redirect URI, so that the one registration covers both.
    receiver = new LoopbackReceiver(q);
    receiver->setPurpose(LoopbackReceiver::Purpose::SignOut);
    receiver->setRedirectHost(client.redirectHost());
    receiver->setPorts(client.redirectPorts());
    receiver->setPath(client.redirectPath());
    if (const Error e = receiver->listen()) {
        finish(e);
        return;
    }
    Error requestError;
    request = EndSessionRequest::create(client, provider, idTokenHint, receiver->redirectUri(), &requestError, uiLocales);
    if (requestError) {
        finish(requestError);
        return;
    }
    receiver->setExpectedState(request.state());
    QObject::connect(receiver, &LoopbackReceiver::callbackReceived, q, [this](const QByteArray &) {
        // RP-Initiated Logout §3: the provider redirected to the post-logout URI with this
        // logout's state (the receiver accepts nothing else). The specification defines no other
        // parameter for this redirect, so there is nothing more to check.
        qCDebug(lcAuthorization) << "end session: the provider redirected back";
        finish(Error());
    });
    QObject::connect(receiver, &LoopbackReceiver::callbackRejected, q, [this](const Error &e) {
        // RP-Initiated Logout §2/§3: the state is the one thing that ties the redirect to this
        // logout. A redirect without it, or with another one, is not the provider's answer to
        // it: report that rather than wait for an answer that may never come.
        qCDebug(lcAuthorization) << "end session: a redirect with a wrong or missing state was refused";
        finish(e.reclassified(e.code(), QStringLiteral("RP-Initiated Logout §3: ") + e.message()));
    });
    timer.start(timeout);

    BrowserLauncher *l = launcher;
    if (!l) {
        defaultLauncher = std::make_unique<SystemBrowserLauncher>();
        l = defaultLauncher.get();
    }
    qCDebug(lcAuthorization) << "end session: opening the browser";
    // Never the URL in a log or an error: it carries the ID token (id_token_hint).
    if (const Error e = l->openUrl(request.url())) {
        finish(e);
        return;
    }
    Q_EMIT q->browserOpened();
}

void EndSessionJobPrivate::finish(const Error &e)
{
    if (done)
        return;
    done = true;
    timer.stop();
    if (e)
        qCDebug(lcAuthorization) << "end session failed:" << e.code();
    if (receiver) {
        receiver->reportOutcome(e); // the browser's page tells the truth (a no-op before the redirect)
        receiver->close();
    }
    q->emitResult(e);
}

} // namespace Keyloop
