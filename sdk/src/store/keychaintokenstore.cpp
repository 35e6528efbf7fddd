// SPDX-License-Identifier: MIT
#include <keyloop/keychaintokenstore.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "store/chunkformat_p.h"
#include "store/keychainerror_p.h"
#include "store/keychainitems_p.h"
#include "store/recordformat_p.h"
#include "store/testhooks_p.h"

#include <qt6keychain/keychain.h>

#include <QtCore/QDateTime>

#include <functional>
#include <memory>

namespace Keyloop {

Error keychainError(int keychainCode, const QString &errorString, const QString &what)
{
    // QtKeychain's errorString names the backend's failure; it never contains the secret.
    QString detail = errorString.left(200);
    detail.replace(QLatin1Char('\n'), QLatin1Char(' '));
    const QString message = QStringLiteral("keychain %1 failed: %2").arg(what, detail);
    switch (static_cast<QKeychain::Error>(keychainCode)) {
    case QKeychain::NoError:
        return {};
    case QKeychain::EntryNotFound:
        return Error(Error::Code::NotFound, QStringLiteral("no stored session for this account"));
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return Error(Error::Code::StorageUnavailable, message);
    case QKeychain::OtherError: {
        // On Linux (libsecret) every "no usable secret service" case arrives as OtherError:
        // no session bus, no org.freedesktop.secrets, a locked or missing collection.
        static const char *const unavailableHints[] = {
            "dbus", "d-bus", "freedesktop.secrets", "secret service", "autolaunch", "locked",
            "prompt", "collection", "not provided by any", "no such", "timed out", "timeout",
        };
        const QString lower = errorString.toLower();
        for (const char *hint : unavailableHints) {
            if (lower.contains(QLatin1String(hint)))
                return Error(Error::Code::StorageUnavailable, message);
        }
        return Error(Error::Code::StorageFailed, message);
    }
    case QKeychain::CouldNotDeleteEntry:
    default:
        return Error(Error::Code::StorageFailed, message);
    }
}

class KeychainTokenStorePrivate
{
public:
    KeychainItems items;

    void doRead(TokenStoreJob *job);
    void doWrite(TokenStoreJob *job);
    void writeItems(TokenStoreJob *job, const QList<RecordFormat::Item> &records, const QByteArray &generation,
                    ChunkFormat::Slot mainSlot);
    void doRemove(TokenStoreJob *job);
    void doProbe(TokenStoreJob *job);
};

// Friend-less access to TokenStore::finishJob for the private class.
class KeychainTokenStoreFinisher : public TokenStore
{
public:
    using TokenStore::finishJob;
};

void KeychainTokenStorePrivate::doRead(TokenStoreJob *job)
{
    const QString key = job->key();
    items.readLogical(job, key, [this, job, key](const Error &e, const QByteArray &data, const ChunkFormat::Head &) {
        if (e) {
            if (e.code() == Error::Code::StorageCorrupt)
                qCWarning(lcStore) << "stored session is unreadable:" << e.message();
            KeychainTokenStoreFinisher::finishJob(job, e);
            return;
        }
        auto record = std::make_shared<SessionRecord>();
        RecordFormat::MainInfo info;
        if (Error de = RecordFormat::decodeMain(data, record.get(), &info)) {
            qCWarning(lcStore) << "stored session is unreadable:" << de.message();
            KeychainTokenStoreFinisher::finishJob(job, de);
            return;
        }
        // Secondary items: missing or stale ones are not fatal (the session refreshes).
        auto steps = std::make_shared<QList<Step>>();
        for (const QString &resource : std::as_const(info.accessTokenResources)) {
            steps->append([this, job, key, resource, record, gen = info.generation](std::function<void()> next) {
                items.readLogical(job, RecordFormat::accessTokenKey(key, resource),
                                  [record, resource, gen, next](const Error &re, const QByteArray &item, const ChunkFormat::Head &) {
                                      SessionAccessToken token;
                                      if (re)
                                          qCDebug(lcStore) << "access token item not readable:" << re.code();
                                      else if (Error de = RecordFormat::decodeAccessToken(item, gen, resource, &token))
                                          qCDebug(lcStore) << "access token item ignored:" << de.message();
                                      else
                                          record->setAccessToken(resource, token);
                                      next();
                                  });
            });
        }
        if (info.hasIdToken) {
            steps->append([this, job, key, record, gen = info.generation](std::function<void()> next) {
                items.readLogical(job, RecordFormat::idTokenKey(key),
                                  [record, gen, next](const Error &re, const QByteArray &item, const ChunkFormat::Head &) {
                                      QByteArray idToken;
                                      if (re)
                                          qCDebug(lcStore) << "ID token item not readable:" << re.code();
                                      else if (Error de = RecordFormat::decodeIdToken(item, gen, &idToken))
                                          qCDebug(lcStore) << "ID token item ignored:" << de.message();
                                      else
                                          record->setIdToken(idToken);
                                      next();
                                  });
            });
        }
        runSteps(steps, 0, [job, record] { KeychainTokenStoreFinisher::finishJob(job, Error(), *record); });
    });
}

void KeychainTokenStorePrivate::doWrite(TokenStoreJob *job)
{
    SessionRecord record = job->record();
    if (!record.updatedAt().isValid())
        record.setUpdatedAt(QDateTime::currentDateTimeUtc());
    const QByteArray generation = Crypto::base64UrlEncode(Crypto::randomBytes(9));
    const QList<RecordFormat::Item> records = RecordFormat::encode(job->key(), record, generation);
    if (records.first().data.size() <= items.maxItemSize) {
        writeItems(job, records, generation, ChunkFormat::Slot::A);
        return;
    }
    // The main item goes in chunks: use the slot the current head does not name, so that a
    // crash before the new head is written leaves the old record whole.
    items.read(job, job->key(), [this, job, records, generation](const Error &re, const QByteArray &current) {
        if (re && re.code() != Error::Code::NotFound) {
            KeychainTokenStoreFinisher::finishJob(job, re);
            return;
        }
        ChunkFormat::Head head;
        const bool chunked = !re && ChunkFormat::isHead(current) && !ChunkFormat::parseHead(current, &head);
        writeItems(job, records, generation, chunked ? ChunkFormat::otherSlot(head.slot) : ChunkFormat::Slot::A);
    });
}

void KeychainTokenStorePrivate::writeItems(TokenStoreJob *job, const QList<RecordFormat::Item> &records,
                                           const QByteArray &generation, ChunkFormat::Slot mainSlot)
{
    // Write order: the main item (refresh token + a fresh generation) first, then the
    // secondary items tagged with that generation. The refresh token is the one thing that
    // cannot be recovered; a crash after the main write leaves secondary items of the old
    // generation, which reads ignore (the session refreshes). An item too large for one
    // keychain entry is written as chunks, then its head (its commit point); the main item's
    // chunks alternate between two slots. See docs/token-storage.md.
    auto error = std::make_shared<Error>();
    auto steps = std::make_shared<QList<Step>>();
    for (int i = 0; i < records.size(); ++i) {
        const RecordFormat::Item item = records.at(i);
        const ChunkFormat::Slot slot = i == 0 ? mainSlot : ChunkFormat::Slot::A;
        ChunkFormat::Stored stored;
        if (Error se = ChunkFormat::split(item.data, generation, slot, items.maxItemSize, &stored)) {
            if (i == 0) {
                KeychainTokenStoreFinisher::finishJob(
                    job, Error(Error::Code::StorageFailed, QStringLiteral("the session is too large for the keychain: %1").arg(se.message())));
                return;
            }
            // Never silently: this token stays in memory only; the next process refreshes it.
            qCWarning(lcStore) << "a token is too large for the keychain and is kept in memory only:" << se.message();
            continue;
        }
        steps->append([this, job, item, stored, slot, error, i](std::function<void()> next) {
            if (*error) { // the main item failed: do not write secondaries for it
                next();
                return;
            }
            const auto afterChunks = [i] { testKillPoint(i == 0 ? "after-main-chunks" : "after-secondary-chunks"); };
            items.writeLogical(job, item.key, stored, slot, afterChunks, [this, job, item, stored, slot, error, next, i](const Error &we) {
                if (we) {
                    if (!*error)
                        *error = we;
                    if (i > 0)
                        qCWarning(lcStore) << "could not write a secondary keychain item:" << we.code();
                    next();
                    return;
                }
                testKillPoint(i == 0 ? "after-main-write" : "after-secondary-write");
                // Leftover chunks of earlier writes: in this slot past the new count, and, for
                // the main item, all of the other slot (the previous head named them).
                items.removeChunks(job, item.key, slot, int(stored.chunks.size()), [this, job, item, slot, next, i] {
                    if (i == 0)
                        items.removeChunks(job, item.key, ChunkFormat::otherSlot(slot), 0, next);
                    else
                        next();
                });
            });
        });
    }
    runSteps(steps, 0, [job, error] { KeychainTokenStoreFinisher::finishJob(job, *error); });
}

void KeychainTokenStorePrivate::doRemove(TokenStoreJob *job)
{
    const QString key = job->key();
    // Learn the secondary items from the main item, then delete the main item first (the
    // session is gone at once), then the secondary ones; each with its chunks.
    items.readLogical(job, key, [this, job, key](const Error &re, const QByteArray &data, const ChunkFormat::Head &) {
        QStringList keys{key, RecordFormat::accessTokenKey(key, QString()), RecordFormat::idTokenKey(key)};
        if (!re) {
            SessionRecord record;
            RecordFormat::MainInfo info;
            if (!RecordFormat::decodeMain(data, &record, &info)) {
                for (const QString &resource : std::as_const(info.accessTokenResources))
                    keys.append(RecordFormat::accessTokenKey(key, resource));
                for (const QString &resource : record.resources())
                    keys.append(RecordFormat::accessTokenKey(key, resource));
            }
        } else if (re.code() != Error::Code::NotFound && re.code() != Error::Code::StorageCorrupt) {
            KeychainTokenStoreFinisher::finishJob(job, re);
            return;
        }
        keys.removeDuplicates();
        auto error = std::make_shared<Error>();
        auto steps = std::make_shared<QList<Step>>();
        for (const QString &k : std::as_const(keys)) {
            steps->append([this, job, k, main = k == key, error](std::function<void()> next) {
                items.remove(job, k, [this, job, k, main, error, next](const Error &de) {
                    if (de && !*error)
                        *error = de;
                    items.removeChunks(job, k, ChunkFormat::Slot::A, 0, [this, job, k, main, next] {
                        if (main)
                            items.removeChunks(job, k, ChunkFormat::Slot::B, 0, next);
                        else
                            next();
                    });
                });
            });
        }
        runSteps(steps, 0, [job, error] { KeychainTokenStoreFinisher::finishJob(job, *error); });
    });
}

void KeychainTokenStorePrivate::doProbe(TokenStoreJob *job)
{
    const QString key = QStringLiteral("keyloop-probe#") + QString::fromLatin1(Crypto::randomToken(9));
    const QByteArray value = Crypto::randomToken(16);
    const auto unavailable = [](const QString &why) { return Error(Error::Code::StorageUnavailable, why); };
    items.write(job, key, value, [this, job, key, value, unavailable](const Error &we) {
        if (we) {
            // Whatever the cause, a backend that cannot store a probe cannot store a session.
            KeychainTokenStoreFinisher::finishJob(job, unavailable(we.message()));
            return;
        }
        items.read(job, key, [this, job, key, value, unavailable](const Error &re, const QByteArray &data) {
            const bool same = !re && Crypto::constantTimeEquals(data, value);
            items.remove(job, key, [job, re, same, unavailable](const Error &de) {
                if (re)
                    KeychainTokenStoreFinisher::finishJob(
                        job, unavailable(QStringLiteral("keychain probe: the item written could not be read back (%1)")
                                             .arg(Error::codeName(re.code()))));
                else if (!same)
                    KeychainTokenStoreFinisher::finishJob(
                        job, unavailable(QStringLiteral("keychain probe: the item read back differs from the one written")));
                else if (de)
                    KeychainTokenStoreFinisher::finishJob(job, Error(Error::Code::StorageFailed, de.message()));
                else
                    KeychainTokenStoreFinisher::finishJob(job, Error());
            });
        });
    });
}

KeychainTokenStore::KeychainTokenStore(const QString &serviceName, QObject *parent)
    : TokenStore(parent), d(std::make_unique<KeychainTokenStorePrivate>())
{
    d->items.service = serviceName;
}

KeychainTokenStore::~KeychainTokenStore() = default;

QString KeychainTokenStore::serviceName() const { return d->items.service; }
int KeychainTokenStore::maxItemSize() const { return d->items.maxItemSize; }
void KeychainTokenStore::setMaxItemSize(int bytes) { d->items.maxItemSize = qMax(bytes, ChunkFormat::MinMaxItemSize); }
QString KeychainTokenStore::appId() const { return serviceName(); }

void KeychainTokenStore::startJob(TokenStoreJob *job)
{
    if (d->items.service.isEmpty()) {
        finishJob(job, Error(Error::Code::InvalidConfiguration, QStringLiteral("keychain service name (application id) is empty")));
        return;
    }
    switch (job->operation()) {
    case TokenStoreJob::Operation::Read:
        d->doRead(job);
        return;
    case TokenStoreJob::Operation::Write:
        d->doWrite(job);
        return;
    case TokenStoreJob::Operation::Remove:
        d->doRemove(job);
        return;
    case TokenStoreJob::Operation::Probe:
        d->doProbe(job);
        return;
    }
}

} // namespace Keyloop
