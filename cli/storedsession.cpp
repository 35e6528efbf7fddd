// SPDX-License-Identifier: MIT
// Command::restoreStoredSession(): the stored session of the selected account, restored
// without a browser (keyloop token, keyloop call).
#include "command.h"
#include "sessionsupport.h"

#include <keyloop/discoveryjob.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/session.h>
#include <keyloop/tokenstore.h>

#include <QtCore/QJsonDocument>

#include <cstdio>
#include <memory>

namespace KeyloopCli {

namespace {

// What the steps below carry from one to the next.
struct Restoring
{
    Keyloop::TokenStore *store = nullptr;
    Keyloop::AccountIndexEntry entry;
    Keyloop::SessionRecord record;
    Keyloop::ClientConfiguration client;
    RememberedSettings settings;
    std::function<void(Keyloop::Session *, const RememberedSettings &)> then;
};

} // namespace

void Command::restoreStoredSession(std::function<void(Keyloop::Session *session, const RememberedSettings &settings)> then)
{
    auto state = std::make_shared<Restoring>();
    state->then = std::move(then);
    if (const Keyloop::Error e = findAccount(parser(), appId(), &state->entry))
        return fail(e);
    state->store = storeFor(appId(), this);

    const auto restoreWith = [this, state](const Keyloop::ProviderConfiguration &provider) {
        auto *session = new Keyloop::Session(state->client, provider, state->store, networkAccessManager(), this);
        watchSession(session);
        session->setAccount(state->entry.account);
        session->setAccountIndex(new Keyloop::AccountIndex(appId(), this));
        connect(session, &Keyloop::Session::storageFailed, this, [this](const Keyloop::Error &e) {
            std::fprintf(stderr, "keyloop %s: warning: the refreshed session could not be saved: %s\n",
                         qPrintable(name()), qPrintable(e.message()));
        });
        // The record was just read: restore from it instead of reading the keychain again.
        Keyloop::SessionJob *restore = session->restore(state->record);
        connect(restore, &Keyloop::Job::finished, this, [this, state, restore, session] {
            if (const Keyloop::Error e = restore->error())
                return fail(e, QStringLiteral("cannot restore the session"));
            state->then(session, state->settings);
        });
        restore->start();
    };

    // Read the record once to learn the remembered settings (issuer, client, endpoints, CA …).
    Keyloop::TokenStoreJob *job = state->store->read(
        Keyloop::TokenStore::keyFor(state->entry.issuer, state->entry.clientId, state->entry.account));
    connect(job, &Keyloop::Job::finished, this, [this, state, job, restoreWith] {
        if (job->error().code() == Keyloop::Error::Code::NotFound)
            return fail(ExitAuthorization, QStringLiteral("no stored session: run `keyloop login` first"));
        if (const Keyloop::Error e = job->error())
            return fail(e, QStringLiteral("cannot read the session from the OS keychain"));
        state->record = job->record();
        RememberedSettings stored = RememberedSettings::fromJson(state->record.appData());
        if (stored.issuer.isEmpty())
            stored.issuer = state->entry.issuer;
        if (stored.clientId.isEmpty())
            stored.clientId = state->entry.clientId;
        if (stored.scopes.isEmpty())
            stored.scopes = state->record.scopes();
        if (stored.resources.isEmpty())
            stored.resources = state->record.resources();
        if (const Keyloop::Error e = resolveSettings(parser(), ClientCommand::Token, stored, &state->settings))
            return fail(e);
        if (const Keyloop::Error e = buildClientConfiguration(state->settings, &state->client))
            return fail(e);

        // Endpoints remembered by `keyloop login`; a session stored by an app has none: discover.
        if (!state->settings.provider.isEmpty()) {
            Keyloop::Error providerError;
            const Keyloop::ProviderConfiguration provider = Keyloop::ProviderConfiguration::fromJson(
                QJsonDocument(state->settings.provider).toJson(QJsonDocument::Compact), state->client.issuer(),
                state->client.transport(), &providerError);
            if (!providerError)
                return restoreWith(provider);
        }
        auto *discovery = new Keyloop::DiscoveryJob(networkAccessManager(), state->client.issuer(),
                                                    state->client.transport(), this);
        connect(discovery, &Keyloop::Job::finished, this, [this, discovery, restoreWith] {
            if (const Keyloop::Error e = discovery->error())
                return fail(e, QStringLiteral("provider discovery failed"));
            restoreWith(discovery->configuration());
        });
        discovery->start();
    });
    job->start();
}

} // namespace KeyloopCli
