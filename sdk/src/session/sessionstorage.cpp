// SPDX-License-Identifier: MIT
// Session: the cross-process lock, the token store and the account index.
#include "session/sessionprivate_p.h"

#include <keyloop/accountindex.h>
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"
#include "session/testhooks_p.h"
#include "store/processlock_p.h"

#include <QtCore/QTimer>

namespace Keyloop {

namespace {

constexpr int kSaveAttempts = 3;

} // namespace

QString SessionPrivate::key() const { return TokenStore::keyFor(issuer(), client.clientId(), account); }

void SessionPrivate::withLock(std::function<void(const Error &)> then)
{
    auto *l = new ProcessLock(appId, key(), q);
    lock = l;
    QObject::connect(l, &ProcessLock::acquired, q, [then] { then(Error()); });
    QObject::connect(l, &ProcessLock::failed, q, [this, l, then](const Error &e) {
        if (lock == l)
            lock = nullptr;
        l->deleteLater();
        then(e);
    });
    l->acquire();
}

void SessionPrivate::unlock()
{
    if (!lock)
        return;
    testKillPoint("before-unlock");
    lock->release();
    lock->deleteLater();
    lock = nullptr;
}

void SessionPrivate::readStore(std::function<void(const Error &, const SessionRecord &)> then)
{
    if (!store) {
        then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")), SessionRecord());
        return;
    }
    TokenStoreJob *job = store->read(key());
    QObject::connect(job, &TokenStoreJob::finished, q, [then](TokenStoreJob *j) { then(j->error(), j->record()); });
    job->start();
}

void SessionPrivate::writeStore(const SessionRecord &r, int attempt, std::function<void(const Error &)> then)
{
    if (!store) {
        then(Error(Error::Code::StorageUnavailable, QStringLiteral("no token store")));
        return;
    }
    TokenStoreJob *job = store->write(key(), r);
    QObject::connect(job, &TokenStoreJob::finished, q, [this, r, attempt, then](TokenStoreJob *j) {
        const Error e = j->error();
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

void SessionPrivate::removeStored(std::function<void(const Error &)> then)
{
    const auto removeFromStore = [this, then] {
        if (!store) {
            then(Error());
            return;
        }
        TokenStoreJob *job = store->remove(key());
        QObject::connect(job, &TokenStoreJob::finished, q, [then](TokenStoreJob *j) { then(j->error()); });
        job->start();
    };
    if (!index) {
        removeFromStore();
        return;
    }
    index->remove(record.issuer().isEmpty() ? issuer() : record.issuer(), client.clientId(), account, q,
                  [removeFromStore](const Error &err) {
                      if (err)
                          qCWarning(lcSession) << "could not update the account index:" << err.code();
                      removeFromStore();
                  });
}

} // namespace Keyloop
