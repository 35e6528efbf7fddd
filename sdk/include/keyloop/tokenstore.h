// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
#include <keyloop/sessionrecord.h>

#include <QtCore/QObject>
#include <QtCore/QString>

#include <memory>

namespace Keyloop {

class TokenStore;
class TokenStoreJobPrivate;

/*!
 * \brief One asynchronous token-store operation, in the QtKeychain job style.
 *
 * Obtain a job from TokenStore::read(), write(), remove() or probe(), connect to finished(),
 * then call start(). It is a Job: start() is queued, finished() is emitted exactly once, also
 * on immediate failures, and then the job deletes itself unless setAutoDelete(false) was
 * called. cancel() only stops the result from being reported: a keychain operation already
 * handed to the OS may still complete.
 * \code
 * Keyloop::TokenStoreJob *job = store->read(key);
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (job->error().code() == Keyloop::Error::Code::NotFound) { ... sign in ... }
 *     else if (job->error()) { ... report job->error().message() ... }
 *     else use(job->record());
 * });
 * job->start();
 * \endcode
 */
class KEYLOOP_EXPORT TokenStoreJob : public Job
{
    Q_OBJECT
public:
    /// Which TokenStore function made the job.
    enum class Operation {
        Read,   ///< read(key): record() is the stored record, or error NotFound
        Write,  ///< write(key, record): record() is the record to write
        Remove, ///< remove(key): removing an absent record succeeds
        Probe,  ///< probe(): write, read back and delete a probe item
    };
    Q_ENUM(Operation)

    ~TokenStoreJob() override;

    /// What the job does.
    Operation operation() const;
    /// The record's key (TokenStore::keyFor()); empty for probes.
    QString key() const;
    /// Read: the record read (null on error). Write: the record being written.
    SessionRecord record() const;
    // error(): null on success; codes StorageUnavailable, StorageFailed, StorageCorrupt, NotFound.

protected:
    void doStart() override;

private:
    friend class TokenStore;
    TokenStoreJob(TokenStore *store, Operation operation, const QString &key, const SessionRecord &record);
    std::unique_ptr<TokenStoreJobPrivate> d;
};

/*!
 * \brief Where sessions are kept: the extension point for token storage.
 *
 * Implementations: KeychainTokenStore (the OS keychain via QtKeychain; the default) and
 * MemoryTokenStore (nothing survives the process). A subclass implements startJob() and
 * completes every job exactly once with finishJob(), synchronously or later.
 *
 * A store holds secrets; it must never write them to a plain file.
 */
class KEYLOOP_EXPORT TokenStore : public QObject
{
    Q_OBJECT
public:
    /// For subclasses.
    explicit TokenStore(QObject *parent = nullptr);
    ~TokenStore() override;

    /*!
     * The stable key of a session: `<account>@<client_id>@<issuer>`, each part
     * percent-encoded (RFC 3986 §2.1, everything but unreserved characters), so the three
     * parts can never run into each other. Documented in docs/token-storage.md; changing it
     * would orphan stored sessions. Pass the issuer as issuerIdentifier() gives it, as
     * Session does: `keyFor(Keyloop::issuerIdentifier(client.issuer()), …)`.
     */
    static QString keyFor(const QString &issuer, const QString &clientId, const QString &account);

    /// The application id this store belongs to (KeychainTokenStore: the service name). It
    /// names the cross-process lock of the sessions using the store. Default: empty.
    virtual QString appId() const;

    /// A job reading the record stored under \a key (error NotFound when there is none).
    [[nodiscard]] TokenStoreJob *read(const QString &key);
    /// A job replacing the record stored under \a key.
    [[nodiscard]] TokenStoreJob *write(const QString &key, const SessionRecord &record);
    /// A job removing the record stored under \a key (absent is success).
    [[nodiscard]] TokenStoreJob *remove(const QString &key);
    /*!
     * A job that writes, reads back and deletes a probe item. A read that answers
     * "not found" does not prove a keychain works (a locked keyring answers that too), so
     * do this before the first save, not at start-up (it may raise an unlock prompt).
     * Fails with StorageUnavailable when the backend cannot store secrets.
     */
    [[nodiscard]] TokenStoreJob *probe();

protected:
    /// Performs \a job (see TokenStoreJob::operation()). Called from the event loop after
    /// TokenStoreJob::start(). Must end in finishJob(job, …) exactly once.
    virtual void startJob(TokenStoreJob *job) = 0;
    /// Completes \a job: sets its error (and, for reads, the record) and emits finished().
    static void finishJob(TokenStoreJob *job, const Error &error, const SessionRecord &record = SessionRecord());

private:
    friend class TokenStoreJob;
};

} // namespace Keyloop
