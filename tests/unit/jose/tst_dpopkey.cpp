// SPDX-License-Identifier: MIT
// DpopKey: key generation and storage form, the RFC 7638 thumbprint, and the shape and signature
// of DPoP proofs (RFC 9449 §4.2), verified with the SDK's own JWS verifier.
#include <keyloop/dpopkey.h>
#include <keyloop/jsonwebkey.h>

#include "core/crypto_p.h"
#include "jose/jsonwebkey_p.h"
#include "jose/jws_p.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QSet>
#include <QtTest/QtTest>

using namespace Keyloop;

Q_DECLARE_METATYPE(Keyloop::DpopKey::Algorithm)

namespace {

const QDateTime kIat = QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC);

struct Proof
{
    QJsonObject header;
    QJsonObject claims;
    Error signature; // null when it verifies with the header's jwk
};

// Parses and verifies a proof independently of how it was made.
Proof inspect(const QByteArray &jwt)
{
    Proof p;
    Error e;
    const auto jws = JwsCompact::parse(jwt, &e);
    if (!jws) {
        p.signature = e;
        return p;
    }
    p.header = jws->header();
    p.claims = QJsonDocument::fromJson(jws->decodePayload(&e).value_or(QByteArray())).object();
    const JsonWebKey key = JsonWebKey::fromJson(p.header.value(QStringLiteral("jwk")).toObject(), &e);
    if (key.isNull()) {
        p.signature = e;
        return p;
    }
    p.signature = verifyJwsSignature(jws->algorithm, *JsonWebKeyPrivate::get(key), jws->signingInput, jws->signature);
    return p;
}

} // namespace

class tst_DpopKey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void generates_data()
    {
        QTest::addColumn<DpopKey::Algorithm>("algorithm");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QStringList>("publicMembers");
        QTest::newRow("ES256") << DpopKey::Algorithm::ES256 << QStringLiteral("ES256")
                               << QStringList{QStringLiteral("crv"), QStringLiteral("kty"), QStringLiteral("x"), QStringLiteral("y")};
        QTest::newRow("EdDSA") << DpopKey::Algorithm::EdDSA << QStringLiteral("EdDSA")
                               << QStringList{QStringLiteral("crv"), QStringLiteral("kty"), QStringLiteral("x")};
    }

    void generates()
    {
        QFETCH(DpopKey::Algorithm, algorithm);
        QFETCH(QString, name);
        QFETCH(QStringList, publicMembers);
        Error e;
        const DpopKey key = DpopKey::generate(algorithm, &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QVERIFY(!key.isNull());
        QCOMPARE(key.algorithmName(), name);
        QCOMPARE(key.publicJwk().keys(), publicMembers);
        QVERIFY(key.privateJwk().contains(QStringLiteral("d")));
        QVERIFY(DpopKey::generate(algorithm) != key); // random
        // RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace
        // (QJsonDocument sorts members and writes compact JSON).
        const QByteArray canonical = QJsonDocument(key.publicJwk()).toJson(QJsonDocument::Compact);
        QCOMPARE(key.thumbprint(), Crypto::base64UrlEncode(Crypto::sha256(canonical)));
    }

    // RFC 8037 Appendix A.1 and A.3: the Ed25519 key and its JWK thumbprint.
    void rfc8037Thumbprint()
    {
        const QJsonObject jwk{{QStringLiteral("kty"), QStringLiteral("OKP")},
                              {QStringLiteral("crv"), QStringLiteral("Ed25519")},
                              {QStringLiteral("d"), QStringLiteral("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")},
                              {QStringLiteral("x"), QStringLiteral("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")}};
        Error e;
        const DpopKey key = DpopKey::fromPrivateJwk(jwk, &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(key.algorithm(), DpopKey::Algorithm::EdDSA);
        QCOMPARE(key.thumbprint(), QByteArrayLiteral("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"));
        QCOMPARE(key.privateJwk(), jwk);
    }

    void privateJwkRoundTrips_data() { generates_data(); }
    void privateJwkRoundTrips()
    {
        QFETCH(DpopKey::Algorithm, algorithm);
        const DpopKey key = DpopKey::generate(algorithm);
        Error e;
        const DpopKey back = DpopKey::fromPrivateJwk(key.privateJwk(), &e);
        QVERIFY2(!e, qPrintable(e.toString()));
        QCOMPARE(back, key);
        QCOMPARE(back.privateJwk(), key.privateJwk());
        // The restored key signs proofs the original's public key verifies.
        const Proof p = inspect(back.createProof("GET", QUrl(QStringLiteral("https://api.example.com/x")), kIat));
        QVERIFY2(!p.signature, qPrintable(p.signature.toString()));
        QCOMPARE(p.header.value(QStringLiteral("jwk")).toObject(), key.publicJwk());
    }

    void damagedJwkIsRefused_data()
    {
        QTest::addColumn<QJsonObject>("jwk");
        const QJsonObject ec = DpopKey::generate().privateJwk();
        const QJsonObject other = DpopKey::generate().privateJwk();
        const QJsonObject ed = DpopKey::generate(DpopKey::Algorithm::EdDSA).privateJwk();
        const QJsonObject otherEd = DpopKey::generate(DpopKey::Algorithm::EdDSA).privateJwk();
        auto with = [](QJsonObject o, const char *name, const QJsonValue &v) {
            if (v.isUndefined())
                o.remove(QLatin1String(name));
            else
                o.insert(QLatin1String(name), v);
            return o;
        };
        QTest::newRow("empty") << QJsonObject();
        QTest::newRow("public only") << with(ec, "d", QJsonValue::Undefined);
        QTest::newRow("RSA") << with(ec, "kty", QStringLiteral("RSA"));
        QTest::newRow("P-384") << with(ec, "crv", QStringLiteral("P-384"));
        QTest::newRow("x of another key") << with(ec, "x", other.value(QStringLiteral("x")));
        QTest::newRow("d of another key") << with(ec, "d", other.value(QStringLiteral("d")));
        QTest::newRow("short d") << with(ec, "d", QStringLiteral("AAAA"));
        QTest::newRow("d not base64url") << with(ec, "d", QStringLiteral("not base64url!"));
        QTest::newRow("point not on curve") << with(ec, "y", ec.value(QStringLiteral("x")));
        QTest::newRow("Ed25519 x of another key") << with(ed, "x", otherEd.value(QStringLiteral("x")));
        QTest::newRow("Ed25519 without d") << with(ed, "d", QJsonValue::Undefined);
        QTest::newRow("d zero") << with(ec, "d", QString::fromLatin1(Crypto::base64UrlEncode(QByteArray(32, '\0'))));
    }

    void damagedJwkIsRefused()
    {
        QFETCH(QJsonObject, jwk);
        Error e;
        const DpopKey key = DpopKey::fromPrivateJwk(jwk, &e);
        QVERIFY(key.isNull());
        QCOMPARE(e.code(), Error::Code::JoseInvalidKey);
        // The message names the problem, never the key.
        const QString d = jwk.value(QStringLiteral("d")).toString();
        QVERIFY(d.isEmpty() || d.size() < 8 || !e.message().contains(d));
    }

    // RFC 9449 §4.2, and §4.3's checks done here on the client's own output.
    void proofHasTheShapeOfRfc9449_data() { generates_data(); }
    void proofHasTheShapeOfRfc9449()
    {
        QFETCH(DpopKey::Algorithm, algorithm);
        QFETCH(QString, name);
        const DpopKey key = DpopKey::generate(algorithm);
        const QUrl url(QStringLiteral("https://api.example.com:8443/v1/items?page=2&q=x#top"));
        const QByteArray token = "eyJhbGciOiJSUzI1NiJ9.access.token";
        const QByteArray jwt = key.createProof("PATCH", url, kIat, token, "n-0_9.~+/=!");
        const Proof p = inspect(jwt);
        QVERIFY2(!p.signature, qPrintable(p.signature.toString()));

        QCOMPARE(p.header.keys(), (QStringList{QStringLiteral("alg"), QStringLiteral("jwk"), QStringLiteral("typ")}));
        QCOMPARE(p.header.value(QStringLiteral("typ")).toString(), QStringLiteral("dpop+jwt"));
        QCOMPARE(p.header.value(QStringLiteral("alg")).toString(), name);
        QCOMPARE(p.header.value(QStringLiteral("jwk")).toObject(), key.publicJwk()); // no "d"
        QVERIFY(!jwt.contains(key.privateJwk().value(QStringLiteral("d")).toString().toLatin1()));

        QCOMPARE(p.claims.value(QStringLiteral("htm")).toString(), QStringLiteral("PATCH"));
        QCOMPARE(p.claims.value(QStringLiteral("htu")).toString(), QStringLiteral("https://api.example.com:8443/v1/items"));
        QCOMPARE(p.claims.value(QStringLiteral("iat")).toInteger(), kIat.toSecsSinceEpoch());
        QCOMPARE(p.claims.value(QStringLiteral("ath")).toString().toLatin1(), Crypto::base64UrlEncode(Crypto::sha256(token)));
        QCOMPARE(p.claims.value(QStringLiteral("nonce")).toString(), QStringLiteral("n-0_9.~+/=!"));
        QVERIFY(p.claims.value(QStringLiteral("jti")).toString().size() >= 22); // 128 bits
        QCOMPARE(p.claims.size(), 6);
    }

    void proofWithoutTokenOrNonce()
    {
        const DpopKey key = DpopKey::generate();
        const Proof p = inspect(key.createProof("POST", QUrl(QStringLiteral("https://login.example.com/token")), kIat));
        QVERIFY(!p.signature);
        QVERIFY(!p.claims.contains(QStringLiteral("ath")));
        QVERIFY(!p.claims.contains(QStringLiteral("nonce")));
        QCOMPARE(p.claims.value(QStringLiteral("htu")).toString(), QStringLiteral("https://login.example.com/token"));
        // A nonce outside the §8.1 syntax (a quote, a space, a backslash) is left out.
        for (const QByteArray &bad : {QByteArray("a\"b"), QByteArray("a b"), QByteArray("a\\b"), QByteArray(2000, 'a')}) {
            const Proof q = inspect(key.createProof("POST", QUrl(QStringLiteral("https://login.example.com/token")), kIat, {}, bad));
            QVERIFY(!q.signature);
            QVERIFY(!q.claims.contains(QStringLiteral("nonce")));
        }
    }

    void everyProofHasItsOwnJti()
    {
        const DpopKey key = DpopKey::generate();
        QSet<QString> seen;
        for (int i = 0; i < 200; ++i) {
            const Proof p = inspect(key.createProof("GET", QUrl(QStringLiteral("https://api.example.com/")), kIat));
            seen.insert(p.claims.value(QStringLiteral("jti")).toString());
        }
        QCOMPARE(seen.size(), 200);
    }

    void noProofForBadInput()
    {
        const DpopKey key = DpopKey::generate();
        QVERIFY(key.createProof("GE T", QUrl(QStringLiteral("https://a.example/")), kIat).isEmpty());
        QVERIFY(key.createProof("", QUrl(QStringLiteral("https://a.example/")), kIat).isEmpty());
        QVERIFY(key.createProof("GET", QUrl(QStringLiteral("/relative")), kIat).isEmpty());
        QVERIFY(key.createProof("GET", QUrl(QStringLiteral("ftp://a.example/")), kIat).isEmpty());
        QVERIFY(DpopKey().createProof("GET", QUrl(QStringLiteral("https://a.example/")), kIat).isEmpty());
    }

    // RFC 9449 §8, §9: one nonce per server (origin), shared by every copy of the key.
    void noncesArePerOriginAndShared()
    {
        const DpopKey key = DpopKey::generate();
        const DpopKey copy = key;
        QVERIFY(key.setNonce(QUrl(QStringLiteral("https://login.example.com/token")), "provider-nonce"));
        QVERIFY(copy.setNonce(QUrl(QStringLiteral("https://api.example.com/v1/x?y=1")), "api-nonce"));
        QCOMPARE(copy.nonce(QUrl(QStringLiteral("https://login.example.com:443/other"))), QByteArrayLiteral("provider-nonce"));
        QCOMPARE(key.nonce(QUrl(QStringLiteral("https://API.example.com/"))), QByteArrayLiteral("api-nonce"));
        QVERIFY(key.nonce(QUrl(QStringLiteral("https://api.example.com:8443/"))).isEmpty());
        QVERIFY(key.nonce(QUrl(QStringLiteral("http://api.example.com/"))).isEmpty());
        QVERIFY(!key.setNonce(QUrl(QStringLiteral("https://api.example.com/")), "bad nonce"));
        QCOMPARE(key.nonce(QUrl(QStringLiteral("https://api.example.com/"))), QByteArrayLiteral("api-nonce"));
        // Another key (even from the same JWK) has its own nonces.
        const DpopKey reread = DpopKey::fromPrivateJwk(key.privateJwk());
        QVERIFY(reread.nonce(QUrl(QStringLiteral("https://api.example.com/"))).isEmpty());
    }

    void choosesTheProvidersAlgorithm_data()
    {
        QTest::addColumn<QStringList>("supported");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<DpopKey::Algorithm>("expected");
        QTest::newRow("not advertised") << QStringList() << true << DpopKey::Algorithm::ES256;
        QTest::newRow("both") << QStringList{QStringLiteral("EdDSA"), QStringLiteral("ES256")} << true << DpopKey::Algorithm::ES256;
        QTest::newRow("EdDSA only") << QStringList{QStringLiteral("RS256"), QStringLiteral("EdDSA")} << true << DpopKey::Algorithm::EdDSA;
        QTest::newRow("neither") << QStringList{QStringLiteral("RS256"), QStringLiteral("PS256")} << false << DpopKey::Algorithm::ES256;
    }

    void choosesTheProvidersAlgorithm()
    {
        QFETCH(QStringList, supported);
        QFETCH(bool, ok);
        QFETCH(DpopKey::Algorithm, expected);
        DpopKey::Algorithm chosen = DpopKey::Algorithm::ES256;
        QCOMPARE(DpopKey::chooseAlgorithm(supported, &chosen), ok);
        if (ok)
            QCOMPARE(chosen, expected);
    }

    void debugOutputHasNoPrivateKey()
    {
        const DpopKey key = DpopKey::generate();
        QString text;
        QDebug(&text) << key;
        QVERIFY(text.contains(QString::fromLatin1(key.thumbprint())));
        QVERIFY(!text.contains(key.privateJwk().value(QStringLiteral("d")).toString()));
    }
};

QTEST_GUILESS_MAIN(tst_DpopKey)
#include "tst_dpopkey.moc"
