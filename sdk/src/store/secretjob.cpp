// SPDX-License-Identifier: MIT
// SecretJob: one keychain item (an API key, a client secret) through QtKeychain, never with the
// plaintext fallback.
#include <keyloop/secretjob.h>

#include "core/logging_p.h"
#include "store/keychainerror_p.h"

#include <qt6keychain/keychain.h>

namespace Keyloop {

class SecretJobPrivate
{
public:
    SecretJob::Operation operation = SecretJob::Operation::Read;
    QString service;
    QString name;
    QByteArray secret;
};

SecretJob::SecretJob(Operation operation, const QString &serviceName, const QString &name, const QByteArray &secret,
                     QObject *parent)
    : Job(parent), d(std::make_unique<SecretJobPrivate>())
{
    d->operation = operation;
    d->service = serviceName;
    d->name = name;
    d->secret = secret;
}

SecretJob::~SecretJob() = default;

SecretJob *SecretJob::read(const QString &serviceName, const QString &name, QObject *parent)
{
    return new SecretJob(Operation::Read, serviceName, name, QByteArray(), parent);
}

SecretJob *SecretJob::write(const QString &serviceName, const QString &name, const QByteArray &secret, QObject *parent)
{
    return new SecretJob(Operation::Write, serviceName, name, secret, parent);
}

SecretJob *SecretJob::remove(const QString &serviceName, const QString &name, QObject *parent)
{
    return new SecretJob(Operation::Remove, serviceName, name, QByteArray(), parent);
}

SecretJob::Operation SecretJob::operation() const { return d->operation; }
QString SecretJob::serviceName() const { return d->service; }
QString SecretJob::name() const { return d->name; }
QByteArray SecretJob::secret() const { return d->secret; }

void SecretJob::doStart()
{
    if (d->service.isEmpty() || d->name.isEmpty()) {
        emitResult(Error(Error::Code::InvalidConfiguration, QStringLiteral("a keychain secret needs a service name and a name")));
        return;
    }
    QKeychain::Job *job = nullptr;
    QString what;
    switch (d->operation) {
    case Operation::Read:
        job = new QKeychain::ReadPasswordJob(d->service);
        what = QStringLiteral("read");
        break;
    case Operation::Write: {
        if (d->secret.isEmpty()) {
            emitResult(Error(Error::Code::InvalidConfiguration, QStringLiteral("an empty secret is not stored")));
            return;
        }
        auto *write = new QKeychain::WritePasswordJob(d->service);
        write->setBinaryData(d->secret);
        job = write;
        what = QStringLiteral("write");
        break;
    }
    case Operation::Remove:
        job = new QKeychain::DeletePasswordJob(d->service);
        what = QStringLiteral("delete");
        break;
    }
    job->setInsecureFallback(false); // never plaintext
    job->setAutoDelete(true);
    job->setKey(d->name);
    qCDebug(lcStore) << "keychain secret" << what << "started";
    connect(job, &QKeychain::Job::finished, this, [this, job, what](QKeychain::Job *) {
        Error e = keychainError(job->error(), job->errorString(), what);
        switch (d->operation) {
        case Operation::Read:
            if (e.code() == Error::Code::NotFound)
                e = Error(Error::Code::NotFound, QStringLiteral("no such secret in the keychain"));
            else if (!e)
                d->secret = static_cast<QKeychain::ReadPasswordJob *>(job)->binaryData();
            break;
        case Operation::Write:
            if (e.code() == Error::Code::NotFound)
                e = Error(Error::Code::StorageFailed, QStringLiteral("keychain write failed: entry not found"));
            break;
        case Operation::Remove:
            if (e.code() == Error::Code::NotFound)
                e = Error(); // removing an absent secret is success
            break;
        }
        emitResult(e);
    });
    job->start();
}

} // namespace Keyloop
