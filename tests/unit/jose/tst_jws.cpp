// SPDX-License-Identifier: MIT
// JWS compact parsing, JWK/JWKS parsing and signature verification (RFC 7515, 7517, 7518, 8037).
#include <QtTest/QtTest>

#include <keyloop/jsonwebkey.h>
#include <keyloop/jsonwebkeyset.h>

#include "jose/jsonwebkey_p.h"
#include "jose/jws_p.h"
#include "core/strictjson_p.h"
#include "josetestutil.h"

using namespace Keyloop;
using namespace JoseTest;

namespace {

// RFC 7520 §3.3 (RSA public key), §3.1 (EC P-521 public key), §4 payload and §4.1-4.3 outputs.
const char kRfc7520RsaN[] =
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT"
    "-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqV"
    "wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-"
    "oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde"
    "3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuC"
    "LqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g"
    "HdrNP5zw";
const char kRfc7520EcX[] = "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9"
                           "A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt";
const char kRfc7520EcY[] = "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVy"
                           "SsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1";
const char kRfc7520Payload[] =
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IH"
    "lvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBk"
    "b24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcm"
    "UgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
const char kRfc7520_41_Header[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
                                  "hhbXBsZSJ9";
const char kRfc7520_41_Sig[] =
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmK"
    "ZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4J"
    "IwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8w"
    "W1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluP"
    "xUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_f"
    "cIe8u9ipH84ogoree7vjbU5y18kDquDg";
const char kRfc7520_42_Header[] = "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
                                  "hhbXBsZSJ9";
const char kRfc7520_42_Sig[] =
    "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2I"
    "pN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXU"
    "vdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRX"
    "e8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT"
    "0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a"
    "6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw";
const char kRfc7520_43_Header[] = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
                                  "hhbXBsZSJ9";
const char kRfc7520_43_Sig[] =
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvb"
    "u9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kv"
    "AD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";

// RFC 7515 Appendix A.3 (ES256).
const char kRfc7515A3Token[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const char kRfc7515A3X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const char kRfc7515A3Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

// RFC 8037 Appendix A.4 (Ed25519), public key from A.2.
const char kRfc8037Token[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
                             ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
const char kRfc8037X[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

QJsonObject obj(std::initializer_list<QPair<QString, QJsonValue>> members)
{
    QJsonObject o;
    for (const auto &m : members)
        o.insert(m.first, m.second);
    return o;
}

QString s(const char *text) { return QString::fromLatin1(text); }

Error verifyToken(const QByteArray &token, const JsonWebKey &key)
{
    Error e;
    auto jws = JwsCompact::parse(token, &e);
    if (!jws)
        return e;
    return verifyJwsSignature(jws->algorithm, *JsonWebKeyPrivate::get(key), jws->signingInput, jws->signature);
}

QByteArray flipLastSignatureByte(QByteArray token)
{
    const qsizetype dot = token.lastIndexOf('.');
    QByteArray sig = *Crypto::base64UrlDecode(QByteArrayView(token).sliced(dot + 1));
    sig[sig.size() - 1] = char(sig[sig.size() - 1] ^ 0x01);
    return token.left(dot + 1) + b64(sig);
}

QByteArray replaceSignature(const QByteArray &token, const QByteArray &sig)
{
    return token.left(token.lastIndexOf('.') + 1) + b64(sig);
}

} // namespace

class TestJws : public QObject
{
    Q_OBJECT

private:
    PKey m_rsa, m_rsa1024, m_p256, m_p384, m_p521, m_ed;

private Q_SLOTS:
    void initTestCase()
    {
        m_rsa = generateRsa(2048);
        m_rsa1024 = generateRsa(1024);
        m_p256 = generateEc("P-256");
        m_p384 = generateEc("P-384");
        m_p521 = generateEc("P-521");
        m_ed = generateEd25519();
        QVERIFY(m_rsa && m_rsa1024 && m_p256 && m_p384 && m_p521 && m_ed);
    }

    // ---- Known-answer vectors ---------------------------------------------------------------

    void knownAnswerVectors_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<QJsonObject>("jwk");
        QTest::addColumn<QString>("alg");
        QTest::addColumn<QByteArray>("payload");

        const QJsonObject rsa = obj({{s("kty"), s("RSA")}, {s("kid"), s("bilbo.baggins@hobbiton.example")},
                                     {s("use"), s("sig")}, {s("n"), s(kRfc7520RsaN)}, {s("e"), s("AQAB")}});
        const QJsonObject p521 = obj({{s("kty"), s("EC")}, {s("kid"), s("bilbo.baggins@hobbiton.example")},
                                      {s("use"), s("sig")}, {s("crv"), s("P-521")},
                                      {s("x"), s(kRfc7520EcX)}, {s("y"), s(kRfc7520EcY)}});
        const QByteArray frodo = *Crypto::base64UrlDecode(QByteArrayView(kRfc7520Payload));
        QTest::newRow("RFC 7520 §4.1 RS256")
            << QByteArray(kRfc7520_41_Header) + '.' + kRfc7520Payload + '.' + kRfc7520_41_Sig << rsa << s("RS256") << frodo;
        QTest::newRow("RFC 7520 §4.2 PS384")
            << QByteArray(kRfc7520_42_Header) + '.' + kRfc7520Payload + '.' + kRfc7520_42_Sig << rsa << s("PS384") << frodo;
        QTest::newRow("RFC 7520 §4.3 ES512")
            << QByteArray(kRfc7520_43_Header) + '.' + kRfc7520Payload + '.' + kRfc7520_43_Sig << p521 << s("ES512") << frodo;
        QTest::newRow("RFC 7515 A.3 ES256")
            << QByteArray(kRfc7515A3Token)
            << obj({{s("kty"), s("EC")}, {s("crv"), s("P-256")}, {s("x"), s(kRfc7515A3X)}, {s("y"), s(kRfc7515A3Y)}})
            << s("ES256") << QByteArray("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
        QTest::newRow("RFC 8037 A.4 Ed25519")
            << QByteArray(kRfc8037Token)
            << obj({{s("kty"), s("OKP")}, {s("crv"), s("Ed25519")}, {s("x"), s(kRfc8037X)}})
            << s("EdDSA") << QByteArray("Example of Ed25519 signing");
    }

    void knownAnswerVectors()
    {
        QFETCH(QByteArray, token);
        QFETCH(QJsonObject, jwk);
        QFETCH(QString, alg);
        QFETCH(QByteArray, payload);

        Error error;
        const JsonWebKey key = JsonWebKey::fromJson(jwk, &error);
        QVERIFY2(!key.isNull(), qPrintable(error.toString()));
        QVERIFY(key.canVerify(alg));

        auto jws = JwsCompact::parse(token, &error);
        QVERIFY2(jws, qPrintable(error.toString()));
        QCOMPARE(Jwa::name(jws->algorithm), alg);
        QCOMPARE(jws->decodePayload(&error).value_or(QByteArray()), payload);
        const Error verified = verifyJwsSignature(jws->algorithm, *JsonWebKeyPrivate::get(key),
                                                  jws->signingInput, jws->signature);
        QVERIFY2(verified.isNull(), qPrintable(verified.toString()));

        // The same vector with one signature bit flipped must fail.
        QCOMPARE(verifyToken(flipLastSignatureByte(token), key).code(), Error::Code::JoseInvalidSignature);
    }

    // ---- Algorithms with OpenSSL-made signatures ---------------------------------------------

    void signedByOpenSsl_data()
    {
        QTest::addColumn<QString>("alg");
        QTest::addColumn<int>("keyIndex");
        for (const char *a : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
            QTest::newRow(a) << s(a) << 0;
        QTest::newRow("ES256") << s("ES256") << 1;
        QTest::newRow("ES384") << s("ES384") << 2;
        QTest::newRow("ES512") << s("ES512") << 3;
        QTest::newRow("EdDSA") << s("EdDSA") << 4;
    }

    void signedByOpenSsl()
    {
        QFETCH(QString, alg);
        QFETCH(int, keyIndex);
        EVP_PKEY *pkey = (keyIndex == 0 ? m_rsa : keyIndex == 1 ? m_p256 : keyIndex == 2 ? m_p384
                          : keyIndex == 3 ? m_p521 : m_ed).get();
        const JsonWebKey key = JsonWebKey::fromJson(publicJwk(pkey, s("k1")));
        QVERIFY(!key.isNull());
        for (int i = 0; i < 8; ++i) { // ES: several signatures, so R or S with leading zero bytes occur
            const QByteArray token = makeToken(pkey, alg, s("k1"), obj({{s("n"), i}}));
            const Error e = verifyToken(token, key);
            QVERIFY2(e.isNull(), qPrintable(e.toString()));
            QCOMPARE(verifyToken(flipLastSignatureByte(token), key).code(), Error::Code::JoseInvalidSignature);
        }
        // Signed over another input: must fail.
        const QByteArray token = makeToken(pkey, alg, s("k1"), obj({{s("n"), 1}}));
        const QByteArray other = makeToken(pkey, alg, s("k1"), obj({{s("n"), 2}}));
        QCOMPARE(verifyToken(token.left(token.lastIndexOf('.')) + other.mid(other.lastIndexOf('.')), key).code(),
                 Error::Code::JoseInvalidSignature);
    }

    void rejectsBadSignatures_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<QJsonObject>("jwk");

        const QByteArray es = makeToken(m_p256.get(), s("ES256"), {}, obj({{s("a"), 1}}));
        const QJsonObject p256 = publicJwk(m_p256.get());
        QTest::newRow("ES256 r=s=0 (CVE-2022-21449)") << replaceSignature(es, QByteArray(64, '\0')) << p256;
        QByteArray rIsN(64, '\0');
        const QByteArray order = QByteArray::fromHex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        rIsN.replace(0, 32, order);
        rIsN.replace(32, 32, order);
        QTest::newRow("ES256 r=s=n") << replaceSignature(es, rIsN) << p256;
        QByteArray zeroS = *Crypto::base64UrlDecode(QByteArrayView(es).sliced(es.lastIndexOf('.') + 1));
        zeroS.replace(32, 32, QByteArray(32, '\0'));
        QTest::newRow("ES256 s=0") << replaceSignature(es, zeroS) << p256;
        const QByteArray input = es.left(es.lastIndexOf('.'));
        QTest::newRow("ES256 DER-encoded") << replaceSignature(es, signDer(m_p256.get(), s("ES256"), input)) << p256;
        QByteArray esSig = *Crypto::base64UrlDecode(QByteArrayView(es).sliced(es.lastIndexOf('.') + 1));
        QTest::newRow("ES256 63 bytes") << replaceSignature(es, esSig.left(63)) << p256;
        QTest::newRow("ES256 65 bytes") << replaceSignature(es, esSig + '\0') << p256;

        const QByteArray rs = makeToken(m_rsa.get(), s("RS256"), {}, obj({{s("a"), 1}}));
        QByteArray rsSig = *Crypto::base64UrlDecode(QByteArrayView(rs).sliced(rs.lastIndexOf('.') + 1));
        QTest::newRow("RS256 255 bytes") << replaceSignature(rs, rsSig.mid(1)) << publicJwk(m_rsa.get());
        QTest::newRow("RS256 257 bytes") << replaceSignature(rs, '\0' + rsSig) << publicJwk(m_rsa.get());
        QTest::newRow("RS256 empty") << replaceSignature(rs, QByteArray()) << publicJwk(m_rsa.get());

        const QByteArray ed = makeToken(m_ed.get(), s("EdDSA"), {}, obj({{s("a"), 1}}));
        QByteArray edSig = *Crypto::base64UrlDecode(QByteArrayView(ed).sliced(ed.lastIndexOf('.') + 1));
        QTest::newRow("EdDSA 63 bytes") << replaceSignature(ed, edSig.left(63)) << publicJwk(m_ed.get());
        QTest::newRow("EdDSA tampered") << flipLastSignatureByte(ed) << publicJwk(m_ed.get());
        // An RS256 signature presented as PS256: different padding.
        QByteArray psAsRs = rs;
        const QByteArray psHeader = b64(R"({"alg":"PS256"})");
        psAsRs = psHeader + psAsRs.mid(psAsRs.indexOf('.'));
        QTest::newRow("RS256 signature as PS256") << psAsRs << publicJwk(m_rsa.get());
    }

    void rejectsBadSignatures()
    {
        QFETCH(QByteArray, token);
        QFETCH(QJsonObject, jwk);
        const JsonWebKey key = JsonWebKey::fromJson(jwk);
        QVERIFY(!key.isNull());
        QCOMPARE(verifyToken(token, key).code(), Error::Code::JoseInvalidSignature);
    }

    // ---- Compact parsing ----------------------------------------------------------------------

    void parse_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<Error::Code>("code");
        const QByteArray h = b64(R"({"alg":"RS256","kid":"k"})");
        const QByteArray p = b64(R"({"sub":"x"})");
        const QByteArray sig = b64(QByteArray(256, 'x'));
        QTest::newRow("valid") << h + '.' + p + '.' + sig << Error::Code::NoError;
        QTest::newRow("two parts") << h + '.' + p << Error::Code::JoseMalformed;
        QTest::newRow("four parts") << h + '.' + p + '.' + sig + '.' << Error::Code::JoseMalformed;
        QTest::newRow("JWE (five parts)") << h + ".a.b.c.d" << Error::Code::JoseMalformed;
        QTest::newRow("empty header") << '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("padding") << b64(R"({"alg":"RS256"})") + "=." + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("standard base64 alphabet") << h + '.' + p + '.' + sig.left(10) + '+' + sig.mid(11) << Error::Code::JoseMalformed;
        QTest::newRow("whitespace") << h + '.' + p + ". " + sig << Error::Code::JoseMalformed;
        QTest::newRow("header not JSON") << b64("alg") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("header is an array") << b64(R"(["alg"])") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("header trailing garbage") << b64(R"({"alg":"RS256"}x)") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("duplicate alg") << b64(R"({"alg":"none","alg":"RS256"})") + '.' + p + '.' + sig << Error::Code::DuplicateParameter;
        QTest::newRow("alg missing") << b64(R"({"kid":"k"})") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("alg number") << b64(R"({"alg":256})") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("alg unknown") << b64(R"({"alg":"XS256"})") + '.' + p + '.' + sig << Error::Code::JoseUnsupportedAlgorithm;
        QTest::newRow("alg lowercase rs256") << b64(R"({"alg":"rs256"})") + '.' + p + '.' + sig << Error::Code::JoseUnsupportedAlgorithm;
        QTest::newRow("crit unknown") << b64(R"({"alg":"RS256","crit":["exp"],"exp":1})") + '.' + p + '.' + sig << Error::Code::JoseUnknownCritical;
        QTest::newRow("crit b64") << b64(R"({"alg":"RS256","crit":["b64"],"b64":false})") + '.' + p + '.' + sig << Error::Code::JoseUnknownCritical;
        QTest::newRow("crit empty") << b64(R"({"alg":"RS256","crit":[]})") + '.' + p + '.' + sig << Error::Code::JoseUnknownCritical;
        QTest::newRow("kid number") << b64(R"({"alg":"RS256","kid":1})") + '.' + p + '.' + sig << Error::Code::JoseMalformed;
        QTest::newRow("oversized") << h + '.' + b64(QByteArray(13000, 'a')) + '.' + sig << Error::Code::JoseTooLarge;
    }

    void parse()
    {
        QFETCH(QByteArray, token);
        QFETCH(Error::Code, code);
        Error error;
        const auto jws = JwsCompact::parse(token, &error);
        QCOMPARE(error.code(), code);
        QCOMPARE(jws.has_value(), code == Error::Code::NoError);
    }

    // The parse reads alg and kid straight from the header text: escaped spellings decode to
    // the same values, and a header or signature larger than the stack buffers still works.
    void parseHeaderValues_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<int>("signatureSize");
        QTest::addColumn<QString>("alg");
        QTest::addColumn<QString>("kid");
        QTest::addColumn<bool>("hasKid");
        QTest::newRow("plain") << QByteArray(R"({"alg":"RS256","kid":"k-1"})") << 256 << s("RS256") << s("k-1") << true;
        QTest::newRow("no kid") << QByteArray(R"({"alg":"ES256"})") << 64 << s("ES256") << QString() << false;
        QTest::newRow("empty kid") << QByteArray(R"({"alg":"ES256","kid":""})") << 64 << s("ES256") << QString() << true;
        QTest::newRow("escaped alg") << QByteArray(R"({"alg":"RS\u0032\u0035\u0036"})") << 256 << s("RS256") << QString() << false;
        QTest::newRow("escaped none") << QByteArray(R"({"alg":"n\u006fne"})") << 0 << s("none") << QString() << false;
        QTest::newRow("escaped kid") << QByteArray(R"({"alg":"EdDSA","kid":"k\u002d\/1"})") << 64 << s("EdDSA") << s("k-/1") << true;
        QTest::newRow("non-ASCII kid") << QByteArray("{\"alg\":\"EdDSA\",\"kid\":\"cl\xc3\xa9\"}") << 64 << s("EdDSA")
                                       << QString::fromUtf8("cl\xc3\xa9") << true;
        // (No raw strings with unbalanced brackets here: moc's tokenizer trips over them.)
        const QByteArray large = "{\"alg\":\"RS512\",\"kid\":\"big\",\"x5c\":[\"" + QByteArray(3000, 'A') + "\"]}";
        QTest::newRow("large header, RSA-8192 signature") << large << 1024 << s("RS512") << s("big") << true;
    }

    void parseHeaderValues()
    {
        QFETCH(QByteArray, header);
        QFETCH(int, signatureSize);
        QFETCH(QString, alg);
        QFETCH(QString, kid);
        QFETCH(bool, hasKid);
        QByteArray signature(signatureSize, Qt::Uninitialized);
        for (int i = 0; i < signatureSize; ++i)
            signature[i] = char(i * 7);
        const QByteArray token = b64(header) + '.' + b64(R"({"sub":"x"})") + '.' + b64(signature);
        Error error;
        const auto jws = JwsCompact::parse(token, &error);
        QVERIFY2(jws, qPrintable(error.toString()));
        QCOMPARE(Jwa::name(jws->algorithm), alg);
        QCOMPARE(jws->hasKeyId, hasKid);
        QCOMPARE(jws->keyId, kid);
        QCOMPARE(jws->headerJson, header);
        QCOMPARE(jws->signature, signature);
        QCOMPARE(jws->signingInput, QByteArrayView(token).first(token.lastIndexOf('.')));
        QCOMPARE(jws->decodePayload(&error).value_or(QByteArray()), QByteArray(R"({"sub":"x"})"));
    }

    void algorithmNames()
    {
        for (const char *none : {"none", "None", "NONE", "nOnE"})
            QCOMPARE(Jwa::fromName(QByteArrayView(none)), JwsAlgorithm::None);
        QCOMPARE(Jwa::fromName(QByteArrayView("HS256")), JwsAlgorithm::HS256);
        QCOMPARE(Jwa::fromName(QByteArrayView("ES256K")), JwsAlgorithm::Unknown);
        const JwsAlgorithmSet set = JwsAlgorithmSet::fromNames({s("RS256"), s("none"), s("HS256"), s("EdDSA"), s("bogus")});
        QCOMPARE(set.names(), QStringList({s("RS256"), s("EdDSA")}));
    }

    // ---- JWK ----------------------------------------------------------------------------------

    void keyParsing_data()
    {
        QTest::addColumn<QJsonObject>("jwk");
        QTest::addColumn<Error::Code>("code");

        const QJsonObject rsa = publicJwk(m_rsa.get(), s("r"));
        const QJsonObject p256 = publicJwk(m_p256.get(), s("e"));
        QTest::newRow("RSA 2048") << rsa << Error::Code::NoError;
        QTest::newRow("RSA 1024 is too small") << publicJwk(m_rsa1024.get()) << Error::Code::JoseInvalidKey;
        QJsonObject j = rsa;
        j[s("use")] = s("sig");
        j[s("key_ops")] = QJsonArray{s("verify")};
        j[s("alg")] = s("PS256");
        QTest::newRow("RSA with use, key_ops, alg") << j << Error::Code::NoError;
        j = rsa; j[s("use")] = s("enc");
        QTest::newRow("use enc") << j << Error::Code::JoseInvalidKey;
        j = rsa; j[s("key_ops")] = QJsonArray{s("sign")};
        QTest::newRow("key_ops without verify") << j << Error::Code::JoseInvalidKey;
        j = rsa; j[s("key_ops")] = s("verify");
        QTest::newRow("key_ops not an array") << j << Error::Code::JoseMalformed;
        j = rsa; j[s("alg")] = s("RSA-OAEP");
        QTest::newRow("alg for encryption") << j << Error::Code::JoseInvalidKey;
        j = rsa; j[s("alg")] = s("ES256");
        QTest::newRow("alg of another kty") << j << Error::Code::JoseInvalidKey;
        j = rsa; j[s("alg")] = s("HS256");
        QTest::newRow("alg HS256") << j << Error::Code::JoseInvalidKey;
        j = rsa; j.remove(s("e"));
        QTest::newRow("RSA without e") << j << Error::Code::JoseMalformed;
        j = rsa; j[s("n")] = s("n+/=");
        QTest::newRow("RSA n not base64url") << j << Error::Code::JoseMalformed;
        j = rsa; j[s("kid")] = 7;
        QTest::newRow("kid number") << j << Error::Code::JoseMalformed;
        QTest::newRow("EC P-256") << p256 << Error::Code::NoError;
        QTest::newRow("EC P-384") << publicJwk(m_p384.get()) << Error::Code::NoError;
        QTest::newRow("EC P-521") << publicJwk(m_p521.get()) << Error::Code::NoError;
        j = p256;
        QByteArray y = *Crypto::base64UrlDecode(j[s("y")].toString().toLatin1());
        y[31] = char(y[31] ^ 1);
        j[s("y")] = b64s(y);
        QTest::newRow("EC point not on the curve") << j << Error::Code::JoseInvalidKey;
        j = p256; j[s("x")] = b64s(QByteArray(31, 'x'));
        QTest::newRow("EC x too short") << j << Error::Code::JoseMalformed;
        j = p256; j[s("crv")] = s("secp256k1");
        QTest::newRow("EC unsupported curve") << j << Error::Code::JoseInvalidKey;
        j = p256; j[s("x")] = b64s(QByteArray(32, '\0')); j[s("y")] = b64s(QByteArray(32, '\0'));
        QTest::newRow("EC zero point") << j << Error::Code::JoseInvalidKey;
        QTest::newRow("OKP Ed25519") << publicJwk(m_ed.get()) << Error::Code::NoError;
        j = publicJwk(m_ed.get()); j[s("crv")] = s("Ed448");
        QTest::newRow("OKP Ed448") << j << Error::Code::JoseInvalidKey;
        j = publicJwk(m_ed.get()); j[s("crv")] = s("X25519");
        QTest::newRow("OKP X25519") << j << Error::Code::JoseInvalidKey;
        QTest::newRow("oct") << obj({{s("kty"), s("oct")}, {s("k"), s("c2VjcmV0")}}) << Error::Code::JoseInvalidKey;
        QTest::newRow("no kty") << obj({{s("n"), s("AQAB")}}) << Error::Code::JoseInvalidKey;
    }

    void keyParsing()
    {
        QFETCH(QJsonObject, jwk);
        QFETCH(Error::Code, code);
        Error error;
        const JsonWebKey key = JsonWebKey::fromJson(jwk, &error);
        QCOMPARE(error.code(), code);
        QCOMPARE(key.isNull(), code != Error::Code::NoError);
    }

    void keyRestrictions()
    {
        QJsonObject j = publicJwk(m_rsa.get(), s("r"), s("PS256"));
        const JsonWebKey key = JsonWebKey::fromJson(j);
        QVERIFY(key.canVerify(s("PS256")));
        QVERIFY(!key.canVerify(s("RS256")));
        QCOMPARE(key.bits(), 2048);
        QCOMPARE(key.keyId(), s("r"));
        const JsonWebKey ec = JsonWebKey::fromJson(publicJwk(m_p384.get()));
        QVERIFY(ec.canVerify(s("ES384")));
        QVERIFY(!ec.canVerify(s("ES256")));
        QVERIFY(!ec.canVerify(s("none")));
        // A token signed with PS256 does not verify with a key pinned to RS256.
        const JsonWebKey rs = JsonWebKey::fromJson(publicJwk(m_rsa.get(), s("r"), s("RS256")));
        const QByteArray token = makeToken(m_rsa.get(), s("PS256"), s("r"), obj({{s("a"), 1}}));
        QCOMPARE(verifyToken(token, rs).code(), Error::Code::JoseInvalidKey);
    }

    void keyDebugIsRedacted()
    {
        QString out;
        QDebug(&out) << JsonWebKey::fromJson(publicJwk(m_rsa.get(), s("kid-1")));
        QVERIFY(out.contains(s("kid-1")));
        QVERIFY(!out.contains(publicJwk(m_rsa.get())[s("n")].toString().left(20)));
    }

    // ---- JWKS ---------------------------------------------------------------------------------

    void keySet()
    {
        QJsonArray keys{publicJwk(m_rsa.get(), s("a")), publicJwk(m_rsa1024.get(), s("small")),
                        obj({{s("kty"), s("oct")}, {s("k"), s("AAAA")}}), 42, publicJwk(m_p256.get(), s("b")),
                        publicJwk(m_ed.get(), s("c"))};
        Error error;
        const auto set = JsonWebKeySet::fromJson(compactJson(obj({{s("keys"), keys}})), &error);
        QVERIFY2(set, qPrintable(error.toString()));
        QCOMPARE(set->size(), 3);
        QCOMPARE(set->skippedKeyCount(), 3);
        QVERIFY(set->containsKeyId(s("a")));
        QVERIFY(!set->containsKeyId(s("small")));
        QCOMPARE(set->key(s("b")).type(), JsonWebKey::Type::Ec);
    }

    void keySetDocument_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<Error::Code>("code");
        QTest::newRow("empty keys") << QByteArray(R"({"keys":[]})") << Error::Code::NoError;
        QTest::newRow("extra members") << QByteArray(R"({"keys":[],"x":1})") << Error::Code::NoError;
        QTest::newRow("keys missing") << QByteArray(R"({"key":[]})") << Error::Code::JoseMalformed;
        QTest::newRow("keys an object") << QByteArray(R"({"keys":{}})") << Error::Code::JoseMalformed;
        QTest::newRow("array document") << QByteArray(R"([{"keys":[]}])") << Error::Code::JoseMalformed;
        QTest::newRow("duplicate keys member") << QByteArray(R"({"keys":[],"keys":[]})") << Error::Code::DuplicateParameter;
        QTest::newRow("duplicate inside a key") << QByteArray(R"({"keys":[{"kty":"RSA","kty":"EC"}]})") << Error::Code::DuplicateParameter;
        QTest::newRow("not JSON") << QByteArray("<html>") << Error::Code::JoseMalformed;
        QTest::newRow("too large") << QByteArray(R"({"keys":[],"p":")") + QByteArray(600 * 1024, 'a') + "\"}" << Error::Code::JoseTooLarge;
    }

    void keySetDocument()
    {
        QFETCH(QByteArray, json);
        QFETCH(Error::Code, code);
        Error error;
        const auto set = JsonWebKeySet::fromJson(json, &error);
        QCOMPARE(error.code(), code);
        QCOMPARE(set.has_value(), code == Error::Code::NoError);
    }

    void keySelection()
    {
        const JsonWebKey a = JsonWebKey::fromJson(publicJwk(m_rsa.get(), s("a")));
        const JsonWebKey b = JsonWebKey::fromJson(publicJwk(m_p256.get(), s("b")));
        const JsonWebKey c = JsonWebKey::fromJson(publicJwk(generateRsa().get(), s("c")));
        Error e;
        // kid chooses.
        JsonWebKeySet set = JsonWebKeySet::fromKeys({a, b, c});
        QCOMPARE(JsonWebKeySetPrivate::select(set, JwsAlgorithm::RS256, QByteArrayView("c"), true, &e), JsonWebKeyPrivate::get(c));
        // kid present but the key does not suit the alg.
        QVERIFY(!JsonWebKeySetPrivate::select(set, JwsAlgorithm::RS256, QByteArrayView("b"), true, &e));
        QCOMPARE(e.code(), Error::Code::JoseKeyNotFound);
        QVERIFY(!JsonWebKeySetPrivate::select(set, JwsAlgorithm::RS256, QByteArrayView("zz"), true, &e));
        QCOMPARE(e.code(), Error::Code::JoseKeyNotFound);
        // No kid: the single key that suits the alg...
        QCOMPARE(JsonWebKeySetPrivate::select(set, JwsAlgorithm::ES256, {}, false, &e), JsonWebKeyPrivate::get(b));
        // ...but two RSA keys are ambiguous.
        QVERIFY(!JsonWebKeySetPrivate::select(set, JwsAlgorithm::RS256, {}, false, &e));
        QCOMPARE(e.code(), Error::Code::JoseInvalidKey);
        QVERIFY(!JsonWebKeySetPrivate::select(set, JwsAlgorithm::ES384, {}, false, &e));
        QCOMPARE(e.code(), Error::Code::JoseKeyNotFound);
    }
};

QTEST_GUILESS_MAIN(TestJws)
#include "tst_jws.moc"
