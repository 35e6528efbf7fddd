// SPDX-License-Identifier: MIT
// keyloop token — print exactly a fresh access token and a newline, refreshing silently.
#include "commands.h"
#include "sessionsupport.h"

#include <keyloop/discoveryjob.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/session.h>
#include <keyloop/tokenstore.h>

#include <QtCore/QJsonDocument>

#include <cstdio>

namespace KeyloopCli {
namespace {

class TokenCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("token"); }
    QString summary() const override
    {
        return QStringLiteral("Print a fresh access token and a newline, refreshing silently");
    }
    void addOptions(QCommandLineParser &p) override { addClientOptions(p, ClientCommand::Token); }
    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Only the token goes to stdout, so that `curl -H \"Authorization: Bearer $(keyloop token)\"` works.\n"
            "Without --resource, the token is for the first resource given at login, or for the provider\n"
            "itself (UserInfo) when login named none. Several processes may run it at once: only one\n"
            "refreshes, the others use its result.\n");
    }

    void start() override
    {
        Keyloop::AccountIndexEntry entry;
        if (const Keyloop::Error e = findAccount(parser(), appId(), &entry))
            return fail(e);
        m_store = storeFor(appId(), this);
        // Read the record once to learn the remembered settings (issuer, client, endpoints, CA …).
        Keyloop::TokenStoreJob *job = m_store->read(Keyloop::TokenStore::keyFor(entry.issuer, entry.clientId, entry.account));
        connect(job, &Keyloop::Job::finished, this, [this, entry, job] {
            if (job->error().code() == Keyloop::Error::Code::NotFound)
                return fail(ExitAuthorization, QStringLiteral("no stored session: run `keyloop login` first"));
            if (const Keyloop::Error e = job->error())
                return fail(e, QStringLiteral("cannot read the session from the OS keychain"));
            onRecord(entry, job->record());
        });
        job->start();
    }

private:
    void onRecord(const Keyloop::AccountIndexEntry &entry, const Keyloop::SessionRecord &record)
    {
        RememberedSettings stored = RememberedSettings::fromJson(record.appData());
        if (stored.issuer.isEmpty())
            stored.issuer = entry.issuer;
        if (stored.clientId.isEmpty())
            stored.clientId = entry.clientId;
        if (stored.scopes.isEmpty())
            stored.scopes = record.scopes();
        if (stored.resources.isEmpty())
            stored.resources = record.resources();
        RememberedSettings settings;
        if (const Keyloop::Error e = resolveSettings(parser(), ClientCommand::Token, stored, &settings))
            return fail(e);
        Keyloop::ClientConfiguration client;
        if (const Keyloop::Error e = buildClientConfiguration(settings, &client))
            return fail(e);

        // Default: the first resource named at login (the API), else the provider's own token.
        m_resource = settings.resources.value(0);
        m_client = client;
        m_account = entry.account;
        m_record = record;

        // Endpoints remembered by `keyloop login`; a session stored by an app has none: discover.
        if (!settings.provider.isEmpty()) {
            Keyloop::Error providerError;
            const Keyloop::ProviderConfiguration provider = Keyloop::ProviderConfiguration::fromJson(
                QJsonDocument(settings.provider).toJson(QJsonDocument::Compact), client.issuer(), client.transport(),
                &providerError);
            if (!providerError)
                return restoreWith(provider);
        }
        auto *discovery = new Keyloop::DiscoveryJob(networkAccessManager(), client.issuer(), client.transport(), this);
        connect(discovery, &Keyloop::Job::finished, this, [this, discovery] {
            if (const Keyloop::Error e = discovery->error())
                return fail(e, QStringLiteral("provider discovery failed"));
            restoreWith(discovery->configuration());
        });
        discovery->start();
    }

    void restoreWith(const Keyloop::ProviderConfiguration &provider)
    {
        m_session = new Keyloop::Session(m_client, provider, m_store, networkAccessManager(), this);
        watchSession(m_session);
        m_session->setAccount(m_account);
        m_session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        // The record was just read: restore from it instead of reading the keychain again.
        Keyloop::SessionJob *restore = m_session->restore(m_record);
        connect(restore, &Keyloop::Job::finished, this, [this, restore] {
            if (const Keyloop::Error e = restore->error())
                return fail(e, QStringLiteral("cannot restore the session"));
            m_session->freshAccessToken(m_resource, this, [this](const QByteArray &token, const Keyloop::Error &e) {
                if (e)
                    return fail(e, e.requiresSignIn() ? QStringLiteral("sign in again with `keyloop login`")
                                                      : QStringLiteral("no fresh access token"));
                std::fwrite(token.constData(), 1, size_t(token.size()), stdout);
                std::fputc('\n', stdout);
                std::fflush(stdout);
                succeed();
            });
        });
        connect(m_session, &Keyloop::Session::storageFailed, this, [](const Keyloop::Error &e) {
            std::fprintf(stderr, "keyloop token: warning: the refreshed session could not be saved: %s\n",
                         qPrintable(e.message()));
        });
        restore->start();
    }

    Keyloop::TokenStore *m_store = nullptr;
    Keyloop::Session *m_session = nullptr;
    Keyloop::ClientConfiguration m_client;
    QString m_account;
    Keyloop::SessionRecord m_record;
    QString m_resource;
};

} // namespace

std::unique_ptr<Command> makeTokenCommand() { return std::make_unique<TokenCommand>(); }

} // namespace KeyloopCli
