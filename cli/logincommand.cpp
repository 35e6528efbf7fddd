// SPDX-License-Identifier: MIT
// keyloop login — sign in in the system browser and store the session in the OS keychain.
#include "commands.h"
#include "sessionsupport.h"
#include "terminaltext.h"

#include <keyloop/browserlauncher.h>
#include <keyloop/session.h>
#include <keyloop/signin.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>

#include <cstdio>

namespace KeyloopCli {
namespace {

class LoginCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("login"); }
    QString summary() const override
    {
        return QStringLiteral("Sign in in the system browser and store the session in the OS keychain");
    }

    void addOptions(QCommandLineParser &p) override
    {
        addClientOptions(p, ClientCommand::Login);
        addRedirectOptions(p);
        p.addOption({QStringLiteral("browser-command"),
                     QStringLiteral("Run CMD (split like a shell does) with the authorization URL appended, instead of "
                                    "opening the system browser (KEYLOOP_BROWSER_COMMAND)."),
                     QStringLiteral("CMD")});
        p.addOption({QStringLiteral("timeout"),
                     QStringLiteral("Give up after SECONDS (default 300)."), QStringLiteral("SECONDS")});
        p.addOption({QStringLiteral("no-store"),
                     QStringLiteral("Do not store the session: nothing is kept after this command.")});
        p.addOption({QStringLiteral("par"),
                     QStringLiteral("Push the authorization request to the provider first (RFC 9126): the browser's "
                                    "URL then carries only client_id and a short-lived request_uri. Needs a provider "
                                    "with a pushed_authorization_request_endpoint; used anyway when the provider "
                                    "requires it.")});
    }

    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Prints who signed in and when the access token expires; never prints a token.\n"
            "The authorization URL is printed on stderr, so it can be opened by hand when no browser opens.\n"
            "With pushed authorization requests (--par, or a provider that requires them) that URL is a\n"
            "start page on the loopback listener: it pushes the request again at every visit, so it works\n"
            "until the sign-in ends, and only on this machine.\n"
            "The session, and the settings given here, are stored in the OS keychain under --app-id;\n"
            "`keyloop token`, `status` and `logout` then need nothing beyond --account.\n"
            "\nExample:\n"
            "  keyloop login --issuer https://login.example.com --client-id my-app --resource https://api.example.com\n");
    }

    void start() override
    {
        const QCommandLineParser &p = parser();
        m_store = !p.isSet(QStringLiteral("no-store"));
        m_account = accountSetting(p);
        if (const Keyloop::Error e = resolveSettings(p, ClientCommand::Login, RememberedSettings(), &m_settings))
            return fail(e);
        Keyloop::ClientConfiguration config;
        if (const Keyloop::Error e = buildClientConfiguration(m_settings, &config))
            return fail(e);

        if (const QString problem = applyRedirectOptions(p, &config); !problem.isEmpty())
            return fail(ExitUsage, problem);

        const QString timeout = p.value(QStringLiteral("timeout"));
        if (!timeout.isEmpty()) {
            bool ok = false;
            const int seconds = timeout.toInt(&ok);
            if (!ok || seconds <= 0)
                return fail(ExitUsage, QStringLiteral("--timeout needs a positive number of seconds"));
            config.setLoginTimeout(std::chrono::seconds(seconds));
        }

        if (p.isSet(QStringLiteral("par")))
            config.setPushedAuthorizationRequests(Keyloop::ClientConfiguration::PushedAuthorizationRequests::Always);

        const QString browserCommand = setting(p, QStringLiteral("browser-command"), "KEYLOOP_BROWSER_COMMAND");
        if (!browserCommand.isEmpty()) {
            m_commandLauncher = std::make_unique<Keyloop::CommandBrowserLauncher>(browserCommand);
            if (m_commandLauncher->program().isEmpty())
                return fail(ExitUsage, QStringLiteral("--browser-command is empty"));
        }

        m_signIn = new Keyloop::SignIn(config, networkAccessManager(), this);
        if (m_commandLauncher)
            m_signIn->setBrowserLauncher(m_commandLauncher.get());
        connect(m_signIn, &Keyloop::SignIn::authorizationUrlReady, this, [](const QUrl &url) {
            std::fprintf(stderr, "Opening the browser to sign in. If it does not open, visit:\n\n  %s\n\n",
                         url.toString(QUrl::FullyEncoded).toUtf8().constData());
        });
        connect(m_signIn, &Keyloop::SignIn::browserLaunchFailed, this, [](const Keyloop::Error &e) {
            std::fprintf(stderr, "Could not open a browser (%s). Open the URL above by hand.\n",
                         qPrintable(e.message()));
        });
        // Its results are printed after the session is saved: keep it until the command ends.
        m_signIn->setAutoDelete(false);
        connect(m_signIn, &Keyloop::Job::finished, this, [this] { onSignedIn(); });
        m_signIn->start();
    }

private:
    void onSignedIn()
    {
        if (const Keyloop::Error e = m_signIn->error())
            return fail(e, QStringLiteral("sign-in failed"));
        const Keyloop::TokenResponse tokens = m_signIn->tokenResponse();
        if (!m_store) {
            printSignedIn(QStringLiteral("The session was not stored (--no-store)."));
            return succeed();
        }
        m_settings.provider = QJsonDocument::fromJson(m_signIn->providerConfiguration().toJson()).object();
        m_session = new Keyloop::Session(m_signIn->clientConfiguration(), m_signIn->providerConfiguration(),
                                         storeFor(appId(), this), networkAccessManager(), this);
        watchSession(m_session);
        m_session->setAccount(m_account);
        m_session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        Keyloop::SessionJob *job = m_session->adoptSignIn(tokens, m_signIn->idTokenClaims().claims(), m_signIn->resource(),
                                                          m_settings.toJson());
        connect(job, &Keyloop::Job::finished, this, [this, job] {
            if (const Keyloop::Error e = job->error()) {
                // Never pretend the session was saved.
                return fail(e, QStringLiteral("signed in, but the session could not be stored in the OS keychain"));
            }
            if (!m_session->isPersistent()) {
                printSignedIn(QStringLiteral("The provider issued no refresh token: the session was not stored; "
                                             "sign in again next time."));
                return succeed();
            }
            printSignedIn(QStringLiteral("Session stored in the OS keychain (app id %1%2).")
                              .arg(appId(), m_account.isEmpty() ? QString() : QStringLiteral(", account ") + m_account));
            succeed();
        });
        job->start();
    }

    void printSignedIn(const QString &storage) const
    {
        const Keyloop::IdTokenClaims claims = m_signIn->idTokenClaims();
        const Keyloop::TokenResponse tokens = m_signIn->tokenResponse();
        QString who;
        if (!claims.isNull()) {
            // The name and sub come from the provider (and the user's profile) as they are:
            // only their printable characters reach the terminal.
            const QString display = printableText(!claims.name().isEmpty() ? claims.name()
                : !claims.preferredUsername().isEmpty() ? claims.preferredUsername() : claims.email());
            const QString subject = printableText(claims.subject());
            who = display.isEmpty() ? subject : QStringLiteral("%1 (sub %2)").arg(display, subject);
        } else {
            who = QStringLiteral("an OAuth 2.0 account (no ID token)");
        }
        std::printf("Signed in as %s at %s\n", qPrintable(who), qPrintable(m_settings.issuer));
        if (tokens.expiresAt().isValid()) {
            const qint64 in = QDateTime::currentDateTimeUtc().secsTo(tokens.expiresAt());
            std::printf("Access token expires at %s (in %lld s)\n",
                        qPrintable(tokens.expiresAt().toUTC().toString(Qt::ISODate)), static_cast<long long>(in));
        } else {
            std::printf("Access token expiry not given by the provider\n");
        }
        std::printf("%s\n", qPrintable(storage));
    }

    bool m_store = true;
    QString m_account;
    RememberedSettings m_settings;
    std::unique_ptr<Keyloop::CommandBrowserLauncher> m_commandLauncher;
    Keyloop::SignIn *m_signIn = nullptr;
    Keyloop::Session *m_session = nullptr;
};

} // namespace

std::unique_ptr<Command> makeLoginCommand() { return std::make_unique<LoginCommand>(); }

} // namespace KeyloopCli
