// SPDX-License-Identifier: MIT
#include <keyloop/keychaintokenstore.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "store/keychainerror_p.h"
#include "store/recordformat_p.h"
#include "store/testhooks_p.h"

#include <qt6keychain/keychain.h>

#include <QtCore/QDateTime>
#include <QtCore/QPointer>

#include <functional>

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
    QString service;

    using ReadCallback = std::function<void(const Error &, const QByteArray &)>;
    using DoneCallback = std::function<void(const Error &)>;

    void readItem(QObject *context, const QString &key, ReadCallback callback) const
    {
        auto *job = new QKeychain::ReadPasswordJob(service);
        job->setInsecureFallback(false); // never plaintext
        job->setAutoDelete(true);
        job->setKey(key);
        QObject::connect(job, &QKeychain::Job::finished, context, [job, callback](QKeychain::Job *) {
            const Error e = keychainError(job->error(), job->errorString(), QStringLiteral("read"));
            callback(e, e ? QByteArray() : job->binaryData());
        });
        job->start();
    }

    void writeItem(QObject *context, const QString &key, const QByteArray &data, DoneCallback callback) const
    {
        auto *job = new QKeychain::WritePasswordJob(service);
        job->setInsecureFallback(false); // never plaintext
        job->setAutoDelete(true);
        job->setKey(key);
        job->setBinaryData(data);
        QObject::connect(job, &QKeychain::Job::finished, context, [job, callback](QKeychain::Job *) {
            Error e = keychainError(job->error(), job->errorString(), QStringLiteral("write"));
            if (e.code() == Error::Code::NotFound)
                e = Error(Error::Code::StorageFailed, QStringLiteral("keychain write failed: entry not found"));
            callback(e);
        });
        job->start();
    }

    void deleteItem(QObject *context, const QString &key, DoneCallback callback) const
    {
        auto *job = new QKeychain::DeletePasswordJob(service);
        job->setInsecureFallback(false);
        job->setAutoDelete(true);
        job->setKey(key);
        QObject::connect(job, &QKeychain::Job::finished, context, [job, callback](QKeychain::Job *) {
            Error e = keychainError(job->error(), job->errorString(), QStringLiteral("delete"));
            if (e.code() == Error::Code::NotFound)
                e = Error(); // removing an absent item is success
            callback(e);
        });
        job->start();
    }

    void doRead(TokenStoreJob *job);
    void doWrite(TokenStoreJob *job);
    void doRemove(TokenStoreJob *job);
    void doProbe(TokenStoreJob *job);
};

namespace {

// Runs \a steps one after another; each step calls its continuation when done.
using Step = std::function<void(std::function<void()>)>;

void runSteps(std::shared_ptr<QList<Step>> steps, int index, std::function<void()> done)
{
    if (index >= steps->size()) {
        done();
        return;
    }
    (*steps)[index]([steps, index, done] { runSteps(steps, index + 1, done); });
}

} // namespace

// Friend-less access to TokenStore::finishJob for the private class.
class KeychainTokenStoreFinisher : public TokenStore
{
public:
    using TokenStore::finishJob;
};

void KeychainTokenStorePrivate::doRead(TokenStoreJob *job)
{
    const QString key = job->key();
    readItem(job, key, [this, job, key](const Error &e, const QByteArray &data) {
        if (e) {
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
                readItem(job, RecordFormat::accessTokenKey(key, resource),
                         [record, resource, gen, next](const Error &re, const QByteArray &item) {
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
                readItem(job, RecordFormat::idTokenKey(key), [record, gen, next](const Error &re, const QByteArray &item) {
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
    const QList<RecordFormat::Item> items =
        RecordFormat::encode(job->key(), record, Crypto::base64UrlEncode(Crypto::randomBytes(9)));
    for (const RecordFormat::Item &item : items) {
        if (item.data.size() > 2560)
            qCDebug(lcStore) << "a keychain item exceeds 2560 bytes; the Windows backend may reject it";
    }
    // Write order: the main item (refresh token + a fresh generation) first, then the
    // secondary items tagged with that generation. The refresh token is the one thing that
    // cannot be recovered; a crash after the main write leaves secondary items of the old
    // generation, which reads ignore (the session refreshes). See docs/token-storage.md.
    auto error = std::make_shared<Error>();
    auto steps = std::make_shared<QList<Step>>();
    for (int i = 0; i < items.size(); ++i) {
        const RecordFormat::Item item = items.at(i);
        steps->append([this, job, item, error, i](std::function<void()> next) {
            if (*error) { // the main item failed: do not write secondaries for it
                next();
                return;
            }
            writeItem(job, item.key, item.data, [error, next, i](const Error &we) {
                if (we && !*error)
                    *error = we;
                if (!we)
                    testKillPoint(i == 0 ? "after-main-write" : "after-secondary-write");
                if (we && i > 0)
                    qCWarning(lcStore) << "could not write a secondary keychain item:" << we.code();
                next();
            });
        });
    }
    runSteps(steps, 0, [job, error] { KeychainTokenStoreFinisher::finishJob(job, *error); });
}

void KeychainTokenStorePrivate::doRemove(TokenStoreJob *job)
{
    const QString key = job->key();
    // Learn the secondary items from the main item, then delete the main item first (the
    // session is gone at once), then the secondary ones.
    readItem(job, key, [this, job, key](const Error &re, const QByteArray &data) {
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
        } else if (re.code() != Error::Code::NotFound) {
            KeychainTokenStoreFinisher::finishJob(job, re);
            return;
        }
        keys.removeDuplicates();
        auto error = std::make_shared<Error>();
        auto steps = std::make_shared<QList<Step>>();
        for (const QString &k : std::as_const(keys)) {
            steps->append([this, job, k, error](std::function<void()> next) {
                deleteItem(job, k, [error, next](const Error &de) {
                    if (de && !*error)
                        *error = de;
                    next();
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
    writeItem(job, key, value, [this, job, key, value, unavailable](const Error &we) {
        if (we) {
            // Whatever the cause, a backend that cannot store a probe cannot store a session.
            KeychainTokenStoreFinisher::finishJob(job, unavailable(we.message()));
            return;
        }
        readItem(job, key, [this, job, key, value, unavailable](const Error &re, const QByteArray &data) {
            const bool same = !re && Crypto::constantTimeEquals(data, value);
            deleteItem(job, key, [job, re, same, unavailable](const Error &de) {
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
    d->service = serviceName;
}

KeychainTokenStore::~KeychainTokenStore() = default;

QString KeychainTokenStore::serviceName() const { return d->service; }
QString KeychainTokenStore::appId() const { return serviceName(); }

void KeychainTokenStore::startJob(TokenStoreJob *job)
{
    if (d->service.isEmpty()) {
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
