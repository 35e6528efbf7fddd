// SPDX-License-Identifier: MIT
#include "store/chunkformat_p.h"

#include "core/crypto_p.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace Keyloop::ChunkFormat {

namespace {

// Heads and chunks exist since record format version 2.
constexpr int kVersion = 2;
const QString kFormat = QStringLiteral("format");
const QString kHeadTag = QStringLiteral("keyloop.chunked");
const QString kChunkTag = QStringLiteral("keyloop.chunk");

Error corrupt(const QString &what)
{
    return Error(Error::Code::StorageCorrupt, QStringLiteral("stored session: %1").arg(what));
}

QString slotName(Slot slot) { return slot == Slot::A ? QStringLiteral("a") : QStringLiteral("b"); }

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

QByteArray chunkItem(const QByteArray &generation, int index, QByteArrayView part)
{
    return compact(QJsonObject{{kFormat, kChunkTag},
                               {QStringLiteral("version"), kVersion},
                               {QStringLiteral("generation"), QString::fromLatin1(generation)},
                               {QStringLiteral("index"), index},
                               {QStringLiteral("data"), QString::fromLatin1(Crypto::base64UrlEncode(part))}});
}

bool parseObject(const QByteArray &data, QJsonObject *object)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    *object = doc.object();
    return true;
}

} // namespace

QString chunkKey(const QString &itemKey, Slot slot, int index)
{
    return itemKey + QStringLiteral("#chunk:") + slotName(slot) + QLatin1Char(':') + QString::number(index);
}

Error split(const QByteArray &data, const QByteArray &generation, Slot slot, int maxSize, Stored *out)
{
    *out = Stored();
    if (data.size() <= maxSize) {
        out->head = data;
        return {};
    }
    // Room for base64url characters in one chunk item, then the bytes they carry.
    const qsizetype overhead = chunkItem(generation, MaxChunks, QByteArrayView()).size();
    const qsizetype perChunk = (maxSize - overhead) / 4 * 3;
    const qsizetype count = perChunk > 0 ? (data.size() + perChunk - 1) / perChunk : MaxChunks + 1;
    if (count > MaxChunks) {
        return Error(Error::Code::StorageFailed,
                     QStringLiteral("a keychain item of %1 bytes would need more than %2 parts of %3 bytes")
                         .arg(data.size())
                         .arg(MaxChunks)
                         .arg(maxSize));
    }
    for (qsizetype i = 0; i < count; ++i)
        out->chunks.append(chunkItem(generation, int(i), QByteArrayView(data).sliced(i * perChunk, qMin(perChunk, data.size() - i * perChunk))));
    out->head = compact(QJsonObject{{kFormat, kHeadTag},
                                    {QStringLiteral("version"), kVersion},
                                    {QStringLiteral("generation"), QString::fromLatin1(generation)},
                                    {QStringLiteral("slot"), slotName(slot)},
                                    {QStringLiteral("chunks"), int(count)},
                                    {QStringLiteral("length"), double(data.size())}});
    return {};
}

bool isHead(const QByteArray &data)
{
    QJsonObject o;
    return parseObject(data, &o) && o.value(kFormat).toString() == kHeadTag;
}

Error parseHead(const QByteArray &data, Head *head)
{
    QJsonObject o;
    if (!parseObject(data, &o) || o.value(kFormat).toString() != kHeadTag)
        return corrupt(QStringLiteral("item is not a %1 item").arg(kHeadTag));
    if (o.value(QStringLiteral("version")).toInteger(-1) != kVersion)
        return corrupt(QStringLiteral("unknown chunked item version %1").arg(o.value(QStringLiteral("version")).toInteger(-1)));
    Head h;
    h.generation = o.value(QStringLiteral("generation")).toString().toLatin1();
    const QString slot = o.value(QStringLiteral("slot")).toString();
    h.slot = slot == QLatin1String("b") ? Slot::B : Slot::A;
    h.count = int(o.value(QStringLiteral("chunks")).toInteger(-1));
    h.length = o.value(QStringLiteral("length")).toInteger(-1);
    if (h.generation.isEmpty() || (slot != QLatin1String("a") && slot != QLatin1String("b")) || h.count < 1
        || h.count > MaxChunks || h.length < 1)
        return corrupt(QStringLiteral("chunked item head is damaged"));
    *head = h;
    return {};
}

Error appendChunk(const QByteArray &data, const Head &head, int index, QByteArray *assembled)
{
    QJsonObject o;
    if (!parseObject(data, &o) || o.value(kFormat).toString() != kChunkTag
        || o.value(QStringLiteral("version")).toInteger(-1) != kVersion)
        return corrupt(QStringLiteral("item is not a %1 item").arg(kChunkTag));
    // Generation and index tie the chunk to this head: a chunk of another write (a crash, or
    // a write running while this read) is refused, never mixed in.
    if (o.value(QStringLiteral("generation")).toString().toLatin1() != head.generation)
        return corrupt(QStringLiteral("chunk belongs to another write"));
    if (o.value(QStringLiteral("index")).toInteger(-1) != index)
        return corrupt(QStringLiteral("chunk is out of place"));
    const std::optional<QByteArray> part = Crypto::base64UrlDecode(o.value(QStringLiteral("data")).toString().toLatin1());
    if (!part || part->isEmpty() || assembled->size() + part->size() > head.length)
        return corrupt(QStringLiteral("chunk is damaged"));
    assembled->append(*part);
    return {};
}

Error checkAssembled(const Head &head, const QByteArray &assembled)
{
    if (assembled.size() != head.length)
        return corrupt(QStringLiteral("chunked item is incomplete"));
    return {};
}

} // namespace Keyloop::ChunkFormat
