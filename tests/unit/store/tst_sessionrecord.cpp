// SPDX-License-Identifier: MIT
// SessionRecord value semantics, the versioned storage format, key derivation and the
// QtKeychain error mapping.
#include <keyloop/dpopkey.h>
#include <keyloop/sessionrecord.h>
#include <keyloop/tokenstore.h>

#include "store/keychainerror_p.h"
#include "store/recordformat_p.h"

#include <qt6keychain/keychain.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

// JSON written with single quotes, for readability in the test data.
QByteArray j(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

SessionRecord sampleRecord()
{
    SessionRecord r;
    r.setIssuer(QStringLiteral("https://login.example.com"));
    r.setClientId(QStringLiteral("app"));
    r.setAccount(QStringLiteral("work@example.com"));
    r.setSubject(QStringLiteral("alice"));
    r.setDisplayName(QStringLiteral("Alice"));
    r.setRefreshToken("rt-secret-value");
    SessionAccessToken provider;
    provider.token = "at-provider";
    provider.issuedAt = QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC);
    provider.expiresAt = provider.issuedAt.addSecs(3600);
    provider.scopes = QStringList{QStringLiteral("openid"), QStringLiteral("profile")};
    r.setAccessToken(QString(), provider);
    SessionAccessToken api = provider;
    api.token = "at-api";
    api.scopes = QStringList{QStringLiteral("api.read")};
    r.setAccessToken(QStringLiteral("https://api.example.com"), api);
    r.setIdToken("header.payload.signature");
    QJsonObject claims{{QStringLiteral("iss"), QStringLiteral("https://login.example.com")},
                       {QStringLiteral("sub"), QStringLiteral("alice")},
                       {QStringLiteral("aud"), QStringLiteral("app")},
                       {QStringLiteral("auth_time"), 1700000000},
                       {QStringLiteral("email"), QStringLiteral("dropped@example.com")}};
    r.setOriginalClaims(claims);
    r.setScopes(QStringList{QStringLiteral("openid"), QStringLiteral("offline_access")});
    r.setResources(QStringList{QStringLiteral("https://api.example.com")});
    r.setAppData(QJsonObject{{QStringLiteral("ca_file"), QStringLiteral("/etc/ca.pem")},
                             {QStringLiteral("allow_insecure_loopback"), false}});
    r.setUpdatedAt(QDateTime::fromMSecsSinceEpoch(1700000001000, Qt::UTC));
    return r;
}

// Reassembles a record the way KeychainTokenStore::read does.
Error decodeAll(const QString &key, const QList<RecordFormat::Item> &items, SessionRecord *out)
{
    RecordFormat::MainInfo info;
    if (Error e = RecordFormat::decodeMain(items.first().data, out, &info))
        return e;
    for (const RecordFormat::Item &item : items.mid(1)) {
        for (const QString &resource : std::as_const(info.accessTokenResources)) {
            if (item.key == RecordFormat::accessTokenKey(key, resource)) {
                SessionAccessToken t;
                if (Error e = RecordFormat::decodeAccessToken(item.data, info.generation, resource, &t))
                    return e;
                out->setAccessToken(resource, t);
            }
        }
        if (item.key == RecordFormat::idTokenKey(key)) {
            QByteArray id;
            if (Error e = RecordFormat::decodeIdToken(item.data, info.generation, &id))
                return e;
            out->setIdToken(id);
        }
    }
    return {};
}

} // namespace

class TestSessionRecord : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void isImplicitlyShared()
    {
        SessionRecord a = sampleRecord();
        SessionRecord b = a;
        QVERIFY(a == b);
        b.setRefreshToken("other");
        QVERIFY(a != b);
        QVERIFY(a.refreshToken() == QByteArray("rt-secret-value"));
        QVERIFY(SessionRecord().isNull());
        QVERIFY(!a.isNull());
    }

    void keepsOnlyTheClaimsOfOidcCore12_2()
    {
        const QJsonObject claims = sampleRecord().originalClaims();
        QCOMPARE(claims.keys(), (QStringList{QStringLiteral("aud"), QStringLiteral("auth_time"), QStringLiteral("iss"), QStringLiteral("sub")}));
    }

    void debugOutputIsRedacted()
    {
        QString out;
        QDebug(&out) << sampleRecord() << sampleRecord().accessToken(QString());
        QVERIFY(!out.contains(QStringLiteral("rt-secret-value")));
        QVERIFY(!out.contains(QStringLiteral("at-provider")));
        QVERIFY(!out.contains(QStringLiteral("header.payload")));
        QVERIFY(out.contains(QStringLiteral("<redacted>")));
        QVERIFY(out.contains(QStringLiteral("alice")));
    }

    void roundTripsThroughTheStorageFormat()
    {
        const QString key = TokenStore::keyFor(QStringLiteral("https://login.example.com"), QStringLiteral("app"),
                                               QStringLiteral("work@example.com"));
        const SessionRecord r = sampleRecord();
        const QList<RecordFormat::Item> items = RecordFormat::encode(key, r, "gen1");
        QCOMPARE(items.size(), 4); // main + 2 access tokens + ID token
        QCOMPARE(items.first().key, key);
        // The main item holds no access token or ID token.
        QVERIFY(!items.first().data.contains("at-provider"));
        QVERIFY(!items.first().data.contains("at-api"));
        QVERIFY(!items.first().data.contains("header.payload"));
        for (const RecordFormat::Item &item : items)
            QVERIFY2(item.data.size() < 2560, "each keychain item stays under the Windows limit");
        SessionRecord back;
        const Error e = decodeAll(key, items, &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(back == r);
    }

    void recordWithoutOptionalPartsRoundTrips()
    {
        SessionRecord r;
        r.setIssuer(QStringLiteral("https://i"));
        r.setClientId(QStringLiteral("c"));
        const QList<RecordFormat::Item> items = RecordFormat::encode(QStringLiteral("k"), r, "g");
        QCOMPARE(items.size(), 1);
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), items, &back));
        QVERIFY(back == r);
    }

    // Version 4 only for a session with a DPoP key: a Bearer session stays readable by a build
    // that reads up to version 3 (a downgrade).
    void writesVersion4OnlyForABoundSession()
    {
        const QList<RecordFormat::Item> bearer = RecordFormat::encode(QStringLiteral("k"), sampleRecord(), "g");
        for (const RecordFormat::Item &item : bearer)
            QCOMPARE(QJsonDocument::fromJson(item.data).object().value(QStringLiteral("version")).toInt(), 3);
        SessionRecord bound = sampleRecord();
        bound.setDpopKey(DpopKey::generate().privateJwk());
        const QList<RecordFormat::Item> items = RecordFormat::encode(QStringLiteral("k"), bound, "g");
        QCOMPARE(items.size(), bearer.size());
        for (const RecordFormat::Item &item : items)
            QCOMPARE(QJsonDocument::fromJson(item.data).object().value(QStringLiteral("version")).toInt(),
                     RecordFormat::Version);
        QCOMPARE(RecordFormat::Version, 4);
    }

    // Version 4: the DPoP private key (RFC 9449 §5) is in the main item, with the refresh token
    // bound to it — one write — and in no other item.
    void dpopKeyIsInTheMainItemWithTheRefreshToken()
    {
        SessionRecord r = sampleRecord();
        const DpopKey key = DpopKey::generate();
        QVERIFY(!key.isNull());
        r.setDpopKey(key.privateJwk());
        const QList<RecordFormat::Item> items = RecordFormat::encode(QStringLiteral("k"), r, "g");
        const QByteArray d = key.privateJwk().value(QStringLiteral("d")).toString().toLatin1();
        QVERIFY(items.first().data.contains(d));
        QVERIFY(items.first().data.contains("rt-secret-value"));
        for (qsizetype i = 1; i < items.size(); ++i)
            QVERIFY(!items.at(i).data.contains(d));
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), items, &back));
        QVERIFY(back == r);
        QCOMPARE(DpopKey::fromPrivateJwk(back.dpopKey()), key);
        // Redacted like the tokens.
        QString text;
        QDebug(&text) << back;
        QVERIFY(text.contains(QStringLiteral("dpopKey=<redacted>")));
        QVERIFY(!text.contains(QString::fromLatin1(d)));

        SessionRecord damaged;
        RecordFormat::MainInfo info;
        QCOMPARE(RecordFormat::decodeMain(j("{'format':'keyloop.session','version':4,'generation':'g','issuer':'i',"
                                            "'client_id':'c','dpop_key':'x'}"),
                                          &damaged, &info)
                     .code(),
                 Error::Code::StorageCorrupt);
    }

    // Items exactly as the version-3 build wrote them (no DPoP key): still read, unbound.
    void readsFormatVersion3Items()
    {
        const QByteArray main = j(
            "{'format':'keyloop.session','version':3,'generation':'g3','issuer':'https://i','client_id':'c',"
            "'account':'','refresh_token':'rt-3','scopes':['openid'],'resources':[],'access_token_expiry':{'':1700003600000},"
            "'has_id_token':false,'grant_id':'abcd','provider':{'issuer':'https://i'},'updated_at':1700000001000}");
        const QByteArray at = j(
            "{'format':'keyloop.access_token','version':3,'generation':'g3','resource':'','access_token':'at-3',"
            "'token_type':'Bearer','issued_at':1700000000000,'expires_at':1700003600000,'scopes':['openid']}");
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), {{QStringLiteral("k"), main}, {RecordFormat::accessTokenKey(QStringLiteral("k"), QString()), at}}, &back));
        QVERIFY(back.refreshToken() == "rt-3");
        QVERIFY(back.accessToken(QString()).token == "at-3");
        QVERIFY(back.grantId() == "abcd");
        QVERIFY(back.dpopKey().isEmpty());
    }

    // Version 3: the provider metadata and the grant id are kept with the session.
    void providerMetadataAndGrantRoundTrip()
    {
        SessionRecord r = sampleRecord();
        const QJsonObject metadata{{QStringLiteral("issuer"), QStringLiteral("https://login.example.com")},
                                   {QStringLiteral("token_endpoint"), QStringLiteral("https://login.example.com/token")}};
        r.setProviderMetadata(metadata);
        r.setGrantId("0123abcd");
        const QList<RecordFormat::Item> items = RecordFormat::encode(QStringLiteral("k"), r, "g");
        QVERIFY(!items.first().data.contains("at-")); // still no token in the main item
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), items, &back));
        QCOMPARE(back.providerMetadata(), metadata);
        QVERIFY(back.grantId() == "0123abcd");
        QVERIFY(back == r);
    }

    // The provider cache (discovery expiry, the JWKS): an optional main-item member, no new
    // format version; a record without it reads as before, one that is not an object is dropped.
    void providerCacheRoundTripsWithoutANewVersion()
    {
        SessionRecord r = sampleRecord();
        const QJsonObject cache{{QStringLiteral("discovery_expires_at"), 1700003600000.0},
                                {QStringLiteral("jwks_uri"), QStringLiteral("https://login.example.com/jwks")},
                                {QStringLiteral("jwks"), QJsonObject{{QStringLiteral("keys"), QJsonArray()}}},
                                {QStringLiteral("jwks_expires_at"), 1700003600000.0}};
        r.setProviderCache(cache);
        const QList<RecordFormat::Item> items = RecordFormat::encode(QStringLiteral("k"), r, "g");
        QVERIFY(items.first().data.contains("\"provider_cache\""));
        QCOMPARE(QJsonDocument::fromJson(items.first().data).object().value(QStringLiteral("version")).toInt(),
                 RecordFormat::versionFor(r));
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), items, &back));
        QCOMPARE(back.providerCache(), cache);
        QVERIFY(back == r);

        QJsonObject main = QJsonDocument::fromJson(items.first().data).object();
        main.insert(QStringLiteral("provider_cache"), QStringLiteral("not an object"));
        QList<RecordFormat::Item> odd = items;
        odd.first().data = QJsonDocument(main).toJson(QJsonDocument::Compact);
        QVERIFY(!decodeAll(QStringLiteral("k"), odd, &back));
        QVERIFY(back.providerCache().isEmpty());
        QVERIFY(RecordFormat::encode(QStringLiteral("k"), sampleRecord(), "g").first().data.contains("provider_cache") == false);
    }

    // token_type (RFC 6749 §5.1) is kept per access token, as issued; an optional member of the
    // version-3 access-token item, so items written before it existed (the version-1 items below
    // compare equal to a record without types) read as an unknown type.
    void tokenTypeRoundTrips()
    {
        SessionRecord r = sampleRecord();
        SessionAccessToken provider = r.accessToken(QString());
        provider.tokenType = QStringLiteral("Bearer");
        r.setAccessToken(QString(), provider);
        SessionAccessToken api = r.accessToken(QStringLiteral("https://api.example.com"));
        api.tokenType = QStringLiteral("DPoP");
        r.setAccessToken(QStringLiteral("https://api.example.com"), api);
        const QString key = QStringLiteral("k");
        const QList<RecordFormat::Item> items = RecordFormat::encode(key, r, "g");
        QVERIFY(!items.first().data.contains("token_type")); // per token, not in the main item
        QCOMPARE(QJsonDocument::fromJson(items.at(2).data).object().value(QStringLiteral("token_type")).toString(),
                 QStringLiteral("DPoP"));
        SessionRecord back;
        QVERIFY(!decodeAll(key, items, &back));
        QCOMPARE(back.accessToken(QString()).tokenType, QStringLiteral("Bearer"));
        QCOMPARE(back.accessToken(QStringLiteral("https://api.example.com")).tokenType, QStringLiteral("DPoP"));
        QVERIFY(back == r);
    }

    // Items exactly as the version-2 build wrote them (no provider, no grant id): still read.
    void readsFormatVersion2Items()
    {
        const QByteArray main = j(
            "{'format':'keyloop.session','version':2,'generation':'g2','issuer':'https://i','client_id':'c',"
            "'account':'','refresh_token':'rt-2','scopes':['openid'],'resources':[],'access_token_expiry':{},"
            "'has_id_token':false,'updated_at':1700000001000}");
        SessionRecord back;
        QVERIFY(!decodeAll(QStringLiteral("k"), {{QStringLiteral("k"), main}}, &back));
        QVERIFY(back.refreshToken() == "rt-2");
        QVERIFY(back.providerMetadata().isEmpty());
        QVERIFY(back.grantId().isEmpty());
    }

    // Items exactly as the version-1 build (before chunking) wrote them: still read.
    void readsFormatVersion1Items()
    {
        const QByteArray main = j(
            "{'format':'keyloop.session','version':1,'generation':'g1','issuer':'https://login.example.com',"
            "'client_id':'app','account':'work@example.com','subject':'alice','display_name':'Alice',"
            "'refresh_token':'rt-secret-value','scopes':['openid','offline_access'],"
            "'resources':['https://api.example.com'],'claims':{'aud':'app','auth_time':1700000000,"
            "'iss':'https://login.example.com','sub':'alice'},'access_token_expiry':{'':1700003600000,"
            "'https://api.example.com':1700003600000},'has_id_token':true,"
            "'app_data':{'allow_insecure_loopback':false,'ca_file':'/etc/ca.pem'},'updated_at':1700000001000}");
        const QByteArray provider = j(
            "{'format':'keyloop.access_token','version':1,'generation':'g1','resource':'','access_token':'at-provider',"
            "'issued_at':1700000000000,'expires_at':1700003600000,'scopes':['openid','profile']}");
        const QByteArray api = j(
            "{'format':'keyloop.access_token','version':1,'generation':'g1','resource':'https://api.example.com',"
            "'access_token':'at-api','issued_at':1700000000000,'expires_at':1700003600000,'scopes':['api.read']}");
        const QByteArray id = j("{'format':'keyloop.id_token','version':1,'generation':'g1','id_token':'header.payload.signature'}");
        const QString key = QStringLiteral("k");
        const QList<RecordFormat::Item> items{{key, main},
                                              {RecordFormat::accessTokenKey(key, QString()), provider},
                                              {RecordFormat::accessTokenKey(key, QStringLiteral("https://api.example.com")), api},
                                              {RecordFormat::idTokenKey(key), id}};
        SessionRecord back;
        const Error e = decodeAll(key, items, &back);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(back == sampleRecord());
    }

    void secondaryItemOfAnotherGenerationIsRejected()
    {
        const SessionRecord r = sampleRecord();
        const QList<RecordFormat::Item> oldItems = RecordFormat::encode(QStringLiteral("k"), r, "old");
        SessionAccessToken t;
        const Error e = RecordFormat::decodeAccessToken(oldItems.at(1).data, "new", QString(), &t);
        QCOMPARE(e.code(), Error::Code::StorageCorrupt);
        QByteArray id;
        QCOMPARE(RecordFormat::decodeIdToken(oldItems.last().data, "new", &id).code(), Error::Code::StorageCorrupt);
        // …and one naming another resource.
        QCOMPARE(RecordFormat::decodeAccessToken(oldItems.at(1).data, "old", QStringLiteral("https://x"), &t).code(),
                 Error::Code::StorageCorrupt);
    }

    void damagedMainItemIsCorrupt_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("not json") << QByteArray("rt=abc");
        QTest::newRow("truncated") << j("{'format':'keyloop.session','version':1,'gen");
        QTest::newRow("array") << QByteArray("[1,2]");
        QTest::newRow("wrong tag") << j("{'format':'other','version':1,'generation':'g','issuer':'i','client_id':'c'}");
        QTest::newRow("unknown version") << j("{'format':'keyloop.session','version':5,'generation':'g','issuer':'i','client_id':'c'}");
        QTest::newRow("provider not an object") << j("{'format':'keyloop.session','version':3,'generation':'g','issuer':'i','client_id':'c','provider':'x'}");
        QTest::newRow("version 0") << j("{'format':'keyloop.session','version':0,'generation':'g','issuer':'i','client_id':'c'}");
        QTest::newRow("version as string") << j("{'format':'keyloop.session','version':'1','generation':'g','issuer':'i','client_id':'c'}");
        QTest::newRow("no version") << j("{'format':'keyloop.session','generation':'g','issuer':'i','client_id':'c'}");
        QTest::newRow("no generation") << j("{'format':'keyloop.session','version':1,'issuer':'i','client_id':'c'}");
        QTest::newRow("no issuer") << j("{'format':'keyloop.session','version':1,'generation':'g','client_id':'c'}");
        QTest::newRow("refresh token not a string") << j("{'format':'keyloop.session','version':1,'generation':'g','issuer':'i','client_id':'c','refresh_token':5}");
        QTest::newRow("scopes not strings") << j("{'format':'keyloop.session','version':1,'generation':'g','issuer':'i','client_id':'c','scopes':[1]}");
        QTest::newRow("claims not object") << j("{'format':'keyloop.session','version':1,'generation':'g','issuer':'i','client_id':'c','claims':'x'}");
        QTest::newRow("negative time") << j("{'format':'keyloop.session','version':1,'generation':'g','issuer':'i','client_id':'c','updated_at':-5}");
    }

    void damagedMainItemIsCorrupt()
    {
        QFETCH(QByteArray, data);
        SessionRecord r;
        RecordFormat::MainInfo info;
        const Error e = RecordFormat::decodeMain(data, &r, &info);
        QCOMPARE(e.code(), Error::Code::StorageCorrupt);
        QVERIFY(r.isNull());
    }

    void unknownVersionNamesTheVersion()
    {
        SessionRecord r;
        RecordFormat::MainInfo info;
        const Error e = RecordFormat::decodeMain(
            j("{'format':'keyloop.session','version':7,'generation':'g','issuer':'i','client_id':'c'}"), &r, &info);
        QVERIFY(e.message().contains(QStringLiteral("version 7")));
    }

    void keyDerivationIsStableAndUnambiguous()
    {
        QCOMPARE(TokenStore::keyFor(QStringLiteral("https://login.example.com"), QStringLiteral("app"), QStringLiteral("a@b.c")),
                 QStringLiteral("a%40b.c@app@https%3A%2F%2Flogin.example.com"));
        // '@' inside a part cannot make two different triples collide.
        QVERIFY(TokenStore::keyFor(QStringLiteral("i"), QStringLiteral("c@d"), QStringLiteral("a"))
                != TokenStore::keyFor(QStringLiteral("i"), QStringLiteral("d"), QStringLiteral("a@c")));
        QCOMPARE(TokenStore::keyFor(QStringLiteral("i"), QStringLiteral("c"), QString()), QStringLiteral("@c@i"));
        // Secondary keys never collide with a main key (a main key has no '#').
        QVERIFY(!TokenStore::keyFor(QStringLiteral("i#x"), QStringLiteral("c#"), QStringLiteral("#")).contains(QLatin1Char('#')));
        QCOMPARE(RecordFormat::accessTokenKey(QStringLiteral("k"), QStringLiteral("https://api")),
                 QStringLiteral("k#access_token:https%3A%2F%2Fapi"));
        QCOMPARE(RecordFormat::idTokenKey(QStringLiteral("k")), QStringLiteral("k#id_token"));
    }

    void mapsKeychainErrors_data()
    {
        QTest::addColumn<int>("keychain");
        QTest::addColumn<QString>("text");
        QTest::addColumn<Error::Code>("expected");
        QTest::newRow("ok") << int(QKeychain::NoError) << QString() << Error::Code::NoError;
        QTest::newRow("not found") << int(QKeychain::EntryNotFound) << QStringLiteral("Entry not found") << Error::Code::NotFound;
        QTest::newRow("no backend") << int(QKeychain::NoBackendAvailable) << QString() << Error::Code::StorageUnavailable;
        QTest::newRow("denied") << int(QKeychain::AccessDenied) << QString() << Error::Code::StorageUnavailable;
        QTest::newRow("denied by user") << int(QKeychain::AccessDeniedByUser) << QString() << Error::Code::StorageUnavailable;
        QTest::newRow("no bus") << int(QKeychain::OtherError)
                                << QStringLiteral("Cannot autolaunch D-Bus without X11 $DISPLAY") << Error::Code::StorageUnavailable;
        QTest::newRow("no secrets service") << int(QKeychain::OtherError)
                                            << QStringLiteral("The name org.freedesktop.secrets was not provided by any .service files")
                                            << Error::Code::StorageUnavailable;
        QTest::newRow("locked") << int(QKeychain::OtherError) << QStringLiteral("Cannot create an item in a locked collection")
                                << Error::Code::StorageUnavailable;
        QTest::newRow("other") << int(QKeychain::OtherError) << QStringLiteral("Unknown error") << Error::Code::StorageFailed;
        QTest::newRow("delete") << int(QKeychain::CouldNotDeleteEntry) << QString() << Error::Code::StorageFailed;
    }

    void mapsKeychainErrors()
    {
        QFETCH(int, keychain);
        QFETCH(QString, text);
        QFETCH(Error::Code, expected);
        QCOMPARE(keychainError(keychain, text, QStringLiteral("write")).code(), expected);
    }
};

QTEST_GUILESS_MAIN(TestSessionRecord)
#include "tst_sessionrecord.moc"
