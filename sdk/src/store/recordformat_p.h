// SPDX-License-Identifier: MIT
// The versioned JSON format of stored sessions (docs/token-storage.md). Private to the SDK.
#pragma once

#include <keyloop/error.h>
#include <keyloop/sessionrecord.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

namespace Keyloop::RecordFormat {

/// The format version this build writes (docs/token-storage.md). Version 2 added chunked
/// items; version 3 the provider metadata remembered with the session and the grant id;
/// version 4 the DPoP private key (RFC 9449) in the main item.
constexpr int Version = 4;
/// The version the items of \a record are written in: Version for a session with a DPoP key,
/// else 3 (what Keyloop 0.2 reads: a downgrade keeps such a session).
int versionFor(const SessionRecord &record);
/// The oldest version this build still reads: items written by older builds stay readable.
constexpr int OldestReadableVersion = 1;

/// One keychain item: its key and its (secret) JSON value.
struct Item
{
    QString key;
    QByteArray data;
};

/// The keychain key of the access-token item for \a resource of the record at \a mainKey.
QString accessTokenKey(const QString &mainKey, const QString &resource);
/// The keychain key of the ID-token item of the record at \a mainKey.
QString idTokenKey(const QString &mainKey);

/// Splits \a record into its items: the main item first, then one per access token, then
/// the ID token item (if any). \a generation ties the secondary items to this main item.
QList<Item> encode(const QString &mainKey, const SessionRecord &record, const QByteArray &generation);

/// What the main item says about the secondary items.
struct MainInfo
{
    QByteArray generation;
    QStringList accessTokenResources; ///< resources with an access-token item
    bool hasIdToken = false;
};

/// Parses the main item into \a record. StorageCorrupt for damaged JSON, a wrong format
/// tag, an unknown version or a member of the wrong type.
Error decodeMain(const QByteArray &data, SessionRecord *record, MainInfo *info);
/// Parses an access-token item; StorageCorrupt if damaged, or if it belongs to another
/// generation or resource than expected (a leftover of an interrupted write).
Error decodeAccessToken(const QByteArray &data, const QByteArray &generation, const QString &resource,
                        SessionAccessToken *token);
/// Parses an ID-token item (same rules).
Error decodeIdToken(const QByteArray &data, const QByteArray &generation, QByteArray *idToken);

} // namespace Keyloop::RecordFormat
