// SPDX-License-Identifier: MIT
// keyloop login — sign in in the system browser (or, with --device, on another device: RFC 8628)
// and store the session in the OS keychain.
#include "commands.h"
#include "sessionsupport.h"
#include "terminalqr.h"
#include "terminaltext.h"

#include <keyloop/browserlauncher.h>
#include <keyloop/devicesignin.h>
#include <keyloop/session.h>
#include <keyloop/signin.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QTimer>

#include <cstdio>

namespace KeyloopCli {
namespace {

// A display a browser could open on (X11 or Wayland). Without one, a browser sign-in started
// here cannot work unless the URL is copied to another machine: suggest --device instead.
bool hasDisplay()
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
#else
    return true;
#endif
}

class LoginCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("login"); }
    QString summary() const override
    {
        return QStringLiteral("Sign in in the system browser (or with --device, on another device) and store the session in the OS keychain");
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
        p.addOption({QStringLiteral("device"),
                     QStringLiteral("Sign in on another device with a code (RFC 8628 device flow), for SSH sessions, "
                                    "containers and machines without a browser. Needs a provider that offers it.")});
        p.addOption({QStringLiteral("dpop"),
                     QStringLiteral("Bind the tokens to a key pair kept in the OS keychain with the session (DPoP, "
                                    "RFC 9449; KEYLOOP_DPOP=1): a copied token is useless without the key. Use "
                                    "`keyloop call` for API requests; `keyloop token` still prints the token. Needs a "
                                    "provider and APIs that support DPoP.")});
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
            "With --device, no browser is opened here: stderr shows an address and a code (and a QR code of\n"
            "the address with the code in it) to use on a phone or another computer; the command waits until\n"
            "the sign-in is approved there, declined (exit 3), or the code expires (exit 3).\n"
            "With --dpop, the provider binds the tokens to a key made for this session; the private key is\n"
            "stored in the same keychain item as the refresh token and deleted at logout, and `keyloop call`\n"
            "sends a new proof with every request (`keyloop token --json` shows the token_type DPoP).\n"
            "The session, and the settings given here, are stored in the OS keychain under --app-id;\n"
            "`keyloop token`, `status` and `logout` then need nothing beyond --account.\n"
            "\nExample:\n"
            "  keyloop login --issuer https://login.example.com --client-id my-app --resource https://api.example.com\n"
            "  keyloop login --device --issuer https://login.example.com --client-id my-app\n");
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

        const bool device = p.isSet(QStringLiteral("device"));
        if (device) {
            // RFC 8628: nothing listens on this machine and no browser opens here.
            for (const char *option : {"browser-command", "redirect-host", "port", "par"}) {
                if (p.isSet(QLatin1String(option)))
                    return fail(ExitUsage, QStringLiteral("--%1 does not apply to --device (no browser opens on this machine)")
                                               .arg(QLatin1String(option)));
            }
        } else if (const QString problem = applyRedirectOptions(p, &config); !problem.isEmpty()) {
            return fail(ExitUsage, problem);
        }

        const QString timeout = p.value(QStringLiteral("timeout"));
        if (!timeout.isEmpty()) {
            bool ok = false;
            const int seconds = timeout.toInt(&ok);
            if (!ok || seconds <= 0)
                return fail(ExitUsage, QStringLiteral("--timeout needs a positive number of seconds"));
            config.setLoginTimeout(std::chrono::seconds(seconds));
            m_timeout = std::chrono::seconds(seconds);
        }

        if (device)
            return startDeviceSignIn(config);
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
        const bool withoutDisplay = !m_commandLauncher && !hasDisplay();
        connect(m_signIn, &Keyloop::SignIn::authorizationUrlReady, this, [this, withoutDisplay](const QUrl &url) {
            std::fprintf(stderr, "Opening the browser to sign in. If it does not open, visit:\n\n  %s\n\n",
                         url.toString(QUrl::FullyEncoded).toUtf8().constData());
            if (withoutDisplay && offersDevice(m_signIn->providerConfiguration()))
                std::fprintf(stderr, "No display found (DISPLAY and WAYLAND_DISPLAY are not set). If no browser can "
                                     "open here, press Ctrl-C and sign in on another device with `keyloop login "
                                     "--device`.\n\n");
        });
        connect(m_signIn, &Keyloop::SignIn::browserLaunchFailed, this, [this](const Keyloop::Error &e) {
            std::fprintf(stderr, "Could not open a browser (%s). Open the URL above by hand", qPrintable(e.message()));
            // RFC 8628 §5.4: the user chooses the device flow; it is only suggested.
            if (offersDevice(m_signIn->providerConfiguration()))
                std::fprintf(stderr, ", or press Ctrl-C and sign in on another device with `keyloop login --device`");
            std::fprintf(stderr, ".\n");
        });
        // Its results are printed after the session is saved: keep it until the command ends.
        m_signIn->setAutoDelete(false);
        connect(m_signIn, &Keyloop::Job::finished, this, [this] {
            onSignedIn(m_signIn->error(), {m_signIn->clientConfiguration(), m_signIn->providerConfiguration(),
                                           m_signIn->tokenResponse(), m_signIn->idTokenClaims(), m_signIn->resource()});
        });
        m_signIn->start();
    }

private:
    /// What a completed sign-in (browser or device) hands over.
    struct SignInResult
    {
        Keyloop::ClientConfiguration client;
        Keyloop::ProviderConfiguration provider;
        Keyloop::TokenResponse tokens;
        Keyloop::IdTokenClaims claims;
        QString resource;
    };

    static bool offersDevice(const Keyloop::ProviderConfiguration &provider)
    {
        return !provider.deviceAuthorizationEndpoint().isEmpty();
    }

    void startDeviceSignIn(const Keyloop::ClientConfiguration &config)
    {
        m_deviceSignIn = new Keyloop::DeviceSignIn(config, networkAccessManager(), this);
        connect(m_deviceSignIn, &Keyloop::DeviceSignIn::userCodeReady, this,
                [this](const QString &userCode, const QUrl &uri, const QUrl &complete) {
                    printUserCode(userCode, uri, complete, m_deviceSignIn->expiresAt());
                });
        connect(m_deviceSignIn, &Keyloop::DeviceSignIn::pollIntervalChanged, this, [](std::chrono::seconds interval) {
            std::fprintf(stderr, "The provider asked to check less often: every %lld s now.\n",
                         static_cast<long long>(interval.count()));
        });
        m_deviceSignIn->setAutoDelete(false);
        connect(m_deviceSignIn, &Keyloop::Job::finished, this, [this] {
            m_deviceTimeout.stop();
            const Keyloop::Error e = m_deviceSignIn->error();
            if (e.code() == Keyloop::Error::Code::DeviceFlowNotSupported)
                return fail(e, QStringLiteral("sign-in with a device code is not available; sign in without --device"));
            onSignedIn(e, {m_deviceSignIn->clientConfiguration(), m_deviceSignIn->providerConfiguration(),
                           m_deviceSignIn->tokenResponse(), m_deviceSignIn->idTokenClaims(), m_deviceSignIn->resource()});
        });
        if (m_timeout.count() > 0) {
            m_deviceTimeout.setSingleShot(true);
            connect(&m_deviceTimeout, &QTimer::timeout, this, [this] {
                m_deviceSignIn->disconnect(this);
                m_deviceSignIn->cancel();
                fail(Keyloop::Error(Keyloop::Error::Code::SignInTimeout,
                                    QStringLiteral("the sign-in was not approved within %1 s").arg(m_timeout.count())),
                     QStringLiteral("sign-in failed"));
            });
            m_deviceTimeout.start(std::chrono::duration_cast<std::chrono::milliseconds>(m_timeout));
        }
        m_deviceSignIn->start();
    }

    // RFC 8628 §3.3: the address and the code, as text; §3.3.1: the complete URI as a QR code
    // for a phone, with the code still shown. All on stderr: stdout stays for results.
    static void printUserCode(const QString &userCode, const QUrl &uri, const QUrl &complete, const QDateTime &expiresAt)
    {
        const QByteArray code = printableText(userCode).toUtf8();
        std::fprintf(stderr, "To sign in, open this address on your phone or another computer:\n\n  %s\n\n"
                             "and enter the code:\n\n  %s\n\n",
                     uri.toString(QUrl::FullyEncoded).toUtf8().constData(), code.constData());
        if (!complete.isEmpty()) {
            const QByteArray completeText = complete.toString(QUrl::FullyEncoded).toUtf8();
            const QString qr = qrCodeForTerminal(completeText);
            if (!qr.isEmpty())
                std::fprintf(stderr, "Or scan this QR code (it opens the address with the code filled in; check that "
                                     "the page shows the code %s):\n\n%s\n",
                             code.constData(), qr.toUtf8().constData());
            std::fprintf(stderr, "Address with the code filled in:\n\n  %s\n\n", completeText.constData());
        }
        if (expiresAt.isValid())
            std::fprintf(stderr, "Waiting for the sign-in to be approved (the code expires at %s)...\n",
                         qPrintable(expiresAt.toUTC().toString(Qt::ISODate)));
        std::fflush(stderr);
    }

    void onSignedIn(const Keyloop::Error &error, const SignInResult &result)
    {
        if (error)
            return fail(error, QStringLiteral("sign-in failed"));
        m_result = result;
        const Keyloop::TokenResponse tokens = result.tokens;
        if (!m_store) {
            printSignedIn(QStringLiteral("The session was not stored (--no-store)."));
            return succeed();
        }
        m_settings.provider = QJsonDocument::fromJson(result.provider.toJson()).object();
        m_session = new Keyloop::Session(result.client, result.provider, storeFor(appId(), this),
                                         networkAccessManager(), this);
        watchSession(m_session);
        m_session->setAccount(m_account);
        m_session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        Keyloop::SessionJob *job = m_session->adoptSignIn(tokens, result.claims.claims(), result.resource,
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
        const Keyloop::IdTokenClaims claims = m_result.claims;
        const Keyloop::TokenResponse tokens = m_result.tokens;
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
    Keyloop::DeviceSignIn *m_deviceSignIn = nullptr;
    QTimer m_deviceTimeout;
    std::chrono::seconds m_timeout{0};
    SignInResult m_result;
    Keyloop::Session *m_session = nullptr;
};

} // namespace

std::unique_ptr<Command> makeLoginCommand() { return std::make_unique<LoginCommand>(); }

} // namespace KeyloopCli
