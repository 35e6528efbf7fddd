// SPDX-License-Identifier: MIT
// signin-widget — sign in in the desktop's default browser with Keyloop, keep the session in the
// OS keychain, and print who signed in. docs/getting-started.md walks through this file.
//
//   signin-widget --issuer https://login.example.com --client-id my-desktop-app
//                 [--scope "openid profile email"] [--resource https://api.example.com]
//                 [--ca-file PEM] [--allow-insecure-loopback] [--app-id org.example.MyApp] [--account NAME]
//
// A QApplication with a small status window when Qt Widgets is available, else a QGuiApplication
// that reports on stderr. The browser is opened through QDesktopServices
// (Keyloop::DesktopServicesBrowserLauncher), which needs a GUI application.
//
// Exit codes: 0 signed in (and stored, unless the provider issued no refresh token);
// 1 usage, configuration or sign-in error; 4 signed in, but the OS keychain is unavailable
// (the session was not stored anywhere); 130 cancelled.

#include "examplesettings.h"

#include <keyloop/accountindex.h>
#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/gui/desktopservicesbrowserlauncher.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessionrecord.h>
#include <keyloop/signin.h>

#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>

#include <cstdio>
#include <functional>

#if KEYLOOP_EXAMPLE_WIDGETS
#    include <QtWidgets/QApplication>
#    include <QtWidgets/QLabel>
#    include <QtWidgets/QLineEdit>
#    include <QtWidgets/QPushButton>
#    include <QtWidgets/QVBoxLayout>
#    include <QtWidgets/QWidget>
using Application = QApplication;
#else
#    include <QtGui/QGuiApplication>
using Application = QGuiApplication;
#endif

namespace {

// What the user sees. With Qt Widgets: a window with a status line, the sign-in URL (to copy
// when no browser opens) and a Cancel button. Without: the same on stderr.
class StatusView
{
public:
    explicit StatusView(std::function<void()> cancel)
    {
#if KEYLOOP_EXAMPLE_WIDGETS
        m_window.setWindowTitle(QStringLiteral("Keyloop sign-in example"));
        auto *layout = new QVBoxLayout(&m_window);
        layout->addWidget(&m_status);
        m_url.setReadOnly(true);
        m_url.setPlaceholderText(QStringLiteral("The sign-in address appears here."));
        layout->addWidget(&m_url);
        auto *cancelButton = new QPushButton(QStringLiteral("Cancel"), &m_window);
        layout->addWidget(cancelButton);
        QObject::connect(cancelButton, &QPushButton::clicked, cancelButton, cancel);
        // Closing the window cancels the sign-in instead of leaving it running.
        QApplication::setQuitOnLastWindowClosed(false);
        QObject::connect(qApp, &QGuiApplication::lastWindowClosed, qApp, cancel);
        m_window.resize(520, 120);
        m_window.show();
#else
        Q_UNUSED(cancel);
#endif
    }

    void showStatus(const QString &text)
    {
#if KEYLOOP_EXAMPLE_WIDGETS
        m_status.setText(text);
#endif
        std::fprintf(stderr, "%s\n", qPrintable(text));
    }

    // The authorization URL is single-use and carries state and the PKCE challenge: show it to
    // the user, never write it to a log.
    void showUrl(const QUrl &url)
    {
#if KEYLOOP_EXAMPLE_WIDGETS
        m_url.setText(url.toString(QUrl::FullyEncoded));
        m_url.setCursorPosition(0);
#else
        std::fprintf(stderr, "If no browser opens, visit:\n  %s\n", url.toString(QUrl::FullyEncoded).toUtf8().constData());
#endif
    }

private:
#if KEYLOOP_EXAMPLE_WIDGETS
    QWidget m_window;
    QLabel m_status{&m_window};
    QLineEdit m_url{&m_window};
#endif
};

//! [store]
// Keeps the signed-in session in the OS keychain, so that the next start needs no browser.
void storeSession(Keyloop::SignIn *signIn, Keyloop::TokenStore *store, Keyloop::AccountIndex *index,
                  QNetworkAccessManager *nam, const ExampleSettings &settings, StatusView *view)
{
    auto *session = new Keyloop::Session(signIn->clientConfiguration(), signIn->providerConfiguration(), store, nam, qApp);
    session->setAccount(settings.account);
    // The access token was issued for signIn->resource(): the first configured API, if any.
    Keyloop::SessionJob *job = session->adoptSignIn(signIn->tokenResponse(), signIn->idTokenClaims(), signIn->resource());
    QObject::connect(job, &Keyloop::Job::finished, qApp, [job, session, index, view] {
        const Keyloop::Error error = job->error();
        if (error.code() == Keyloop::Error::Code::StorageUnavailable) {
            // No secret service, a locked keyring or denied access; nothing was written anywhere.
            // The session still works in memory for this run. A real app asks the user whether to
            // go on without remembering the sign-in (then a MemoryTokenStore is the honest choice).
            view->showStatus(QStringLiteral("Signed in, but the OS keychain is unavailable: %1").arg(error.message()));
            QCoreApplication::exit(4);
        } else if (error) {
            view->showStatus(QStringLiteral("Signed in, but the session could not be saved: %1").arg(error.message()));
            QCoreApplication::exit(4);
        } else if (!session->isPersistent()) {
            view->showStatus(QStringLiteral("Signed in. The provider issued no refresh token: sign in again next time."));
            QCoreApplication::exit(0);
        } else {
            // List the account (no secrets) so the next start can offer it. A long-running app
            // would rather call session->setAccountIndex(index), which also removes the entry on
            // sign-out; this program ends right away, so it waits for the write itself.
            const Keyloop::SessionRecord record = session->record();
            const Keyloop::AccountIndexEntry entry{record.issuer(), record.clientId(), record.account(),
                                                   record.subject(), record.displayName(), record.updatedAt()};
            index->upsert(entry, qApp, [view](const Keyloop::Error &indexError) {
                view->showStatus(QStringLiteral("Signed in; the session is stored in the OS keychain."));
                if (indexError)
                    view->showStatus(QStringLiteral("(The account list could not be updated: %1)").arg(indexError.message()));
                QCoreApplication::exit(0);
            });
        }
    });
    job->start();
}
//! [store]

} // namespace

int main(int argc, char **argv)
{
    Application app(argc, argv);
    ExampleSettings settings;
    if (const Keyloop::Error error = parseExampleSettings(
            app, QStringLiteral("Sign in in the desktop's browser and store the session in the OS keychain."), &settings)) {
        std::fprintf(stderr, "signin-widget: %s\n", qPrintable(error.message()));
        return 1;
    }

    //! [signin]
    QNetworkAccessManager nam; // the app's own: its proxy settings apply to the provider's traffic
    Keyloop::DesktopServicesBrowserLauncher launcher;
    Keyloop::KeychainTokenStore store(settings.appId); // service name = the application id
    Keyloop::AccountIndex index(settings.appId);

    auto *signIn = new Keyloop::SignIn(settings.client, &nam, &app);
    signIn->setBrowserLauncher(&launcher); // QDesktopServices: the desktop's default browser

    StatusView view([signIn = QPointer<Keyloop::SignIn>(signIn)] {
        if (signIn)
            signIn->cancel(); // finished() follows, with Error::Code::Cancelled
    });
    view.showStatus(QStringLiteral("Opening your browser to sign in…"));

    QObject::connect(signIn, &Keyloop::SignIn::authorizationUrlReady, &app,
                     [&view](const QUrl &url) { view.showUrl(url); });
    QObject::connect(signIn, &Keyloop::SignIn::browserLaunchFailed, &app, [&view](const Keyloop::Error &error) {
        // Not fatal: the sign-in keeps waiting; the user can open the URL by hand.
        view.showStatus(QStringLiteral("No browser opened (%1). Open the address below.").arg(error.message()));
    });
    // Like every Keyloop job, the sign-in deletes itself after finished(): read it in this slot.
    QObject::connect(signIn, &Keyloop::Job::finished, &app, [&, signIn] {
        if (const Keyloop::Error error = signIn->error()) {
            view.showStatus(QStringLiteral("Sign-in failed: %1").arg(error.message()));
            QCoreApplication::exit(error.code() == Keyloop::Error::Code::Cancelled ? 130 : 1);
            return;
        }
        const Keyloop::IdTokenClaims claims = signIn->idTokenClaims(); // null without the openid scope
        std::printf("Signed in as %s\n", claims.isNull() ? "(no ID token)" : qPrintable(claims.subject()));
        std::fflush(stdout);
        storeSession(signIn, &store, &index, &nam, settings, &view);
    });
    signIn->start();
    //! [signin]

    return app.exec();
}
