// SPDX-License-Identifier: MIT
// ID token validations per second with cached keys (issue 5, "Performance"), against OpenSSL
// alone: EVP_DigestVerifyInit + EVP_DigestVerify per token, on the very EVP_PKEY the validator
// uses (the JWK's), the same signing input and the token's own signature (for ES256 converted
// once to the DER form OpenSSL wants), with the digest fetched once and the EVP_MD_CTX reused,
// i.e. the fastest plain use of OpenSSL. Both run interleaved in this process, in short chunks,
// for several rounds (at least 5); the medians, their ratio and the validator's cost per token
// beyond the baseline are printed, one line per algorithm:
//   idtoken.RS256 keyloop=N/s openssl=M/s ratio=R overhead=Xus (target >= 0.80)
// Options: --rounds=N (>= 5), --scale=F (iterations), --alg=RS256 (one algorithm, for profiling).
#include <keyloop/idtokenvalidator.h>

#include "jose/jsonwebkey_p.h"
#include "josetestutil.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace Keyloop;
using namespace JoseTest;

namespace {

QString s(const char *text) { return QString::fromLatin1(text); }

struct Case
{
    const char *alg;
    PKey key;
    QString kid;
    double target;
    int iterations;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

volatile int g_sink = 0;

// The JWS R||S signature (RFC 7518 §3.4) as the DER ECDSA-Sig-Value OpenSSL verifies.
QByteArray derFromRaw(const QByteArray &raw)
{
    const int half = int(raw.size() / 2);
    const auto *p = reinterpret_cast<const unsigned char *>(raw.constData());
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(p, half, nullptr), BN_bin2bn(p + half, half, nullptr));
    QByteArray der(i2d_ECDSA_SIG(sig, nullptr), Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    return der;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int rounds = 7;
    double scale = 1.0;
    QByteArray only; // --alg=RS256: one algorithm only (for profiling)
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg.startsWith("--rounds="))
            rounds = std::max(5, arg.mid(9).toInt());
        else if (arg.startsWith("--scale="))
            scale = std::max(0.01, arg.mid(8).toDouble());
        else if (arg.startsWith("--alg="))
            only = arg.mid(6);
    }

    ManualClock clock(QDateTime::currentSecsSinceEpoch());
    const qint64 now = clock.seconds();
    const QString issuer = s("https://login.example.com/tenant/v2.0");
    const QString clientId = s("6731de76-14a6-49ae-97bc-6eba6914391e");
    const QString nonce = s("0S6_WzA2Mj4Rk8gH1pQm7tXvB3nC9eYdLfUa");

    std::vector<Case> cases = {
        {"RS256", generateRsa(2048), s("rsa-2024-11"), 0.80, 20000},
        {"ES256", generateEc("P-256"), s("ec-2024-11"), 0.85, 8000},
        {"EdDSA", generateEd25519(), s("ed-2024-11"), 0.85, 8000},
    };
    // A realistic JWKS: the three signing keys plus a retired RSA key.
    PKey retired = generateRsa(2048);
    QList<JsonWebKey> keys{JsonWebKey::fromJson(publicJwk(retired.get(), s("rsa-2024-05")))};
    for (const Case &c : cases)
        keys.append(JsonWebKey::fromJson(publicJwk(c.key.get(), c.kid)));
    const JsonWebKeySet keySet = JsonWebKeySet::fromKeys(keys);

    IdTokenValidator validator(issuer, clientId);
    validator.setClock(&clock);
    IdTokenExpectations expect;
    expect.setNonce(nonce);

    for (const Case &c : cases) {
        if (!only.isEmpty() && only != c.alg)
            continue;
        const QString alg = s(c.alg);
        // A typical ID token (~ what Entra ID / Google / Keycloak send).
        QJsonObject claims;
        claims[s("iss")] = issuer;
        claims[s("sub")] = s("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ");
        claims[s("aud")] = clientId;
        claims[s("exp")] = double(now + 3600);
        claims[s("iat")] = double(now);
        claims[s("nbf")] = double(now);
        claims[s("auth_time")] = double(now - 5);
        claims[s("nonce")] = nonce;
        claims[s("at_hash")] = s("77QmUPtjPfzWtF2AnpK9RQ");
        claims[s("name")] = s("Abe Lincoln");
        claims[s("preferred_username")] = s("abe@example.com");
        claims[s("email")] = s("abe@example.com");
        claims[s("email_verified")] = true;
        claims[s("oid")] = s("00000000-0000-0000-66f3-3332eca7ea81");
        claims[s("tid")] = s("9122040d-6c67-4c5b-b112-36a304b66dad");
        claims[s("amr")] = QJsonArray{s("pwd"), s("mfa")};
        const QByteArray token = makeToken(c.key.get(), alg, c.kid, claims, QJsonObject{{s("typ"), s("JWT")}});
        const QByteArray signingInput = token.left(token.lastIndexOf('.'));
        QByteArray signature = *Crypto::base64UrlDecode(QByteArrayView(token).sliced(token.lastIndexOf('.') + 1));
        if (alg == s("ES256")) // the same signature, in the DER form OpenSSL wants
            signature = derFromRaw(signature);
        // The validator's own key object for this kid: the baseline verifies with the same key.
        EVP_PKEY *pkey = JsonWebKeyPrivate::get(keySet.key(c.kid))->pkey;

        Error error;
        if (!validator.validate(token, keySet, expect, &error)) {
            std::fprintf(stderr, "bench_idtoken: %s token does not validate: %s\n", c.alg, qPrintable(error.toString()));
            return 1;
        }

        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_MD *md = alg == s("EdDSA") ? nullptr : EVP_MD_fetch(nullptr, "SHA256", nullptr);
        auto openssl = [&](int n) {
            int ok = 0;
            for (int i = 0; i < n; ++i) {
                EVP_MD_CTX_reset(ctx);
                EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey);
                ok += EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char *>(signature.constData()), size_t(signature.size()),
                                       reinterpret_cast<const unsigned char *>(signingInput.constData()), size_t(signingInput.size()));
            }
            return ok;
        };
        auto keyloop = [&](int n) {
            int ok = 0;
            for (int i = 0; i < n; ++i)
                ok += validator.validate(token, keySet, expect).has_value() ? 1 : 0;
            return ok;
        };
        const int n = std::max(100, int(c.iterations * scale));
        keyloop(n / 10); // warm up
        openssl(n / 10);

        std::vector<double> ours, theirs;
        // Each round alternates short chunks of both loops, so that both see the same machine
        // (frequency scaling, other load); a round's figure is its chunks' total.
        const int chunks = 10;
        const int chunk = std::max(10, n / chunks);
        for (int round = 0; round < rounds; ++round) {
            qint64 oursNs = 0, theirsNs = 0;
            int ok = 0;
            for (int j = 0; j < chunks; ++j) {
                QElapsedTimer t;
                t.start();
                ok += keyloop(chunk);
                oursNs += t.nsecsElapsed();
                t.restart();
                ok += openssl(chunk);
                theirsNs += t.nsecsElapsed();
            }
            if (ok != 2 * chunks * chunk) {
                std::fprintf(stderr, "bench_idtoken: %s: a verification failed\n", c.alg);
                return 1;
            }
            ours.push_back(chunks * chunk / (double(oursNs) / 1e9));
            theirs.push_back(chunks * chunk / (double(theirsNs) / 1e9));
            g_sink = g_sink + ok;
        }
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
        const double a = median(ours), b = median(theirs);
        std::printf("idtoken.%s keyloop=%.0f/s openssl=%.0f/s ratio=%.2f overhead=%.1fus (target >= %.2f)\n", c.alg, a, b,
                    a / b, 1e6 / a - 1e6 / b, c.target);
        std::fflush(stdout);
    }
    return 0;
}
