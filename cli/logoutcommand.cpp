// SPDX-License-Identifier: MIT
// keyloop logout — remove a stored session.
#include "commands.h"
#include "sessionsupport.h"
#include "terminaltext.h"

#include <keyloop/providerconfiguration.h>
#include <keyloop/session.h>

#include <cstdio>

namespace KeyloopCli {
namespace {

class LogoutCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("logout"); }
    QString summary() const override { return QStringLiteral("Remove a stored session from the OS keychain"); }
    void addOptions(QCommandLineParser &p) override
    {
        p.addOption({QStringLiteral("account"), QStringLiteral("Account name (KEYLOOP_ACCOUNT)."), QStringLiteral("NAME")});
        p.addOption({QStringLiteral("issuer"), QStringLiteral("Issuer, when several sessions share the account name."), QStringLiteral("URL")});
        p.addOption({QStringLiteral("client-id"), QStringLiteral("Client id, when several sessions share the account name."), QStringLiteral("ID")});
    }
    QString helpEpilogue() const override
    {
        return QStringLiteral("Removes the session's keychain items and its account-index entry, under the\n"
                              "session's lock: a refresh running in another process finishes first (at\n"
                              "most 10 s, else exit code 4 and nothing is removed).\n"
                              "Token revocation at the provider is not done yet.\n");
    }
    void start() override
    {
        Keyloop::AccountIndexEntry entry;
        if (const Keyloop::Error e = findAccount(parser(), appId(), &entry))
            return fail(e);
        Keyloop::ClientConfiguration client;
        client.setIssuer(QUrl(entry.issuer));
        client.setClientId(entry.clientId);
        Keyloop::ProviderConfiguration provider;
        provider.setIssuer(QUrl(entry.issuer));
        auto *session = new Keyloop::Session(client, provider, storeFor(appId(), this), networkAccessManager(), this);
        watchSession(session);
        session->setAccount(entry.account);
        session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        Keyloop::SessionJob *job = session->signOut();
        connect(job, &Keyloop::Job::finished, this, [this, entry, job] {
            if (const Keyloop::Error e = job->error())
                return fail(e, QStringLiteral("could not remove the session"));
            std::printf("Signed out: removed the session of %s at %s.\n",
                        entry.account.isEmpty() ? "the default account" : qPrintable(printableText(entry.account)),
                        qPrintable(entry.issuer));
            succeed();
        });
        job->start();
    }
};

} // namespace

std::unique_ptr<Command> makeLogoutCommand() { return std::make_unique<LogoutCommand>(); }

} // namespace KeyloopCli
