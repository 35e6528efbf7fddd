// SPDX-License-Identifier: MIT
#include "store/keychainitems_p.h"

#include "core/logging_p.h"
#include "store/keychainerror_p.h"

#include <qt6keychain/keychain.h>

namespace Keyloop {

void runSteps(std::shared_ptr<QList<Step>> steps, int index, std::function<void()> done)
{
    if (index >= steps->size()) {
        done();
        return;
    }
    (*steps)[index]([steps, index, done] { runSteps(steps, index + 1, done); });
}

void KeychainItems::read(QObject *context, const QString &key, ReadCallback callback) const
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

void KeychainItems::write(QObject *context, const QString &key, const QByteArray &data, DoneCallback callback) const
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

void KeychainItems::remove(QObject *context, const QString &key, DoneCallback callback) const
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

void KeychainItems::readLogical(QObject *context, const QString &key, LogicalReadCallback callback) const
{
    readLogical(context, key, std::move(callback), 0);
}

void KeychainItems::readLogical(QObject *context, const QString &key, LogicalReadCallback callback, int attempt) const
{
    read(context, key, [this, context, key, callback, attempt](const Error &e, const QByteArray &data) {
        if (e || !ChunkFormat::isHead(data)) {
            callback(e, data, ChunkFormat::Head());
            return;
        }
        ChunkFormat::Head head;
        if (Error he = ChunkFormat::parseHead(data, &head)) {
            callback(he, QByteArray(), ChunkFormat::Head());
            return;
        }
        auto assembled = std::make_shared<QByteArray>();
        auto error = std::make_shared<Error>();
        auto steps = std::make_shared<QList<Step>>();
        for (int i = 0; i < head.count; ++i) {
            steps->append([this, context, key, head, i, assembled, error](std::function<void()> next) {
                if (*error) {
                    next();
                    return;
                }
                read(context, ChunkFormat::chunkKey(key, head.slot, i),
                     [head, i, assembled, error, next](const Error &re, const QByteArray &chunk) {
                         if (re.code() == Error::Code::NotFound)
                             *error = Error(Error::Code::StorageCorrupt, QStringLiteral("stored session: a chunk is missing"));
                         else if (re)
                             *error = re;
                         else
                             *error = ChunkFormat::appendChunk(chunk, head, i, assembled.get());
                         next();
                     });
            });
        }
        runSteps(steps, 0, [this, context, key, callback, attempt, head, assembled, error] {
            Error result = *error ? *error : ChunkFormat::checkAssembled(head, *assembled);
            if (result.code() == Error::Code::StorageCorrupt && attempt == 0) {
                // Most likely a write replaced the item while we read it: its new head names
                // complete chunks. Read once more; a second failure is real damage.
                qCDebug(lcStore) << "chunked keychain item changed while read; reading it again";
                readLogical(context, key, callback, attempt + 1);
                return;
            }
            callback(result, result ? QByteArray() : *assembled, head);
        });
    });
}

void KeychainItems::writeLogical(QObject *context, const QString &key, const ChunkFormat::Stored &stored,
                                 ChunkFormat::Slot slot, std::function<void()> afterChunks, DoneCallback callback) const
{
    auto error = std::make_shared<Error>();
    auto steps = std::make_shared<QList<Step>>();
    for (int i = 0; i < stored.chunks.size(); ++i) {
        steps->append([this, context, key, slot, i, chunk = stored.chunks.at(i), error](std::function<void()> next) {
            if (*error) {
                next();
                return;
            }
            write(context, ChunkFormat::chunkKey(key, slot, i), chunk, [error, next](const Error &we) {
                *error = we;
                next();
            });
        });
    }
    // The head last: until it is written, the previous head (and its chunks) stay in force.
    steps->append([this, context, key, head = stored.head, chunked = !stored.chunks.isEmpty(), afterChunks,
                   error](std::function<void()> next) {
        if (*error) {
            next();
            return;
        }
        if (chunked && afterChunks)
            afterChunks();
        write(context, key, head, [error, next](const Error &we) {
            *error = we;
            next();
        });
    });
    runSteps(steps, 0, [error, callback] { callback(*error); });
}

void KeychainItems::removeChunks(QObject *context, const QString &key, ChunkFormat::Slot slot, int from,
                                 std::function<void()> done) const
{
    if (from >= ChunkFormat::MaxChunks) {
        done();
        return;
    }
    // Read first: a read of an absent item reliably answers EntryNotFound (a delete may report
    // success either way), and the chunks of one item are numbered without gaps.
    const QString chunk = ChunkFormat::chunkKey(key, slot, from);
    read(context, chunk, [this, context, key, slot, from, chunk, done](const Error &re, const QByteArray &) {
        if (re) {
            if (re.code() != Error::Code::NotFound)
                qCDebug(lcStore) << "leftover chunk not checked:" << re.code();
            done();
            return;
        }
        remove(context, chunk, [this, context, key, slot, from, done](const Error &de) {
            if (de) {
                qCWarning(lcStore) << "could not delete a leftover keychain chunk:" << de.code();
                done();
                return;
            }
            removeChunks(context, key, slot, from + 1, done);
        });
    });
}

} // namespace Keyloop
