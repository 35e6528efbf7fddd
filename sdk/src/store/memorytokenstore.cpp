// SPDX-License-Identifier: MIT
#include <keyloop/memorytokenstore.h>

#include <QtCore/QHash>

namespace Keyloop {

class MemoryTokenStorePrivate
{
public:
    QHash<QString, SessionRecord> records;
    QString appId;
};

MemoryTokenStore::MemoryTokenStore(QObject *parent)
    : TokenStore(parent), d(std::make_unique<MemoryTokenStorePrivate>())
{
}

MemoryTokenStore::MemoryTokenStore(const QString &appId, QObject *parent)
    : TokenStore(parent), d(std::make_unique<MemoryTokenStorePrivate>())
{
    d->appId = appId;
}

QString MemoryTokenStore::appId() const { return d->appId; }

MemoryTokenStore::~MemoryTokenStore() = default;

QStringList MemoryTokenStore::keys() const
{
    QStringList keys = d->records.keys();
    keys.sort();
    return keys;
}

void MemoryTokenStore::startJob(TokenStoreJob *job)
{
    switch (job->operation()) {
    case TokenStoreJob::Operation::Read: {
        const auto it = d->records.constFind(job->key());
        if (it == d->records.cend())
            finishJob(job, Error(Error::Code::NotFound, QStringLiteral("no stored session for this account")));
        else
            finishJob(job, Error(), it.value());
        return;
    }
    case TokenStoreJob::Operation::Write:
        d->records.insert(job->key(), job->record());
        finishJob(job, Error());
        return;
    case TokenStoreJob::Operation::Remove:
        d->records.remove(job->key());
        finishJob(job, Error());
        return;
    case TokenStoreJob::Operation::Probe:
        finishJob(job, Error());
        return;
    }
}

} // namespace Keyloop
