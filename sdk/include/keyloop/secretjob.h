// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/job.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <memory>

namespace Keyloop {

class SecretJobPrivate;

/*!
 * \brief Reads, writes or removes one secret in the OS keychain (QtKeychain: libsecret,
 * Keychain Services, Windows Credential Manager): an API key, a client secret.
 *
 * A Job: created by read(), write() or remove() (nothing happens before start(), which is
 * queued), finished() exactly once, then it deletes itself unless setAutoDelete(false).
 * cancel() only stops the result from being reported: an operation handed to the OS may still
 * complete.
 *
 * The secret lives under \a serviceName (the application id, as for KeychainTokenStore) and
 * \a name. QtKeychain's insecure (plaintext) fallback is always off: when no secure backend
 * works the job fails with Error::Code::StorageUnavailable and nothing is written anywhere
 * else. A read that finds nothing fails with NotFound; removing an absent secret succeeds.
 *
 * \code
 * Keyloop::SecretJob *job = Keyloop::SecretJob::read(QStringLiteral("org.example.MyApp"), QStringLiteral("api-key:weather"));
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (!job->error())
 *         use(job->secret()); // a secret: never log it
 * });
 * job->start();
 * \endcode
 */
class KEYLOOP_EXPORT SecretJob : public Job
{
    Q_OBJECT
public:
    /// What the job does.
    enum class Operation {
        Read,   ///< secret() is the stored secret, or error NotFound
        Write,  ///< replaces the stored secret
        Remove, ///< removing an absent secret succeeds
    };
    Q_ENUM(Operation)

    /// A job reading the secret \a name under \a serviceName (not started).
    [[nodiscard]] static SecretJob *read(const QString &serviceName, const QString &name, QObject *parent = nullptr);
    /// A job storing \a secret as \a name under \a serviceName, replacing any (not started).
    [[nodiscard]] static SecretJob *write(const QString &serviceName, const QString &name, const QByteArray &secret,
                                          QObject *parent = nullptr);
    /// A job removing the secret \a name under \a serviceName (not started).
    [[nodiscard]] static SecretJob *remove(const QString &serviceName, const QString &name, QObject *parent = nullptr);

    ~SecretJob() override;

    /// Read, Write or Remove.
    Operation operation() const;
    /// The keychain service name (the application id).
    QString serviceName() const;
    /// The secret's name (the keychain item's key) under serviceName().
    QString name() const;
    /// Read: the secret read (empty on error). Write: the secret being written. Never log it.
    QByteArray secret() const;
    // error(): null on success; StorageUnavailable, StorageFailed, NotFound (reads), Cancelled.

protected:
    void doStart() override;

private:
    SecretJob(Operation operation, const QString &serviceName, const QString &name, const QByteArray &secret,
              QObject *parent);
    std::unique_ptr<SecretJobPrivate> d;
};

} // namespace Keyloop
