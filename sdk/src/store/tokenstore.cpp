// SPDX-License-Identifier: MIT
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"

#include <QtCore/QPointer>
#include <QtCore/QUrl>

namespace Keyloop {

class TokenStoreJobPrivate
{
public:
    QPointer<TokenStore> store;
    TokenStoreJob::Operation operation = TokenStoreJob::Operation::Read;
    QString key;
    SessionRecord record;
};

TokenStoreJob::TokenStoreJob(TokenStore *store, Operation operation, const QString &key, const SessionRecord &record)
    : Job(store), d(std::make_unique<TokenStoreJobPrivate>())
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

void TokenStoreJob::doStart()
{
    if (!d->store) {
        TokenStore::finishJob(this, Error(Error::Code::StorageFailed, QStringLiteral("the token store was destroyed")));
        return;
    }
    d->store->startJob(this);
}

TokenStore::TokenStore(QObject *parent) : QObject(parent) {}
TokenStore::~TokenStore() = default;

QString TokenStore::appId() const { return QString(); }

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
    if (job->isFinished())
        return; // cancelled meanwhile (Job::emitResult() reports a true double finish)
    if (job->d->operation == TokenStoreJob::Operation::Read)
        job->d->record = error ? SessionRecord() : record;
    job->emitResult(error);
}

} // namespace Keyloop
