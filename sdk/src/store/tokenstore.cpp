// SPDX-License-Identifier: MIT
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtCore/QUrl>

namespace Keyloop {

class TokenStoreJobPrivate
{
public:
    QPointer<TokenStore> store;
    TokenStoreJob::Operation operation = TokenStoreJob::Operation::Read;
    QString key;
    SessionRecord record;
    Error error;
    bool autoDelete = true;
    bool started = false;
    bool finished = false;
};

TokenStoreJob::TokenStoreJob(TokenStore *store, Operation operation, const QString &key, const SessionRecord &record)
    : QObject(store), d(std::make_unique<TokenStoreJobPrivate>())
{
    d->store = store;
    d->operation = operation;
    d->key = key;
    d->record = record;
}

TokenStoreJob::~TokenStoreJob() = default;

TokenStoreJob::Operation TokenStoreJob::operation() const { return d->operation; }
QString TokenStoreJob::key() const { return d->key; }
SessionRecord TokenStoreJob::record() const { return d->record; }
Error TokenStoreJob::error() const { return d->error; }
bool TokenStoreJob::autoDelete() const { return d->autoDelete; }
void TokenStoreJob::setAutoDelete(bool autoDelete) { d->autoDelete = autoDelete; }
bool TokenStoreJob::isFinished() const { return d->finished; }

void TokenStoreJob::start()
{
    if (d->started)
        return;
    d->started = true;
    QTimer::singleShot(0, this, [this] {
        if (!d->store) {
            TokenStore::finishJob(this, Error(Error::Code::StorageFailed, QStringLiteral("the token store was destroyed")));
            return;
        }
        d->store->startJob(this);
    });
}

TokenStore::TokenStore(QObject *parent) : QObject(parent) {}
TokenStore::~TokenStore() = default;

QString TokenStore::keyFor(const QString &issuer, const QString &clientId, const QString &account)
{
    const auto enc = [](const QString &s) { return QString::fromLatin1(QUrl::toPercentEncoding(s)); };
    return enc(account) + QLatin1Char('@') + enc(clientId) + QLatin1Char('@') + enc(issuer);
}

TokenStoreJob *TokenStore::read(const QString &key)
{
    return new TokenStoreJob(this, TokenStoreJob::Operation::Read, key, SessionRecord());
}

TokenStoreJob *TokenStore::write(const QString &key, const SessionRecord &record)
{
    return new TokenStoreJob(this, TokenStoreJob::Operation::Write, key, record);
}

TokenStoreJob *TokenStore::remove(const QString &key)
{
    return new TokenStoreJob(this, TokenStoreJob::Operation::Remove, key, SessionRecord());
}

TokenStoreJob *TokenStore::probe()
{
    return new TokenStoreJob(this, TokenStoreJob::Operation::Probe, QString(), SessionRecord());
}

void TokenStore::finishJob(TokenStoreJob *job, const Error &error, const SessionRecord &record)
{
    if (!job)
        return;
    if (job->d->finished) {
        qCWarning(lcStore) << "a token store job was finished twice; ignored";
        return;
    }
    job->d->finished = true;
    job->d->error = error;
    if (job->d->operation == TokenStoreJob::Operation::Read)
        job->d->record = error ? SessionRecord() : record;
    Q_EMIT job->finished(job);
    if (job->d->autoDelete)
        job->deleteLater();
}

} // namespace Keyloop
