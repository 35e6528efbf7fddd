// SPDX-License-Identifier: MIT
// Session: the cross-process lock, the token store and the account index.
#include "session/session_p.h"

#include <keyloop/accountindex.h>
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"
#include "session/providercache_p.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QTimer>

namespace Keyloop {

namespace {

constexpr int kSaveAttempts = 3;

} // namespace

QString SessionPrivate::key() const { return TokenStore::keyFor(issuer(), client.clientId(), account); }

void SessionPrivate::readStore(std::function<void(const Error &, const SessionRecord &)> then)
{
    if (!store) {
        then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")), SessionRecord());
        return;
    }
    TokenStoreJob *job = store->read(key());
    QObject::connect(job, &Job::finished, q, [then, job] { then(job->error(), job->record()); });
    job->start();
}

void SessionPrivate::writeStore(const SessionRecord &r, int attempt, std::function<void(const Error &)> then)
{
    if (!store) {
        then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")));
        return;
    }
    // The provider's metadata and its cache go along with every save (not secret): a restarted
    // app then fetches neither the discovery document nor the keys while they are fresh — and the
    // document is always the one its expiry belongs to (a restore may have discovered anew).
    SessionRecord stamped = r;
    if (!provider.isNull())
        stamped.setProviderMetadata(QJsonDocument::fromJson(provider.toJson()).object());
    stamped.setProviderCache(ProviderCache::encode(provider, jwks()));
    TokenStoreJob *job = store->write(key(), stamped);
    QObject::connect(job, &Job::finished, q, [this, r, attempt, then, job] {
        const Error e = job->error();
        if (!e || attempt + 1 >= kSaveAttempts || e.code() == Error::Code::StorageUnavailable) {
            then(e);
            return;
        }
        qCDebug(lcSession) << "saving the session failed; retrying" << attempt + 1;
        QTimer::singleShot(100 * (attempt + 1), q, [this, r, attempt, then] { writeStore(r, attempt + 1, then); });
    });
    job->start();
}

// The non-secret account index follows the store. \a done runs once the index file is
// written (or failed, which is only logged: the index is a convenience, the keychain is
// the truth), so a job that reports "saved" really is saved when the app exits.
void SessionPrivate::updateIndex(std::function<void()> done)
{
    if (!index) {
        if (done)
            done();
        return;
    }
    AccountIndexEntry e;
    e.issuer = record.issuer();
    e.clientId = record.clientId();
    e.account = record.account();
    e.subject = record.subject();
    e.displayName = record.displayName();
    e.updatedAt = record.updatedAt();
    index->upsert(e, q, [done](const Error &err) {
        if (err)
            qCWarning(lcSession) << "could not update the account index:" << err.code();
        if (done)
            done();
    });
}

// Deleting a session: the keychain items first, the index entry last, so that no live refresh
// token is ever left behind without an index entry that shows it. A partial failure says so.
void SessionPrivate::removeStored(std::function<void(const Error &)> then)
{
    const QString indexIssuer = record.issuer().isEmpty() ? issuer() : record.issuer();
    const auto removeFromIndex = [this, then, indexIssuer] {
        if (!index) {
            then(Error());
            return;
        }
        index->remove(indexIssuer, client.clientId(), account, q, [then](const Error &err) {
            if (err) {
                qCWarning(lcSession) << "could not update the account index:" << err.code();
                then(Error(err.code(), QStringLiteral("the session was removed from the keychain, but the account "
                                                      "list could not be updated (%1)").arg(err.message())));
                return;
            }
            then(Error());
        });
    };
    if (!store) {
        removeFromIndex();
        return;
    }
    TokenStoreJob *job = store->remove(key());
    QObject::connect(job, &Job::finished, q, [then, job, removeFromIndex] {
        if (const Error e = job->error()) {
            // The keychain may still hold the refresh token: keep the index entry that shows it.
            then(e);
            return;
        }
        removeFromIndex();
    });
    job->start();
}

} // namespace Keyloop
