// SPDX-License-Identifier: MIT
// Format version 2: items larger than the platform's limit split into a head and chunks that
// each fit, put back together only when every chunk belongs to the same write.
#include "store/chunkformat_p.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

using namespace Keyloop;
using namespace Keyloop::ChunkFormat;

namespace {

QByteArray itemOfSize(qsizetype size)
{
    // An item's JSON with non-ASCII text in it (display names are UTF-8).
    QByteArray data = "{\"format\":\"keyloop.access_token\",\"access_token\":\"";
    const QByteArray filler = QStringLiteral("eyJhbGciOiJSUzI1NiJ9.Zoë-ß-").toUtf8();
    while (data.size() < size - 2)
        data += filler;
    data.truncate(size - 2);
    return data + "\"}";
}

// Runs the read side over \a stored; the error, or the item put back together.
Error reassemble(const Stored &stored, QByteArray *out)
{
    if (!isHead(stored.head)) {
        *out = stored.head;
        return {};
    }
    Head head;
    if (Error e = parseHead(stored.head, &head))
        return e;
    if (head.count != stored.chunks.size())
        return Error(Error::Code::StorageCorrupt, QStringLiteral("count"));
    QByteArray assembled;
    for (int i = 0; i < head.count; ++i) {
        if (Error e = appendChunk(stored.chunks.at(i), head, i, &assembled))
            return e;
    }
    if (Error e = checkAssembled(head, assembled))
        return e;
    *out = assembled;
    return {};
}

} // namespace

class TestChunkFormat : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void itemThatFitsIsStoredWhole()
    {
        const QByteArray data = itemOfSize(2560);
        Stored stored;
        QVERIFY(!split(data, "gen", Slot::A, DefaultMaxItemSize, &stored));
        QCOMPARE(stored.head, data);
        QVERIFY(stored.chunks.isEmpty());
        QVERIFY(!isHead(stored.head));
    }

    void everyPieceFitsAndTheItemComesBack_data()
    {
        QTest::addColumn<int>("maxSize");
        QTest::addColumn<int>("size");
        QTest::newRow("one byte over the Windows limit") << DefaultMaxItemSize << DefaultMaxItemSize + 1;
        QTest::newRow("Entra-sized access token") << DefaultMaxItemSize << 4800;
        QTest::newRow("large ID token") << DefaultMaxItemSize << 16 * 1024;
        QTest::newRow("smallest limit") << MinMaxItemSize << 5000;
        QTest::newRow("exact multiple") << 1000 << 3 * 1000;
    }

    void everyPieceFitsAndTheItemComesBack()
    {
        QFETCH(int, maxSize);
        QFETCH(int, size);
        const QByteArray data = itemOfSize(size);
        Stored stored;
        const Error e = split(data, "gen-1", Slot::B, maxSize, &stored);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(stored.chunks.size() >= 2);
        QVERIFY(stored.head.size() <= maxSize);
        for (const QByteArray &chunk : std::as_const(stored.chunks))
            QVERIFY2(chunk.size() <= maxSize, qPrintable(QString::number(chunk.size())));
        Head head;
        QVERIFY(isHead(stored.head));
        QVERIFY(!parseHead(stored.head, &head));
        QCOMPARE(head.slot, Slot::B);
        QCOMPARE(head.count, int(stored.chunks.size()));
        QCOMPARE(head.length, qsizetype(size));
        QCOMPARE(head.generation, QByteArray("gen-1"));
        QByteArray back;
        QVERIFY(!reassemble(stored, &back));
        QCOMPARE(back, data);
    }

    void chunkKeysNameTheSlot()
    {
        QCOMPARE(chunkKey(QStringLiteral("a%40b@c@https%3A%2F%2Fi"), Slot::A, 0),
                 QStringLiteral("a%40b@c@https%3A%2F%2Fi#chunk:a:0"));
        QCOMPARE(chunkKey(QStringLiteral("k#id_token"), Slot::B, 12), QStringLiteral("k#id_token#chunk:b:12"));
        QCOMPARE(otherSlot(Slot::A), Slot::B);
        QCOMPARE(otherSlot(Slot::B), Slot::A);
    }

    void tooLargeAnItemIsAnError()
    {
        Stored stored;
        const Error e = split(itemOfSize(MaxChunks * MinMaxItemSize), "g", Slot::A, MinMaxItemSize, &stored);
        QCOMPARE(e.code(), Error::Code::StorageFailed);
        QVERIFY(stored.chunks.isEmpty());
    }

    void chunkOfAnotherWriteIsNeverMixedIn()
    {
        Stored older, newer;
        QVERIFY(!split(itemOfSize(6000), "old", Slot::A, DefaultMaxItemSize, &older));
        QVERIFY(!split(itemOfSize(6000), "new", Slot::A, DefaultMaxItemSize, &newer));
        Stored mixed = newer;
        mixed.chunks[1] = older.chunks.at(1); // a crash or a concurrent write left an old chunk
        QByteArray back;
        QCOMPARE(reassemble(mixed, &back).code(), Error::Code::StorageCorrupt);
    }

    void damagedChunksAreCorrupt_data()
    {
        QTest::addColumn<int>("damage");
        QTest::newRow("swapped") << 0;
        QTest::newRow("missing") << 1;
        QTest::newRow("truncated data") << 2;
        QTest::newRow("not base64url") << 3;
        QTest::newRow("not a chunk") << 4;
    }

    void damagedChunksAreCorrupt()
    {
        QFETCH(int, damage);
        Stored stored;
        QVERIFY(!split(itemOfSize(8000), "g", Slot::A, DefaultMaxItemSize, &stored));
        QVERIFY(stored.chunks.size() >= 3);
        auto edit = [&](int i, const char *member, const QJsonValue &value) {
            QJsonObject o = QJsonDocument::fromJson(stored.chunks.at(i)).object();
            o[QString::fromLatin1(member)] = value;
            stored.chunks[i] = QJsonDocument(o).toJson(QJsonDocument::Compact);
        };
        switch (damage) {
        case 0: stored.chunks.swapItemsAt(0, 1); break;
        case 1: stored.chunks.removeLast(); break;
        case 2: {
            const QString data = QJsonDocument::fromJson(stored.chunks.at(1)).object().value(QStringLiteral("data")).toString();
            edit(1, "data", data.left(data.size() / 2));
            break;
        }
        case 3: edit(0, "data", QStringLiteral("not base64url!")); break;
        case 4: stored.chunks[2] = "{\"format\":\"keyloop.session\",\"version\":2}"; break;
        }
        QByteArray back;
        QCOMPARE(reassemble(stored, &back).code(), Error::Code::StorageCorrupt);
    }

    void damagedHeadIsCorrupt_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::newRow("no chunks") << QByteArray(R"({"format":"keyloop.chunked","version":2,"generation":"g","slot":"a","chunks":0,"length":5})");
        QTest::newRow("too many chunks") << QByteArray(R"({"format":"keyloop.chunked","version":2,"generation":"g","slot":"a","chunks":99,"length":5})");
        QTest::newRow("unknown slot") << QByteArray(R"({"format":"keyloop.chunked","version":2,"generation":"g","slot":"c","chunks":2,"length":5})");
        QTest::newRow("no generation") << QByteArray(R"({"format":"keyloop.chunked","version":2,"slot":"a","chunks":2,"length":5})");
        QTest::newRow("unknown version") << QByteArray(R"({"format":"keyloop.chunked","version":3,"generation":"g","slot":"a","chunks":2,"length":5})");
    }

    void damagedHeadIsCorrupt()
    {
        QFETCH(QByteArray, head);
        QVERIFY(isHead(head));
        Head parsed;
        QCOMPARE(parseHead(head, &parsed).code(), Error::Code::StorageCorrupt);
    }
};

QTEST_GUILESS_MAIN(TestChunkFormat)
#include "tst_chunkformat.moc"
