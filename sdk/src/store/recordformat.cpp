// SPDX-License-Identifier: MIT
#include "store/recordformat_p.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QUrl>

namespace Keyloop::RecordFormat {

namespace {

const QString kFormat = QStringLiteral("format");
const QString kVersion = QStringLiteral("version");
const QString kGeneration = QStringLiteral("generation");
const QString kMainTag = QStringLiteral("keyloop.session");
const QString kAccessTag = QStringLiteral("keyloop.access_token");
const QString kIdTag = QStringLiteral("keyloop.id_token");

Error corrupt(const QString &what)
{
    return Error(Error::Code::StorageCorrupt, QStringLiteral("stored session: %1").arg(what));
}

qint64 toMs(const QDateTime &t) { return t.isValid() ? t.toMSecsSinceEpoch() : 0; }
QDateTime fromMs(qint64 ms) { return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime(); }

QJsonArray toArray(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

bool toStringList(const QJsonValue &v, QStringList *out)
{
    out->clear();
    if (v.isUndefined())
        return true;
    if (!v.isArray())
        return false;
    for (const QJsonValue &e : v.toArray()) {
        if (!e.isString())
            return false;
        out->append(e.toString());
    }
    return true;
}

bool optString(const QJsonObject &o, const QString &name, QString *out)
{
    const QJsonValue v = o.value(name);
    if (v.isUndefined()) {
        out->clear();
        return true;
    }
    if (!v.isString())
        return false;
    *out = v.toString();
    return true;
}

bool optMs(const QJsonObject &o, const QString &name, qint64 *out)
{
    const QJsonValue v = o.value(name);
    *out = 0;
    if (v.isUndefined())
        return true;
    if (!v.isDouble())
        return false;
    *out = v.toInteger(-1);
    return *out >= 0;
}

// Checks the envelope common to all items: a JSON object with our tag and version.
Error parseEnvelope(const QByteArray &data, const QString &tag, QJsonObject *object)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return corrupt(QStringLiteral("item is not a JSON object"));
    const QJsonObject o = doc.object();
    if (o.value(kFormat).toString() != tag)
        return corrupt(QStringLiteral("item is not a %1 item").arg(tag));
    const QJsonValue version = o.value(kVersion);
    if (!version.isDouble())
        return corrupt(QStringLiteral("item has no format version"));
    const qint64 v = version.toInteger(-1);
    if (v < OldestReadableVersion || v > Version)
        return corrupt(QStringLiteral("unknown format version %1 (this build reads versions %2 to %3)")
                           .arg(v)
                           .arg(OldestReadableVersion)
                           .arg(Version));
    *object = o;
    return {};
}

} // namespace

QString accessTokenKey(const QString &mainKey, const QString &resource)
{
    return mainKey + QStringLiteral("#access_token:") + QString::fromLatin1(QUrl::toPercentEncoding(resource));
}

QString idTokenKey(const QString &mainKey)
{
    return mainKey + QStringLiteral("#id_token");
}

int versionFor(const SessionRecord &record)
{
    // A session with a DPoP key needs a reader that knows the key (one that ignored it would
    // refresh the bound refresh token without a proof); any other session is still written in
    // the version Keyloop 0.2 reads, so that a downgrade keeps it.
    return record.dpopKey().isEmpty() ? Version - 1 : Version;
}

QList<Item> encode(const QString &mainKey, const SessionRecord &record, const QByteArray &generation)
{
    const int version = versionFor(record);
    const QString gen = QString::fromLatin1(generation);
    QList<Item> items;

    QJsonObject main;
    main.insert(kFormat, kMainTag);
    main.insert(kVersion, version);
    main.insert(kGeneration, gen);
    main.insert(QStringLiteral("issuer"), record.issuer());
    main.insert(QStringLiteral("client_id"), record.clientId());
    main.insert(QStringLiteral("account"), record.account());
    if (!record.subject().isEmpty())
        main.insert(QStringLiteral("subject"), record.subject());
    if (!record.displayName().isEmpty())
        main.insert(QStringLiteral("display_name"), record.displayName());
    if (!record.refreshToken().isEmpty())
        main.insert(QStringLiteral("refresh_token"), QString::fromUtf8(record.refreshToken()));
    main.insert(QStringLiteral("scopes"), toArray(record.scopes()));
    main.insert(QStringLiteral("resources"), toArray(record.resources()));
    if (!record.originalClaims().isEmpty())
        main.insert(QStringLiteral("claims"), record.originalClaims());
    QJsonObject expiry;
    const auto tokens = record.accessTokens();
    for (auto it = tokens.cbegin(); it != tokens.cend(); ++it)
        expiry.insert(it.key(), toMs(it.value().expiresAt));
    main.insert(QStringLiteral("access_token_expiry"), expiry);
    main.insert(QStringLiteral("has_id_token"), !record.idToken().isEmpty());
    if (!record.appData().isEmpty())
        main.insert(QStringLiteral("app_data"), record.appData());
    if (!record.grantId().isEmpty())
        main.insert(QStringLiteral("grant_id"), QString::fromLatin1(record.grantId()));
    if (!record.providerMetadata().isEmpty())
        main.insert(QStringLiteral("provider"), record.providerMetadata());
    // Version 4: the DPoP private key, in the same item (one write) as the refresh token bound
    // to it (RFC 9449 §5).
    if (!record.dpopKey().isEmpty())
        main.insert(QStringLiteral("dpop_key"), record.dpopKey());
    if (!record.providerCache().isEmpty()) // optional, no version bump: older readers ignore it
        main.insert(QStringLiteral("provider_cache"), record.providerCache());
    main.insert(QStringLiteral("updated_at"), toMs(record.updatedAt()));
    items.append({mainKey, QJsonDocument(main).toJson(QJsonDocument::Compact)});

    for (auto it = tokens.cbegin(); it != tokens.cend(); ++it) {
        QJsonObject at;
        at.insert(kFormat, kAccessTag);
        at.insert(kVersion, version);
        at.insert(kGeneration, gen);
        at.insert(QStringLiteral("resource"), it.key());
        at.insert(QStringLiteral("access_token"), QString::fromUtf8(it.value().token));
        // Optional, added within version 3: earlier readers ignore it, and items without it
        // (written by 0.2, which accepted Bearer tokens only) read as an unknown type.
        if (!it.value().tokenType.isEmpty())
            at.insert(QStringLiteral("token_type"), it.value().tokenType);
        at.insert(QStringLiteral("issued_at"), toMs(it.value().issuedAt));
        at.insert(QStringLiteral("expires_at"), toMs(it.value().expiresAt));
        at.insert(QStringLiteral("scopes"), toArray(it.value().scopes));
        items.append({accessTokenKey(mainKey, it.key()), QJsonDocument(at).toJson(QJsonDocument::Compact)});
    }
    if (!record.idToken().isEmpty()) {
        QJsonObject id;
        id.insert(kFormat, kIdTag);
        id.insert(kVersion, version);
        id.insert(kGeneration, gen);
        id.insert(QStringLiteral("id_token"), QString::fromUtf8(record.idToken()));
        items.append({idTokenKey(mainKey), QJsonDocument(id).toJson(QJsonDocument::Compact)});
    }
    return items;
}

Error decodeMain(const QByteArray &data, SessionRecord *record, MainInfo *info)
{
    QJsonObject o;
    if (Error e = parseEnvelope(data, kMainTag, &o))
        return e;
    SessionRecord r;
    MainInfo mi;
    QString s;
    const QJsonValue gen = o.value(kGeneration);
    if (!gen.isString() || gen.toString().isEmpty())
        return corrupt(QStringLiteral("main item has no generation"));
    mi.generation = gen.toString().toLatin1();

    const QJsonValue issuer = o.value(QStringLiteral("issuer"));
    const QJsonValue clientId = o.value(QStringLiteral("client_id"));
    if (!issuer.isString() || issuer.toString().isEmpty() || !clientId.isString() || clientId.toString().isEmpty())
        return corrupt(QStringLiteral("main item lacks issuer or client_id"));
    r.setIssuer(issuer.toString());
    r.setClientId(clientId.toString());
    if (!optString(o, QStringLiteral("account"), &s))
        return corrupt(QStringLiteral("account is not a string"));
    r.setAccount(s);
    if (!optString(o, QStringLiteral("subject"), &s))
        return corrupt(QStringLiteral("subject is not a string"));
    r.setSubject(s);
    if (!optString(o, QStringLiteral("display_name"), &s))
        return corrupt(QStringLiteral("display_name is not a string"));
    r.setDisplayName(s);
    if (!optString(o, QStringLiteral("refresh_token"), &s))
        return corrupt(QStringLiteral("refresh_token is not a string"));
    r.setRefreshToken(s.toUtf8());

    QStringList list;
    if (!toStringList(o.value(QStringLiteral("scopes")), &list))
        return corrupt(QStringLiteral("scopes is not an array of strings"));
    r.setScopes(list);
    if (!toStringList(o.value(QStringLiteral("resources")), &list))
        return corrupt(QStringLiteral("resources is not an array of strings"));
    r.setResources(list);

    const QJsonValue claims = o.value(QStringLiteral("claims"));
    if (!claims.isUndefined() && !claims.isObject())
        return corrupt(QStringLiteral("claims is not an object"));
    r.setOriginalClaims(claims.toObject());

    const QJsonValue expiry = o.value(QStringLiteral("access_token_expiry"));
    if (!expiry.isUndefined() && !expiry.isObject())
        return corrupt(QStringLiteral("access_token_expiry is not an object"));
    mi.accessTokenResources = expiry.toObject().keys();

    const QJsonValue hasId = o.value(QStringLiteral("has_id_token"));
    if (!hasId.isUndefined() && !hasId.isBool())
        return corrupt(QStringLiteral("has_id_token is not a boolean"));
    mi.hasIdToken = hasId.toBool();

    const QJsonValue appData = o.value(QStringLiteral("app_data"));
    if (!appData.isUndefined() && !appData.isObject())
        return corrupt(QStringLiteral("app_data is not an object"));
    r.setAppData(appData.toObject());

    if (!optString(o, QStringLiteral("grant_id"), &s))
        return corrupt(QStringLiteral("grant_id is not a string"));
    r.setGrantId(s.toLatin1());

    const QJsonValue provider = o.value(QStringLiteral("provider")); // since version 3
    if (!provider.isUndefined() && !provider.isObject())
        return corrupt(QStringLiteral("provider is not an object"));
    r.setProviderMetadata(provider.toObject());
    // Only a cache: one that is not an object is dropped, never a reason to lose the session.
    r.setProviderCache(o.value(QStringLiteral("provider_cache")).toObject());

    const QJsonValue dpopKey = o.value(QStringLiteral("dpop_key")); // since version 4
    if (!dpopKey.isUndefined() && !dpopKey.isObject())
        return corrupt(QStringLiteral("dpop_key is not an object"));
    r.setDpopKey(dpopKey.toObject());

    qint64 ms = 0;
    if (!optMs(o, QStringLiteral("updated_at"), &ms))
        return corrupt(QStringLiteral("updated_at is not a time"));
    r.setUpdatedAt(fromMs(ms));

    *record = r;
    *info = mi;
    return {};
}

Error decodeAccessToken(const QByteArray &data, const QByteArray &generation, const QString &resource,
                        SessionAccessToken *token)
{
    QJsonObject o;
    if (Error e = parseEnvelope(data, kAccessTag, &o))
        return e;
    if (o.value(kGeneration).toString().toLatin1() != generation)
        return corrupt(QStringLiteral("access token item belongs to another write"));
    if (o.value(QStringLiteral("resource")).toString() != resource)
        return corrupt(QStringLiteral("access token item names another resource"));
    const QJsonValue value = o.value(QStringLiteral("access_token"));
    if (!value.isString() || value.toString().isEmpty())
        return corrupt(QStringLiteral("access token item has no token"));
    SessionAccessToken t;
    t.token = value.toString().toUtf8();
    if (!optString(o, QStringLiteral("token_type"), &t.tokenType))
        return corrupt(QStringLiteral("access token type is not a string"));
    qint64 ms = 0;
    if (!optMs(o, QStringLiteral("issued_at"), &ms))
        return corrupt(QStringLiteral("issued_at is not a time"));
    t.issuedAt = fromMs(ms);
    if (!optMs(o, QStringLiteral("expires_at"), &ms))
        return corrupt(QStringLiteral("expires_at is not a time"));
    t.expiresAt = fromMs(ms);
    if (!toStringList(o.value(QStringLiteral("scopes")), &t.scopes))
        return corrupt(QStringLiteral("access token scopes is not an array of strings"));
    *token = t;
    return {};
}

Error decodeIdToken(const QByteArray &data, const QByteArray &generation, QByteArray *idToken)
{
    QJsonObject o;
    if (Error e = parseEnvelope(data, kIdTag, &o))
        return e;
    if (o.value(kGeneration).toString().toLatin1() != generation)
        return corrupt(QStringLiteral("ID token item belongs to another write"));
    const QJsonValue value = o.value(QStringLiteral("id_token"));
    if (!value.isString() || value.toString().isEmpty())
        return corrupt(QStringLiteral("ID token item has no token"));
    *idToken = value.toString().toUtf8();
    return {};
}

} // namespace Keyloop::RecordFormat
