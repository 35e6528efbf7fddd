// SPDX-License-Identifier: MIT
// Format version 2: a keychain item too large for the platform is stored as a small head
// item plus chunk items (docs/token-storage.md, "Large items"). Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

namespace Keyloop::ChunkFormat {

/// The Windows Credential Manager's limit on one secret (CRED_MAX_CREDENTIAL_BLOB_SIZE,
/// 5 × 512 bytes); QtKeychain 0.13 stores an item's bytes as that blob. Used on every platform,
/// so that the stored layout is the same everywhere.
constexpr int DefaultMaxItemSize = 2560;
/// The smallest limit accepted (a head must fit, and a chunk must carry something).
constexpr int MinMaxItemSize = 512;
/// At most this many chunks per item (with the default limit about 57 KB): anything larger is
/// no token a provider issues.
constexpr int MaxChunks = 32;

/// Two sets of chunk keys per item. The main item alternates between them, so that a new
/// record's chunks never overwrite the chunks the current head still names.
enum class Slot { A, B };
inline Slot otherSlot(Slot slot) { return slot == Slot::A ? Slot::B : Slot::A; }

/// `<item key>#chunk:<a|b>:<index>`
QString chunkKey(const QString &itemKey, Slot slot, int index);

/// What a head item says.
struct Head
{
    QByteArray generation; ///< the write it belongs to; every chunk carries the same
    Slot slot = Slot::A;
    int count = 0;         ///< 0: not chunked (the item was stored whole)
    qsizetype length = 0;  ///< bytes of the whole item
};

/// One logical item as stored: the item itself when it fits, else a head and its chunks.
struct Stored
{
    QByteArray head;          ///< written at the item's key (last)
    QList<QByteArray> chunks; ///< chunks[i] is written at chunkKey(key, slot, i) (first); empty when whole
};

/// Splits \a data (an item's JSON) so that every stored piece has at most \a maxSize bytes.
/// StorageFailed when more than MaxChunks chunks would be needed.
Error split(const QByteArray &data, const QByteArray &generation, Slot slot, int maxSize, Stored *out);

/// True when \a data, read at an item's key, is a head rather than a whole item.
bool isHead(const QByteArray &data);
/// Parses a head (StorageCorrupt when damaged).
Error parseHead(const QByteArray &data, Head *head);
/// Checks chunk \a index of \a head and appends its bytes to \a assembled; StorageCorrupt when
/// it is damaged, of another write or out of place.
Error appendChunk(const QByteArray &data, const Head &head, int index, QByteArray *assembled);
/// StorageCorrupt unless \a assembled has the head's length.
Error checkAssembled(const Head &head, const QByteArray &assembled);

} // namespace Keyloop::ChunkFormat
