// SPDX-License-Identifier: MIT
// IdTokenValidator: OpenID Connect Core §3.1.3.7 rule by rule, §3.1.3.8 at_hash, §12.2 refresh,
// §5.3.2 UserInfo sub, and every JOSE failure an attacker can try.
#include <QtTest/QtTest>

#include <keyloop/idtokenvalidator.h>

#include "josetestutil.h"

using namespace Keyloop;
using namespace JoseTest;

namespace {

const qint64 kNow = 1700000000;
const QString kIssuer = QStringLiteral("https://issuer.example");
const QString kClient = QStringLiteral("client-1");
const QString kNonce = QStringLiteral("n-0S6_WzA2Mj");

QString s(const char *text) { return QString::fromLatin1(text); }

// JSON text written with single quotes, which become double quotes (no raw strings: moc's
// tokenizer loses the test class on some of them).
QByteArray q(const char *text) { return QByteArray(text).replace('\'', '"'); }

QJsonObject with(QJsonObject o, const char *name, const QJsonValue &value)
{
    o.insert(QLatin1String(name), value);
    return o;
}

QJsonObject without(QJsonObject o, const char *name)
{
    o.remove(QLatin1String(name));
    return o;
}

IdTokenExpectations expectNonce(const QString &nonce = kNonce)
{
    IdTokenExpectations e;
    e.setNonce(nonce);
    return e;
}

} // namespace

class TestIdTokenValidator : public QObject
{
    Q_OBJECT

private:
    PKey m_rsa, m_rsb, m_p256, m_p384, m_p521, m_ed, m_attacker;
    JsonWebKeySet m_keys;
    ManualClock m_clock{kNow};

    IdTokenValidator validator() const
    {
        IdTokenValidator v(kIssuer, kClient);
        v.setClock(&m_clock);
        return v;
    }

    static QJsonObject baseClaims()
    {
        QJsonObject c;
        c[s("iss")] = kIssuer;
        c[s("sub")] = s("user-1");
        c[s("aud")] = kClient;
        c[s("exp")] = double(kNow + 300);
        c[s("iat")] = double(kNow);
        c[s("nonce")] = kNonce;
        return c;
    }

    QByteArray rs256(const QJsonObject &claims, QJsonObject header = {}) const
    {
        return makeToken(m_rsa.get(), s("RS256"), s("rsa-1"), claims, header);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_rsa = generateRsa();
        m_rsb = generateRsa();
        m_p256 = generateEc("P-256");
        m_p384 = generateEc("P-384");
        m_p521 = generateEc("P-521");
        m_ed = generateEd25519();
        m_attacker = generateRsa();
        m_keys = JsonWebKeySet::fromKeys({
            JsonWebKey::fromJson(publicJwk(m_rsa.get(), s("rsa-1"))),
            JsonWebKey::fromJson(publicJwk(m_p256.get(), s("ec-256"))),
            JsonWebKey::fromJson(publicJwk(m_p384.get(), s("ec-384"))),
            JsonWebKey::fromJson(publicJwk(m_p521.get(), s("ec-521"))),
            JsonWebKey::fromJson(publicJwk(m_ed.get(), s("ed-1"))),
        });
        QCOMPARE(m_keys.size(), 5);
    }

    void init() { m_clock.setSeconds(kNow); }

    void acceptsValidTokens_data()
    {
        QTest::addColumn<QString>("alg");
        QTest::addColumn<QString>("kid");
        QTest::newRow("RS256") << s("RS256") << s("rsa-1");
        QTest::newRow("RS384") << s("RS384") << s("rsa-1");
        QTest::newRow("RS512") << s("RS512") << s("rsa-1");
        QTest::newRow("PS256") << s("PS256") << s("rsa-1");
        QTest::newRow("PS384") << s("PS384") << s("rsa-1");
        QTest::newRow("PS512") << s("PS512") << s("rsa-1");
        QTest::newRow("ES256") << s("ES256") << s("ec-256");
        QTest::newRow("ES384") << s("ES384") << s("ec-384");
        QTest::newRow("ES512") << s("ES512") << s("ec-521");
        QTest::newRow("EdDSA") << s("EdDSA") << s("ed-1");
        QTest::newRow("ES256 without kid") << s("ES256") << QString();
    }

    void acceptsValidTokens()
    {
        QFETCH(QString, alg);
        QFETCH(QString, kid);
        PKey key = alg.startsWith(QLatin1Char('R')) || alg.startsWith(QLatin1Char('P')) ? m_rsa
                 : alg == s("ES256") ? m_p256 : alg == s("ES384") ? m_p384 : alg == s("ES512") ? m_p521 : m_ed;
        QJsonObject claims = baseClaims();
        claims[s("name")] = s("Alice");
        claims[s("email")] = s("alice@example.com");
        claims[s("preferred_username")] = s("alice");
        claims[s("amr")] = QJsonArray{s("pwd"), s("otp")};
        const QByteArray token = makeToken(key.get(), alg, kid, claims);
        Error error;
        const auto result = validator().validate(token, m_keys, expectNonce(), &error);
        QVERIFY2(result, qPrintable(error.toString()));
        QVERIFY(error.isNull());
        QCOMPARE(result->issuer(), kIssuer);
        QCOMPARE(result->subject(), s("user-1"));
        QCOMPARE(result->audiences(), QStringList{kClient});
        QCOMPARE(result->expiration().toSecsSinceEpoch(), kNow + 300);
        QCOMPARE(result->issuedAt().toSecsSinceEpoch(), kNow);
        QVERIFY(!result->notBefore().isValid());
        QVERIFY(result->nonce() == kNonce);
        QCOMPARE(result->name(), s("Alice"));
        QCOMPARE(result->email(), s("alice@example.com"));
        QCOMPARE(result->preferredUsername(), s("alice"));
        QCOMPARE(result->authenticationMethods(), QStringList({s("pwd"), s("otp")}));
        QCOMPARE(result->claims().value(s("email")).toString(), s("alice@example.com"));
    }

    void acceptsEdgeCases_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<IdTokenExpectations>("expect");

        const QJsonObject c = baseClaims();
        QTest::newRow("exp just inside the leeway") << rs256(with(c, "exp", double(kNow - 59))) << expectNonce();
        QTest::newRow("fractional NumericDates") << rs256(with(with(c, "exp", kNow + 0.5), "iat", kNow - 0.25)) << expectNonce();
        QTest::newRow("iat slightly in the future (skew)") << rs256(with(c, "iat", double(kNow + 30))) << expectNonce();
        QTest::newRow("iat 10 minutes old") << rs256(with(c, "iat", double(kNow - 600))) << expectNonce();
        QTest::newRow("nbf in the past") << rs256(with(c, "nbf", double(kNow - 10))) << expectNonce();
        QTest::newRow("aud array with azp") << rs256(with(with(c, "aud", QJsonArray{kClient, s("api")}), "azp", kClient)) << expectNonce();
        QTest::newRow("single aud array") << rs256(with(c, "aud", QJsonArray{kClient})) << expectNonce();
        QTest::newRow("azp equal to client") << rs256(with(c, "azp", kClient)) << expectNonce();
        QTest::newRow("unknown claims and header members")
            << rs256(with(c, "x-custom", QJsonObject{{s("a"), 1}}), QJsonObject{{s("typ"), s("JWT")}, {s("x5t"), s("abc")}})
            << expectNonce();

        IdTokenExpectations maxAge = expectNonce();
        maxAge.setMaxAge(std::chrono::seconds(3600));
        QTest::newRow("max_age satisfied") << rs256(with(c, "auth_time", double(kNow - 3000))) << maxAge;
        IdTokenExpectations acr = expectNonce();
        acr.setAcrValues({QStringLiteral("urn:example:mfa"), QStringLiteral("urn:example:pwd")});
        QTest::newRow("acr one of acr_values (rule 12)") << rs256(with(c, "acr", s("urn:example:pwd"))) << acr;

        IdTokenExpectations at = expectNonce();
        at.setAccessToken("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
        const QByteArray hash = Crypto::sha256(at.accessToken());
        QTest::newRow("at_hash matches") << rs256(with(c, "at_hash", b64s(QByteArrayView(hash).first(16)))) << at;
        const QByteArray h512 = Crypto::sha512(at.accessToken());
        QTest::newRow("at_hash EdDSA (SHA-512)")
            << makeToken(m_ed.get(), s("EdDSA"), s("ed-1"), with(c, "at_hash", b64s(QByteArrayView(h512).first(32)))) << at;
        const QByteArray h384 = Crypto::sha384(at.accessToken());
        QTest::newRow("at_hash ES384 (SHA-384)")
            << makeToken(m_p384.get(), s("ES384"), s("ec-384"), with(c, "at_hash", b64s(QByteArrayView(h384).first(24)))) << at;
        QTest::newRow("at_hash present, no access token to check") << rs256(with(c, "at_hash", s("whatever"))) << expectNonce();

        IdTokenExpectations refresh;
        refresh.setPreviousClaims(*validator().validate(rs256(with(c, "auth_time", double(kNow - 100))), m_keys, expectNonce()));
        QTest::newRow("refresh without nonce") << rs256(without(with(c, "auth_time", double(kNow - 100)), "nonce")) << refresh;
        QTest::newRow("refresh with the same nonce") << rs256(with(c, "auth_time", double(kNow - 100))) << refresh;
        // auth_time is a NumericDate (RFC 7519 §2): non-integer values are valid, and the §12.2
        // comparison is numeric, not textual.
        QTest::newRow("refresh: the same spelled differently")
            << makeTokenRaw(m_rsa.get(), s("RS256"), q("{'alg':'RS256','kid':'rsa-1'}"),
                            q("{'iss':'https://issuer.example','sub':'user-1','aud':'client-1','exp':1700000300,"
                              "'iat':1700000000,'auth_time':16999999.00e2}"))
            << refresh;
        IdTokenExpectations fractional;
        fractional.setPreviousClaims(*validator().validate(rs256(with(c, "auth_time", kNow - 100.5)), m_keys, expectNonce()));
        QTest::newRow("refresh keeps a fractional auth_time") << rs256(without(with(c, "auth_time", kNow - 100.5), "nonce")) << fractional;
    }

    void acceptsEdgeCases()
    {
        QFETCH(QByteArray, token);
        QFETCH(IdTokenExpectations, expect);
        Error error;
        const auto result = validator().validate(token, m_keys, expect, &error);
        QVERIFY2(result, qPrintable(error.toString()));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<IdTokenExpectations>("expect");
        QTest::addColumn<Error::Code>("code");

        const QJsonObject c = baseClaims();
        const IdTokenExpectations e = expectNonce();
        const QByteArray good = rs256(c);
        const QByteArray input = good.left(good.lastIndexOf('.'));
        const QByteArray sig = *Crypto::base64UrlDecode(QByteArrayView(good).sliced(good.lastIndexOf('.') + 1));
        auto withSig = [](const QByteArray &token, const QByteArray &signature) {
            return token.left(token.lastIndexOf('.') + 1) + b64(signature);
        };

        // Signatures
        QByteArray flipped = sig;
        flipped[10] = char(flipped[10] ^ 0x40);
        QTest::newRow("tampered signature") << withSig(good, flipped) << e << Error::Code::JoseInvalidSignature;
        const QByteArray evilPayload = b64(compactJson(with(c, "sub", s("admin"))));
        QTest::newRow("tampered payload") << good.left(good.indexOf('.') + 1) + evilPayload + good.mid(good.lastIndexOf('.'))
                                          << e << Error::Code::JoseInvalidSignature;
        QTest::newRow("wrong-length signature") << withSig(good, sig.left(255)) << e << Error::Code::JoseInvalidSignature;
        QTest::newRow("signature stripped") << input + '.' << e << Error::Code::JoseInvalidSignature;
        const QByteArray es = makeToken(m_p256.get(), s("ES256"), s("ec-256"), c);
        QTest::newRow("ES256 r=s=0") << withSig(es, QByteArray(64, '\0')) << e << Error::Code::JoseInvalidSignature;
        QTest::newRow("ES256 DER-encoded")
            << withSig(es, signDer(m_p256.get(), s("ES256"), es.left(es.lastIndexOf('.')))) << e << Error::Code::JoseInvalidSignature;
        QTest::newRow("signed by another key with the same kid")
            << makeToken(m_rsb.get(), s("RS256"), s("rsa-1"), c) << e << Error::Code::JoseInvalidSignature;

        // Algorithms and keys
        for (const char *none : {"none", "None", "NONE"}) {
            const QByteArray unsigned_ = b64(QByteArray(R"({"alg":")") + none + "\"}") + '.' + b64(compactJson(c)) + '.';
            QTest::newRow(qPrintable(QStringLiteral("alg %1").arg(s(none)))) << unsigned_ << e << Error::Code::JoseUnsupportedAlgorithm;
        }
        {
            // HS256 "signed" with the RSA public key (PEM and raw modulus) as the HMAC secret.
            const QByteArray hsInput = b64(R"({"alg":"HS256","kid":"rsa-1"})") + '.' + b64(compactJson(c));
            const QByteArray pem = publicKeyPem(m_rsa.get());
            QTest::newRow("HS256 with the public key PEM as secret")
                << hsInput + '.' + b64(hmacSha256(pem, hsInput)) << e << Error::Code::JoseUnsupportedAlgorithm;
            const QByteArray n = *Crypto::base64UrlDecode(publicJwk(m_rsa.get())[s("n")].toString().toLatin1());
            QTest::newRow("HS256 with the modulus as secret")
                << hsInput + '.' + b64(hmacSha256(n, hsInput)) << e << Error::Code::JoseUnsupportedAlgorithm;
        }
        {
            // The token names the attacker's key itself: never used.
            const QJsonObject attackerJwk = publicJwk(m_attacker.get(), s("evil"));
            QTest::newRow("jwk header with attacker key, no kid")
                << makeToken(m_attacker.get(), s("RS256"), {}, c, QJsonObject{{s("jwk"), attackerJwk}})
                << e << Error::Code::JoseInvalidSignature;
            QTest::newRow("jwk header with attacker key and kid")
                << makeToken(m_attacker.get(), s("RS256"), s("evil"), c, QJsonObject{{s("jwk"), attackerJwk}})
                << e << Error::Code::JoseKeyNotFound;
            QTest::newRow("jku header pointing at attacker JWKS")
                << makeToken(m_attacker.get(), s("RS256"), s("rsa-1"), c,
                             QJsonObject{{s("jku"), s("https://attacker.example/jwks.json")}})
                << e << Error::Code::JoseInvalidSignature;
            QTest::newRow("x5u header")
                << makeToken(m_attacker.get(), s("RS256"), s("rsa-1"), c, QJsonObject{{s("x5u"), s("https://attacker.example/c.pem")}})
                << e << Error::Code::JoseInvalidSignature;
        }
        QTest::newRow("unknown alg") << b64(R"({"alg":"RS257"})") + '.' + b64(compactJson(c)) + '.' + b64(sig)
                                     << e << Error::Code::JoseUnsupportedAlgorithm;
        QTest::newRow("unknown kid") << makeToken(m_rsa.get(), s("RS256"), s("rsa-2"), c) << e << Error::Code::JoseKeyNotFound;
        QTest::newRow("kid of a key of another type")
            << makeToken(m_rsa.get(), s("RS256"), s("ec-256"), c) << e << Error::Code::JoseKeyNotFound;
        QTest::newRow("crit header") << rs256(c, QJsonObject{{s("crit"), QJsonArray{s("urn:x")}}, {s("urn:x"), 1}})
                                     << e << Error::Code::JoseUnknownCritical;

        // Parsing
        QTest::newRow("duplicate claim names")
            << makeTokenRaw(m_rsa.get(), s("RS256"), R"({"alg":"RS256","kid":"rsa-1"})",
                            compactJson(c).replace("\"sub\":\"user-1\"", "\"sub\":\"user-1\",\"sub\":\"admin\""))
            << e << Error::Code::DuplicateParameter;
        QTest::newRow("duplicate header names")
            << makeTokenRaw(m_rsa.get(), s("RS256"), R"({"alg":"RS256","kid":"rsa-1","kid":"rsa-1"})", compactJson(c))
            << e << Error::Code::DuplicateParameter;
        QTest::newRow("oversized token") << rs256(with(c, "pad", QString(13000, QLatin1Char('x')))) << e << Error::Code::JoseTooLarge;
        QTest::newRow("payload not JSON")
            << makeTokenRaw(m_rsa.get(), s("RS256"), R"({"alg":"RS256","kid":"rsa-1"})", "hello") << e << Error::Code::JoseMalformed;
        QTest::newRow("payload a JSON array")
            << makeTokenRaw(m_rsa.get(), s("RS256"), R"({"alg":"RS256","kid":"rsa-1"})", "[1]") << e << Error::Code::JoseMalformed;
        QTest::newRow("two parts") << input << e << Error::Code::JoseMalformed;
        QTest::newRow("JWE") << QByteArray("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d") << e << Error::Code::JoseMalformed;

        // Claims
        QTest::newRow("wrong iss") << rs256(with(c, "iss", s("https://evil.example"))) << e << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("iss with suffix") << rs256(with(c, "iss", kIssuer + s(".evil.example"))) << e << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("iss with trailing slash") << rs256(with(c, "iss", kIssuer + s("/"))) << e << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("iss in upper case") << rs256(with(c, "iss", kIssuer.toUpper())) << e << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("iss missing") << rs256(without(c, "iss")) << e << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("wrong aud") << rs256(with(c, "aud", s("other-client"))) << e << Error::Code::IdTokenInvalidAudience;
        QTest::newRow("aud missing") << rs256(without(c, "aud")) << e << Error::Code::IdTokenInvalidAudience;
        QTest::newRow("aud array without client") << rs256(with(c, "aud", QJsonArray{s("a"), s("b")})) << e << Error::Code::IdTokenInvalidAudience;
        QTest::newRow("aud with a number") << rs256(with(c, "aud", QJsonArray{kClient, 1})) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("several aud, no azp") << rs256(with(c, "aud", QJsonArray{kClient, s("api")})) << e << Error::Code::IdTokenInvalidAuthorizedParty;
        QTest::newRow("several aud, azp another client")
            << rs256(with(with(c, "aud", QJsonArray{kClient, s("api")}), "azp", s("api"))) << e << Error::Code::IdTokenInvalidAuthorizedParty;
        QTest::newRow("azp another client") << rs256(with(c, "azp", s("other"))) << e << Error::Code::IdTokenInvalidAuthorizedParty;
        QTest::newRow("missing sub") << rs256(without(c, "sub")) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("empty sub") << rs256(with(c, "sub", s(""))) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("sub a number") << rs256(with(c, "sub", 42)) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("exp in the past") << rs256(with(c, "exp", double(kNow - 61))) << e << Error::Code::IdTokenExpired;
        QTest::newRow("exp exactly at now - leeway") << rs256(with(c, "exp", double(kNow - 60))) << e << Error::Code::IdTokenExpired;
        QTest::newRow("exp as a string") << rs256(with(c, "exp", QString::number(kNow + 300))) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("exp missing") << rs256(without(c, "exp")) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("exp absurd") << rs256(with(c, "exp", 1e300)) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("exp negative") << rs256(with(c, "exp", -1)) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("exp boolean") << rs256(with(c, "exp", true)) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("iat in the future") << rs256(with(c, "iat", double(kNow + 61))) << e << Error::Code::IdTokenIssuedInFuture;
        QTest::newRow("iat too old") << rs256(with(c, "iat", double(kNow - 661))) << e << Error::Code::IdTokenTooOld;
        QTest::newRow("iat as a string") << rs256(with(c, "iat", QString::number(kNow))) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("iat missing") << rs256(without(c, "iat")) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("nbf in the future") << rs256(with(c, "nbf", double(kNow + 61))) << e << Error::Code::IdTokenNotYetValid;
        QTest::newRow("nbf as a string") << rs256(with(c, "nbf", s("0"))) << e << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("nonce missing") << rs256(without(c, "nonce")) << e << Error::Code::IdTokenInvalidNonce;
        QTest::newRow("nonce different") << rs256(with(c, "nonce", s("n-other"))) << e << Error::Code::IdTokenInvalidNonce;
        QTest::newRow("nonce prefix") << rs256(with(c, "nonce", kNonce.left(5))) << e << Error::Code::IdTokenInvalidNonce;
        QTest::newRow("nonce a number") << rs256(with(c, "nonce", 1)) << e << Error::Code::IdTokenInvalidNonce;

        // at_hash (§3.1.3.8)
        IdTokenExpectations at = expectNonce();
        at.setAccessToken("access-token-value");
        QTest::newRow("at_hash mismatch") << rs256(with(c, "at_hash", b64s(QByteArray(16, 'x')))) << at << Error::Code::IdTokenInvalidAccessTokenHash;
        const QByteArray h512 = Crypto::sha512(at.accessToken());
        QTest::newRow("at_hash with the wrong hash for RS256")
            << rs256(with(c, "at_hash", b64s(QByteArrayView(h512).first(16)))) << at << Error::Code::IdTokenInvalidAccessTokenHash;
        QTest::newRow("at_hash not a string") << rs256(with(c, "at_hash", 5)) << at << Error::Code::IdTokenInvalidClaim;

        // auth_time / max_age (rule 13)
        IdTokenExpectations maxAge = expectNonce();
        maxAge.setMaxAge(std::chrono::seconds(600));
        QTest::newRow("max_age, auth_time missing") << rs256(c) << maxAge << Error::Code::IdTokenInvalidAuthTime;
        IdTokenExpectations acr = expectNonce();
        acr.setAcrValues({QStringLiteral("urn:example:mfa")});
        QTest::newRow("acr_values, acr missing (rule 12)") << rs256(c) << acr << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("acr_values, weaker acr (rule 12)") << rs256(with(c, "acr", s("urn:example:pwd"))) << acr << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("max_age, auth_time too old") << rs256(with(c, "auth_time", double(kNow - 661))) << maxAge << Error::Code::IdTokenInvalidAuthTime;
        QTest::newRow("auth_time as a string") << rs256(with(c, "auth_time", s("1"))) << maxAge << Error::Code::IdTokenInvalidClaim;

        // Refresh (§12.2)
        IdTokenExpectations refresh;
        refresh.setPreviousClaims(*validator().validate(rs256(with(c, "auth_time", double(kNow - 100))), m_keys, e));
        QTest::newRow("refresh: sub changed") << rs256(with(c, "sub", s("user-2"))) << refresh << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("refresh: aud changed")
            << rs256(with(with(c, "aud", QJsonArray{kClient, s("api")}), "azp", kClient)) << refresh << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("refresh: azp added") << rs256(with(c, "azp", kClient)) << refresh << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("refresh: auth_time changed")
            << rs256(with(c, "auth_time", double(kNow - 5))) << refresh << Error::Code::IdTokenRefreshMismatch;
        IdTokenExpectations fractional;
        fractional.setPreviousClaims(*validator().validate(rs256(with(c, "auth_time", kNow - 100.5)), m_keys, e));
        QTest::newRow("refresh: fractional auth_time changed")
            << rs256(with(c, "auth_time", kNow - 100.25)) << fractional << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("refresh: nonce changed")
            << rs256(with(with(c, "auth_time", double(kNow - 100)), "nonce", s("n-new"))) << refresh << Error::Code::IdTokenRefreshMismatch;
        QTest::newRow("refresh: iss changed still fails rule 2")
            << rs256(with(c, "iss", s("https://other.example"))) << refresh << Error::Code::IdTokenInvalidIssuer;
    }

    void rejects()
    {
        QFETCH(QByteArray, token);
        QFETCH(IdTokenExpectations, expect);
        QFETCH(Error::Code, code);
        Error error;
        const auto result = validator().validate(token, m_keys, expect, &error);
        QVERIFY(!result);
        QCOMPARE(error.code(), code);
        // Messages name rules and claim names, never values from the token.
        QVERIFY(!error.message().contains(kNonce));
        QVERIFY(!error.message().contains(s("user-1")));
        QVERIFY(!error.message().contains(s("evil")));
    }

    // The validator compares the raw bytes of iss, aud, azp, nonce and kid with the UTF-8 of
    // its configuration: a JSON escape must not change the outcome (RFC 8259 §7: "\/" and "/",
    // "\u002d" and "-" are the same string).
    void escapedClaimsCompareAsDecoded_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<Error::Code>("code");
        const QByteArray h = q("{'alg':'RS256','kid':'rsa-1'}");
        const QByteArray rest = q("'exp':1700000300,'iat':1700000000");
        auto payload = [&](const QByteArray &iss, const QByteArray &sub, const QByteArray &aud, const QByteArray &nonce,
                           const QByteArray &extra = QByteArray()) {
            return "{\"iss\":" + iss + ",\"sub\":" + sub + ",\"aud\":" + aud + ",\"nonce\":" + nonce + "," + rest + extra + "}";
        };
        const auto ok = Error::Code::NoError;
        QTest::newRow("plain") << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("iss with escaped slashes")
            << h << payload(q("'https:\\/\\/issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("iss fully escaped")
            << h << payload(q("'\\u0068ttps://issuer\\u002eexample'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("escaped iss with a suffix")
            << h << payload(q("'https:\\/\\/issuer.example\\/'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'"))
            << Error::Code::IdTokenInvalidIssuer;
        QTest::newRow("escaped aud") << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client\\u002d1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("escaped aud of another client")
            << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client\\u002d2'"), q("'n-0S6_WzA2Mj'"))
            << Error::Code::IdTokenInvalidAudience;
        QTest::newRow("aud array, escaped entries and azp")
            << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("['api','\\u0063lient-1']"), q("'n-0S6_WzA2Mj'"),
                            q(",'azp':'client\\u002d1'")) << ok;
        QTest::newRow("aud array, escaped azp of another client")
            << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("['api','client-1']"), q("'n-0S6_WzA2Mj'"),
                            q(",'azp':'\\u0061pi'")) << Error::Code::IdTokenInvalidAuthorizedParty;
        QTest::newRow("escaped nonce") << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n\\u002d0S6_WzA2Mj'")) << ok;
        QTest::newRow("escaped nonce, different")
            << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n\\u002d0S6_WzA2Mk'"))
            << Error::Code::IdTokenInvalidNonce;
        QTest::newRow("escaped sub") << h << payload(q("'https://issuer.example'"), q("'us\\u0065r-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("sub only an escaped empty string")
            << h << payload(q("'https://issuer.example'"), q("''"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << Error::Code::IdTokenInvalidClaim;
        QTest::newRow("escaped kid") << QByteArray(q("{'alg':'RS256','kid':'rsa\\u002d1'}"))
                                     << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'")) << ok;
        QTest::newRow("escaped kid of no key") << QByteArray(q("{'alg':'RS256','kid':'rsa\\u002d2'}"))
                                               << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'"))
                                               << Error::Code::JoseKeyNotFound;
        QTest::newRow("escaped claim name") << h << payload(q("'https://issuer.example'"), q("'user-1'"), q("'client-1'"), q("'n-0S6_WzA2Mj'"),
                                                            q(",'\\u0061zp':'other'")) << Error::Code::IdTokenInvalidAuthorizedParty;
    }

    void escapedClaimsCompareAsDecoded()
    {
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, payload);
        QFETCH(Error::Code, code);
        Error error;
        const auto result = validator().validate(makeTokenRaw(m_rsa.get(), s("RS256"), header, payload), m_keys, expectNonce(), &error);
        QCOMPARE(error.code(), code);
        QCOMPARE(result.has_value(), code == Error::Code::NoError);
        if (result) {
            QCOMPARE(result->issuer(), kIssuer);
            QCOMPARE(result->subject(), s("user-1"));
            QVERIFY(result->audiences().contains(kClient));
            QVERIFY(result->nonce() == kNonce);
        }
    }

    // OIDC Core §2: sub is at most 255 characters, counted as UTF-16 code units (QString::size),
    // whatever the UTF-8 length or the escaping.
    void subjectLengthLimit_data()
    {
        QTest::addColumn<QByteArray>("sub");
        QTest::addColumn<bool>("accepted");
        const QByteArray e9 = "\xc3\xa9";                  // é: 2 bytes, 1 unit
        const QByteArray smiley = "\xf0\x9f\x98\x80";      // U+1F600: 4 bytes, 2 units
        const QByteArray escapedSmiley = "\\ud83d\\ude00"; // the same, escaped
        QTest::newRow("255 ASCII") << QByteArray(255, 'a') << true;
        QTest::newRow("256 ASCII") << QByteArray(256, 'a') << false;
        QTest::newRow("255 two-byte characters") << e9.repeated(255) << true;
        QTest::newRow("256 two-byte characters") << e9.repeated(256) << false;
        QTest::newRow("127 surrogate pairs") << smiley.repeated(127) + 'a' << true;
        QTest::newRow("128 surrogate pairs") << smiley.repeated(128) << false;
        QTest::newRow("127 escaped surrogate pairs") << escapedSmiley.repeated(127) + 'a' << true;
        QTest::newRow("128 escaped surrogate pairs") << escapedSmiley.repeated(128) << false;
        QTest::newRow("255 escaped ASCII") << QByteArray("\\u0061").repeated(255) << true;
        QTest::newRow("256 escaped ASCII") << QByteArray("\\u0061").repeated(256) << false;
    }

    void subjectLengthLimit()
    {
        QFETCH(QByteArray, sub);
        QFETCH(bool, accepted);
        const QByteArray payload = "{\"iss\":\"https://issuer.example\",\"sub\":\"" + sub
            + "\",\"aud\":\"client-1\",\"exp\":1700000300,\"iat\":1700000000,\"nonce\":\"n-0S6_WzA2Mj\"}";
        Error error;
        const auto result = validator().validate(makeTokenRaw(m_rsa.get(), s("RS256"), q("{'alg':'RS256','kid':'rsa-1'}"), payload),
                                                 m_keys, expectNonce(), &error);
        QCOMPARE(result.has_value(), accepted);
        if (result)
            QCOMPARE(result->subject(), QJsonDocument::fromJson(payload).object().value(s("sub")).toString());
        else
            QCOMPARE(error.code(), Error::Code::IdTokenInvalidClaim);
    }

    // The claims object keeps the payload and decodes the checked claims on request; copies
    // see the same values.
    void claimsAreDecodedOnRequest()
    {
        const QByteArray payload = q("{'iss':'https://issuer.example','sub':'u\\u00e9-1','aud':['client-1','api\\/x'],'azp':'client\\u002d1','nonce':'n-0S6_WzA2Mj','at_hash':'\\u0061bc','exp':1700000300,'iat':1700000000,'nbf':1699999990,'auth_time':1699999000.5,'acr':'urn:x','amr':['pwd']}");
        Error error;
        const auto result = validator().validate(makeTokenRaw(m_rsa.get(), s("RS256"), q("{'alg':'RS256','kid':'rsa-1'}"), payload),
                                                 m_keys, expectNonce(), &error);
        QVERIFY2(result, qPrintable(error.toString()));
        const IdTokenClaims copy = *result;
        for (const IdTokenClaims &claims : {*result, copy}) {
            QCOMPARE(claims.issuer(), kIssuer);
            QCOMPARE(claims.subject(), QString::fromUtf8("u\xc3\xa9-1"));
            QCOMPARE(claims.audiences(), QStringList({kClient, s("api/x")}));
            QCOMPARE(claims.authorizedParty(), kClient);
            QVERIFY(claims.nonce() == kNonce);
            QCOMPARE(claims.accessTokenHash(), s("abc"));
            QCOMPARE(claims.notBefore().toSecsSinceEpoch(), qint64(1699999990));
            QCOMPARE(claims.authTime().toMSecsSinceEpoch(), qint64(1699999000500));
            QCOMPARE(claims.authenticationContextClass(), s("urn:x"));
            QCOMPARE(claims.claims().value(s("sub")).toString(), claims.subject());
            QCOMPARE(claims.claim(s("azp")).toString(), kClient);
        }
        QVERIFY(copy == *result);

        // A refresh compares against these decoded values (OIDC Core §12.2).
        IdTokenExpectations refresh;
        refresh.setPreviousClaims(copy);
        QVERIFY2(validator().validate(makeTokenRaw(m_rsa.get(), s("RS256"), q("{'alg':'RS256','kid':'rsa-1'}"), payload),
                                      m_keys, refresh, &error),
                 qPrintable(error.toString()));
        QByteArray other = payload;
        other.replace(q("'api\\/x'"), q("'api\\/y'"));
        QVERIFY(!validator().validate(makeTokenRaw(m_rsa.get(), s("RS256"), q("{'alg':'RS256','kid':'rsa-1'}"), other),
                                      m_keys, refresh, &error));
        QCOMPARE(error.code(), Error::Code::IdTokenRefreshMismatch);
    }

    // A configured issuer or client_id that is not valid UTF-16 (a lone surrogate) equals no
    // decoded claim, not even one carrying U+FFFD where the surrogate was.
    void invalidUtf16ConfigurationNeverMatches()
    {
        const QString brokenIssuer = kIssuer + QChar(0xd800);
        IdTokenValidator v(brokenIssuer, kClient);
        v.setClock(&m_clock);
        Error error;
        QVERIFY(!v.validate(rs256(with(baseClaims(), "iss", kIssuer + QChar(0xfffd))), m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::IdTokenInvalidIssuer);

        IdTokenValidator w(kIssuer, kClient + QChar(0xdc00));
        w.setClock(&m_clock);
        QVERIFY(!w.validate(rs256(with(baseClaims(), "aud", kClient + QChar(0xfffd))), m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::IdTokenInvalidAudience);

        // Reconfiguring updates what is compared.
        w.setClientId(kClient);
        QVERIFY(w.validate(rs256(baseClaims()), m_keys, expectNonce(), &error));
        v.setIssuer(kIssuer);
        QVERIFY(v.validate(rs256(baseClaims()), m_keys, expectNonce(), &error));
    }

    void algorithmAllowList()
    {
        const QByteArray es = makeToken(m_p256.get(), s("ES256"), s("ec-256"), baseClaims());
        IdTokenValidator v = validator();
        v.setAllowedAlgorithms({s("RS256")});
        Error error;
        QVERIFY(!v.validate(es, m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::JoseUnsupportedAlgorithm);
        v.setAllowedAlgorithms(IdTokenValidator::intersectAlgorithms(IdTokenValidator::defaultAlgorithms(), {s("ES256"), s("HS256")}));
        QCOMPARE(v.allowedAlgorithms(), QStringList{s("ES256")});
        QVERIFY(v.validate(es, m_keys, expectNonce(), &error));
        // none and HS* can never be allowed.
        v.setAllowedAlgorithms({s("none"), s("HS256"), s("RS256")});
        QCOMPARE(v.allowedAlgorithms(), QStringList{s("RS256")});
    }

    void intersectAlgorithms_data()
    {
        QTest::addColumn<QStringList>("configured");
        QTest::addColumn<QStringList>("provider");
        QTest::addColumn<QStringList>("expected");
        const QStringList all = IdTokenValidator::defaultAlgorithms();
        QTest::newRow("provider RS256 only") << all << QStringList{s("RS256")} << QStringList{s("RS256")};
        QTest::newRow("provider with none and HS256") << all << QStringList{s("none"), s("HS256"), s("ES256"), s("EdDSA")}
                                                     << QStringList{s("ES256"), s("EdDSA")};
        QTest::newRow("provider silent: RS256") << all << QStringList{} << QStringList{s("RS256")};
        QTest::newRow("disjoint") << QStringList{s("ES256")} << QStringList{s("RS256")} << QStringList{};
        QTest::newRow("configured HS256") << QStringList{s("HS256")} << QStringList{s("HS256")} << QStringList{};
    }

    void intersectAlgorithms()
    {
        QFETCH(QStringList, configured);
        QFETCH(QStringList, provider);
        QFETCH(QStringList, expected);
        QCOMPARE(IdTokenValidator::intersectAlgorithms(configured, provider), expected);
    }

    void leewayAndIatAgeAreConfigurable()
    {
        IdTokenValidator v = validator();
        v.setLeeway(std::chrono::seconds(0));
        Error error;
        QVERIFY(!v.validate(rs256(with(baseClaims(), "exp", double(kNow - 1))), m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::IdTokenExpired);
        v.setMaxIssuedAtAge(std::chrono::hours(24));
        QVERIFY(v.validate(rs256(with(baseClaims(), "iat", double(kNow - 3600))), m_keys, expectNonce(), &error));
        QCOMPARE(validator().leeway(), std::chrono::seconds(60));
        QCOMPARE(validator().maxIssuedAtAge(), std::chrono::seconds(600));
    }

    void clockIsInjected()
    {
        const QByteArray token = rs256(baseClaims());
        QVERIFY(validator().validate(token, m_keys, expectNonce()));
        m_clock.advance(std::chrono::seconds(361));
        Error error;
        QVERIFY(!validator().validate(token, m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::IdTokenExpired);
    }

    void ambiguousKeysWithoutKid()
    {
        const JsonWebKeySet keys = JsonWebKeySet::fromKeys({JsonWebKey::fromJson(publicJwk(m_rsa.get(), s("a"))),
                                                            JsonWebKey::fromJson(publicJwk(m_rsb.get(), s("b")))});
        Error error;
        QVERIFY(!validator().validate(makeToken(m_rsa.get(), s("RS256"), {}, baseClaims()), keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::JoseInvalidKey);
    }

    void smallRsaKeyIsSkipped()
    {
        PKey small = generateRsa(1024);
        const QJsonObject jwks{{s("keys"), QJsonArray{publicJwk(small.get(), s("small"))}}};
        const auto keys = JsonWebKeySet::fromJson(compactJson(jwks));
        QVERIFY(keys);
        QCOMPARE(keys->size(), 0);
        QCOMPARE(keys->skippedKeyCount(), 1);
        Error error;
        QVERIFY(!validator().validate(makeToken(small.get(), s("RS256"), s("small"), baseClaims()), *keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::JoseKeyNotFound);
    }

    void configurationIsRequired()
    {
        Error error;
        QVERIFY(!IdTokenValidator().validate(rs256(baseClaims()), m_keys, expectNonce(), &error));
        QCOMPARE(error.code(), Error::Code::InvalidConfiguration);
    }

    void claimsDebugIsRedacted()
    {
        QJsonObject c = with(baseClaims(), "email", s("alice@example.com"));
        const auto claims = validator().validate(rs256(c), m_keys, expectNonce());
        QVERIFY(claims);
        QString out;
        QDebug(&out) << *claims;
        QVERIFY(out.contains(s("user-1")));
        QVERIFY(out.contains(s("nonce"))); // the name
        QVERIFY(!out.contains(kNonce));     // never the value
        QVERIFY(!out.contains(s("alice@example.com")));
        QString nullOut;
        QDebug(&nullOut) << IdTokenClaims();
        QVERIFY(nullOut.contains(s("null")));
    }

    void userInfoSubject()
    {
        const auto claims = validator().validate(rs256(baseClaims()), m_keys, expectNonce());
        QVERIFY(claims);
        QVERIFY(checkUserInfoSubject(QJsonObject{{s("sub"), s("user-1")}, {s("name"), s("A")}}, *claims).isNull());
        QCOMPARE(checkUserInfoSubject(QJsonObject{{s("sub"), s("user-2")}}, *claims).code(), Error::Code::UserInfoSubjectMismatch);
        QCOMPARE(checkUserInfoSubject(QJsonObject{{s("name"), s("A")}}, *claims).code(), Error::Code::IdTokenInvalidClaim);
        QCOMPARE(checkUserInfoSubject(QJsonObject{{s("sub"), 1}}, *claims).code(), Error::Code::IdTokenInvalidClaim);
        QCOMPARE(checkUserInfoSubject(QJsonObject{{s("sub"), s("user-1")}}, IdTokenClaims()).code(), Error::Code::UserInfoSubjectMismatch);
    }
};

QTEST_GUILESS_MAIN(TestIdTokenValidator)
#include "tst_idtokenvalidator.moc"
