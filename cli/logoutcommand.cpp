// SPDX-License-Identifier: MIT
// keyloop logout — revoke a stored session's tokens at the provider (RFC 7009), then remove it;
// with --end-session, then also end the user's session at the provider in the browser
// (OpenID Connect RP-Initiated Logout 1.0).
#include "commands.h"
#include "sessionsupport.h"
#include "terminaltext.h"

#include <keyloop/browserlauncher.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/endsessionjob.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/session.h>
#include <keyloop/tokenstore.h>

#include <QtCore/QJsonDocument>

#include <cstdio>

namespace KeyloopCli {
namespace {

class LogoutCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("logout"); }
    QString summary() const override
    {
        return QStringLiteral("Revoke a stored session at the provider, then remove it from the keychain");
    }
    void addOptions(QCommandLineParser &p) override
    {
        p.addOption({QStringLiteral("account"), QStringLiteral("Account name (KEYLOOP_ACCOUNT)."), QStringLiteral("NAME")});
        p.addOption({QStringLiteral("issuer"), QStringLiteral("Issuer, when several sessions share the account name."), QStringLiteral("URL")});
        p.addOption({QStringLiteral("client-id"), QStringLiteral("Client id, when several sessions share the account name."), QStringLiteral("ID")});
        p.addOption({QStringLiteral("ca-file"),
                     QStringLiteral("Extra trusted CA certificates (PEM) for the provider's TLS (KEYLOOP_CA_FILE; "
                                    "default: remembered by login)."),
                     QStringLiteral("PEM")});
        p.addOption({QStringLiteral("allow-insecure-loopback"),
                     QStringLiteral("Development only: allow plain http for a provider on 127.0.0.1/::1/localhost "
                                    "(KEYLOOP_ALLOW_INSECURE_LOOPBACK=1; default: remembered by login).")});
        p.addOption({QStringLiteral("end-session"),
                     QStringLiteral("After signing out here, also end the session at the provider in the browser "
                                    "(OpenID Connect RP-Initiated Logout).")});
        addRedirectOptions(p);
        p.addOption({QStringLiteral("browser-command"),
                     QStringLiteral("With --end-session: run CMD (split like a shell does) with the logout URL "
                                    "appended, instead of opening the system browser (KEYLOOP_BROWSER_COMMAND)."),
                     QStringLiteral("CMD")});
        p.addOption({QStringLiteral("timeout"),
                     QStringLiteral("With --end-session: give up waiting for the browser after SECONDS (default 300)."),
                     QStringLiteral("SECONDS")});
    }
    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Revokes the session's tokens at the provider (RFC 7009: the refresh token first, which\n"
            "ends the grant, then the access tokens), then removes its keychain items and its\n"
            "account-index entry, all under the session's lock: a refresh running in another process\n"
            "finishes first (at most 10 s, else exit code 4 and nothing is revoked or removed).\n"
            "If the provider cannot be reached or refuses the revocation, the session is removed all\n"
            "the same and logout exits 5: signed out on this device, but the tokens stay valid at the\n"
            "provider until they expire. A provider without a revocation endpoint: removed only.\n"
            "\n"
            "--end-session: once the session is removed here, the browser opens the provider's\n"
            "end_session_endpoint with the session's ID token as id_token_hint and comes back to a\n"
            "loopback post_logout_redirect_uri (register it like the login redirect URI; --redirect-host\n"
            "and --port as for login) carrying the state that was sent. The logout URL holds the ID\n"
            "token, so it is never printed. If the provider offers no end_session_endpoint (exit 2),\n"
            "the redirect carries a wrong state (exit 3), or the browser does not come back in time\n"
            "(exit 5), the session stays removed on this device and logout says so.\n");
    }

    void start() override
    {
        m_endSession = parser().isSet(QStringLiteral("end-session"));
        if (!m_endSession) {
            for (const char *option : {"redirect-host", "port", "browser-command", "timeout"}) {
                if (parser().isSet(QLatin1String(option)))
                    return fail(ExitUsage, QStringLiteral("--%1 needs --end-session").arg(QLatin1String(option)));
            }
        }
        const QString timeout = parser().value(QStringLiteral("timeout"));
        if (!timeout.isEmpty()) {
            bool ok = false;
            m_timeoutSeconds = timeout.toInt(&ok);
            if (!ok || m_timeoutSeconds <= 0)
                return fail(ExitUsage, QStringLiteral("--timeout needs a positive number of seconds"));
        }
        Keyloop::ClientConfiguration probe;
        if (const QString problem = applyRedirectOptions(parser(), &probe); !problem.isEmpty())
            return fail(ExitUsage, problem);
        if (m_endSession) {
            const QString browserCommand = setting(parser(), QStringLiteral("browser-command"), "KEYLOOP_BROWSER_COMMAND");
            if (!browserCommand.isEmpty()) {
                m_commandLauncher = std::make_unique<Keyloop::CommandBrowserLauncher>(browserCommand);
                if (m_commandLauncher->program().isEmpty())
                    return fail(ExitUsage, QStringLiteral("--browser-command is empty"));
            }
        }
        if (const Keyloop::Error e = findAccount(parser(), appId(), &m_entry))
            return fail(e);
        m_store = storeFor(appId(), this);
        // The record holds what revocation needs (client authentication, CA file, endpoints).
        Keyloop::TokenStoreJob *job = m_store->read(Keyloop::TokenStore::keyFor(m_entry.issuer, m_entry.clientId, m_entry.account));
        connect(job, &Keyloop::Job::finished, this, [this, job] {
            if (job->error().code() == Keyloop::Error::Code::NotFound) {
                // Only the index entry is left: nothing to revoke, remove the rest.
                m_nothingToRevoke = true;
                return signOutWith(bareClient(), bareProvider());
            }
            if (const Keyloop::Error e = job->error())
                return fail(e, QStringLiteral("cannot read the session from the OS keychain; nothing was removed"));
            onRecord(job->record());
        });
        job->start();
    }

private:
    Keyloop::ClientConfiguration bareClient() const
    {
        Keyloop::ClientConfiguration client;
        client.setIssuer(QUrl(m_entry.issuer));
        client.setClientId(m_entry.clientId);
        return client;
    }
    Keyloop::ProviderConfiguration bareProvider() const
    {
        Keyloop::ProviderConfiguration provider;
        provider.setIssuer(QUrl(m_entry.issuer));
        return provider;
    }

    void onRecord(const Keyloop::SessionRecord &record)
    {
        m_idToken = record.idToken(); // for id_token_hint (--end-session); in memory only
        RememberedSettings settings = RememberedSettings::fromJson(record.appData());
        if (settings.issuer.isEmpty())
            settings.issuer = m_entry.issuer;
        if (settings.clientId.isEmpty())
            settings.clientId = m_entry.clientId;
        settings.caFile = setting(parser(), QStringLiteral("ca-file"), "KEYLOOP_CA_FILE", settings.caFile);
        settings.allowInsecureLoopback = flagSetting(parser(), QStringLiteral("allow-insecure-loopback"),
                                                     "KEYLOOP_ALLOW_INSECURE_LOOPBACK", settings.allowInsecureLoopback);
        Keyloop::ClientConfiguration client;
        if (const Keyloop::Error e = buildClientConfiguration(settings, &client)) {
            // The session is removed all the same; it just cannot be revoked.
            m_revocationProblem = e;
            return signOutWith(bareClient(), bareProvider());
        }
        // Endpoints remembered by `keyloop login`; a session stored by an app has none: discover.
        if (!settings.provider.isEmpty()) {
            Keyloop::Error providerError;
            const Keyloop::ProviderConfiguration provider = Keyloop::ProviderConfiguration::fromJson(
                QJsonDocument(settings.provider).toJson(QJsonDocument::Compact), client.issuer(), client.transport(),
                &providerError);
            if (!providerError)
                return signOutWith(client, provider);
        }
        auto *discovery = new Keyloop::DiscoveryJob(networkAccessManager(), client.issuer(), client.transport(), this);
        connect(discovery, &Keyloop::Job::finished, this, [this, client, discovery] {
            if (const Keyloop::Error e = discovery->error()) {
                m_revocationProblem = Keyloop::Error(e.code(), QStringLiteral("provider discovery failed: ") + e.message());
                return signOutWith(client, bareProvider());
            }
            signOutWith(client, discovery->configuration());
        });
        discovery->start();
    }

    void signOutWith(const Keyloop::ClientConfiguration &client, const Keyloop::ProviderConfiguration &provider)
    {
        auto *session = new Keyloop::Session(client, provider, m_store, networkAccessManager(), this);
        watchSession(session);
        session->setAccount(m_entry.account);
        session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        const bool revokes = !provider.revocationEndpoint().isEmpty();
        Keyloop::SessionJob *job = session->signOut();
        connect(job, &Keyloop::Job::finished, this, [this, job, revokes, client, provider] {
            const Keyloop::Error e = job->error();
            if (e && e.code() != Keyloop::Error::Code::RevocationFailed)
                return fail(e, QStringLiteral("could not remove the session"));
            // Removed on this device. The provider's session is ended after that, never before:
            // the local sign-out must not wait on, or fail with, a browser.
            if (m_endSession)
                return endProviderSession(client, provider, e, revokes);
            reportLocal(e, revokes);
        });
        job->start();
    }

    // Prints the outcome of the local sign-out. A failed revocation ends the command with that
    // failure (and returns false); otherwise the command ends with success when \a last.
    bool reportLocal(const Keyloop::Error &e, bool revokes, bool last = true)
    {
        // RevocationFailed: removed on this device, not revoked; its message says so (exit 5).
        if (e.code() == Keyloop::Error::Code::RevocationFailed) {
            fail(e);
            return false;
        }
        if (m_revocationProblem) {
            fail(ExitNetwork,
                 QStringLiteral("signed out on this device (removed the session of %1 at %2), but its tokens "
                                "could not be revoked at the provider (%3); they stay valid until they expire")
                     .arg(who(), printableText(m_entry.issuer), m_revocationProblem.message()));
            return false;
        }
        if (revokes) {
            std::printf("Signed out: revoked the tokens at the provider and removed the session of %s at %s.\n",
                        qPrintable(who()), qPrintable(printableText(m_entry.issuer)));
        } else {
            std::printf("Signed out: removed the session of %s at %s.\n", qPrintable(who()),
                        qPrintable(printableText(m_entry.issuer)));
            if (!m_nothingToRevoke)
                std::printf("The provider offers no token revocation: its tokens stay valid until they expire.\n");
        }
        if (last)
            succeed();
        return true;
    }

    void endProviderSession(Keyloop::ClientConfiguration client, const Keyloop::ProviderConfiguration &provider,
                            const Keyloop::Error &localError, bool revokes)
    {
        applyRedirectOptions(parser(), &client); // checked in start()
        auto *job = new Keyloop::EndSessionJob(client, provider, m_idToken, this);
        if (m_commandLauncher)
            job->setBrowserLauncher(m_commandLauncher.get());
        if (m_timeoutSeconds > 0)
            job->setTimeout(std::chrono::seconds(m_timeoutSeconds));
        connect(job, &Keyloop::EndSessionJob::browserOpened, this, [] {
            // Never the URL: it carries the ID token (id_token_hint).
            std::fprintf(stderr, "Opened the browser to sign out at the provider; waiting for it to come back.\n");
        });
        connect(job, &Keyloop::Job::finished, this, [this, job, localError, revokes] {
            const Keyloop::Error e = job->error();
            if (e) {
                // The local outcome first (it stands), then why the provider's session was not ended.
                if (localError.code() == Keyloop::Error::Code::RevocationFailed || m_revocationProblem)
                    std::fprintf(stderr, "keyloop: %s\n",
                                 qPrintable(localError ? localError.message() : m_revocationProblem.message()));
                return fail(exitCodeFor(e),
                            QStringLiteral("signed out on this device (removed the session of %1 at %2), but the "
                                           "session at the provider was not ended: %3")
                                .arg(who(), printableText(m_entry.issuer), e.message()));
            }
            const bool localOk = !localError && !m_revocationProblem;
            if (localOk)
                reportLocal(localError, revokes, false);
            std::printf("Ended the session at the provider (RP-initiated logout).\n");
            if (localOk)
                succeed();
            else
                reportLocal(localError, revokes); // the failed revocation: its message and exit code
        });
        job->start();
    }

    QString who() const
    {
        return m_entry.account.isEmpty() ? QStringLiteral("the default account") : printableText(m_entry.account);
    }

    Keyloop::AccountIndexEntry m_entry;
    Keyloop::TokenStore *m_store = nullptr;
    Keyloop::Error m_revocationProblem; // why revocation was impossible (the session is removed anyway)
    bool m_nothingToRevoke = false;     // the keychain held nothing any more
    bool m_endSession = false;          // --end-session
    int m_timeoutSeconds = 0;           // --timeout; 0: the default
    QByteArray m_idToken;               // id_token_hint for --end-session; never printed
    std::unique_ptr<Keyloop::CommandBrowserLauncher> m_commandLauncher;
};

} // namespace

std::unique_ptr<Command> makeLogoutCommand() { return std::make_unique<LogoutCommand>(); }

} // namespace KeyloopCli
