// SPDX-License-Identifier: MIT
// Reading and writing single keychain items through QtKeychain, whole or in chunks
// (store/chunkformat_p.h). Private to the SDK; KeychainTokenStore decides what to write.
#pragma once

#include "store/chunkformat_p.h"

#include <keyloop/error.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>

namespace Keyloop {

/// Runs asynchronous steps one after another; each step calls its continuation when done.
using Step = std::function<void(std::function<void()>)>;
void runSteps(std::shared_ptr<QList<Step>> steps, int index, std::function<void()> done);

/*!
 * The keychain items of one service. Every call is asynchronous and calls back exactly once,
 * through \a context (a callback whose context is gone is not called). QtKeychain's insecure
 * fallback is off on every job.
 */
class KeychainItems
{
public:
    using ReadCallback = std::function<void(const Error &, const QByteArray &)>;
    using DoneCallback = std::function<void(const Error &)>;
    /// \a head is the item's head when it was stored in chunks (count 0 when it was whole).
    using LogicalReadCallback = std::function<void(const Error &, const QByteArray &, const ChunkFormat::Head &head)>;

    QString service;
    int maxItemSize = ChunkFormat::DefaultMaxItemSize;

    /// One keychain item as stored. NotFound when absent.
    void read(QObject *context, const QString &key, ReadCallback callback) const;
    void write(QObject *context, const QString &key, const QByteArray &data, DoneCallback callback) const;
    /// Removing an absent item is success.
    void remove(QObject *context, const QString &key, DoneCallback callback) const;

    /// The logical item at \a key: the item itself, or its chunks put together. A chunk that is
    /// missing or of another write (a write running meanwhile) makes it read the head once
    /// more; then StorageCorrupt.
    void readLogical(QObject *context, const QString &key, LogicalReadCallback callback) const;
    /// Writes \a stored at \a key: the chunks in \a slot first, then the head (the item's commit
    /// point). \a afterChunks runs between the two (a crash point in test builds).
    void writeLogical(QObject *context, const QString &key, const ChunkFormat::Stored &stored, ChunkFormat::Slot slot,
                      std::function<void()> afterChunks, DoneCallback callback) const;
    /// Deletes the chunks of \a key in \a slot from index \a from on, up to the first absent one:
    /// leftovers of earlier, larger writes. Failures are logged, not reported.
    void removeChunks(QObject *context, const QString &key, ChunkFormat::Slot slot, int from,
                      std::function<void()> done) const;

private:
    void readLogical(QObject *context, const QString &key, LogicalReadCallback callback, int attempt) const;
};

} // namespace Keyloop
