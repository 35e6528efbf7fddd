// SPDX-License-Identifier: MIT
// The cost of one DPoP proof (issue 15, "Performance"; RFC 9449 §4.2), against a bare OpenSSL
// ES256 signature of the same input. Keyloop's side is everything DpopKey::createProof() does for
// an API request: a random jti, the ath hash of a JWT-sized access token, the JSON claims, base64url,
// the ES256 signature and its DER → R||S conversion. The baseline is EVP_DigestSignInit +
// EVP_DigestSign (SHA-256, P-256) over the signing input of such a proof, on one reused
// EVP_MD_CTX: the least any implementation must spend. Both run interleaved in short chunks, for
// several rounds (at least 5); the medians of the per-proof times and their ratio are printed:
//   dpop.proof keyloop=Xus openssl_sign=Yus ratio=R
// Options: --rounds=N (>= 5), --scale=F (iterations).
#include <keyloop/dpopkey.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

using namespace Keyloop;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

volatile qsizetype g_sink = 0;

double argument(const QStringList &args, const QString &name, double fallback)
{
    for (const QString &a : args) {
        if (a.startsWith(name + QLatin1Char('=')))
            return a.mid(name.size() + 1).toDouble();
    }
    return fallback;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int rounds = std::max(5, int(argument(args, QStringLiteral("--rounds"), 7)));
    const int perChunk = std::max(10, int(200 * argument(args, QStringLiteral("--scale"), 1.0)));
    constexpr int kChunks = 10;

    const DpopKey key = DpopKey::generate(DpopKey::Algorithm::ES256);
    const QUrl url(QStringLiteral("https://api.example.com/v1/items"));
    const QByteArray token(900, 'a'); // a JWT-sized access token
    const QByteArray nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v");
    const QDateTime now = QDateTime::currentDateTimeUtc();

    // The baseline's input: the signing input of a real proof (header.payload).
    const QByteArray sample = key.createProof("GET", url, now, token, nonce);
    const QByteArray input = sample.left(sample.lastIndexOf('.'));
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                             EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (sample.isEmpty() || !pkey || !ctx || !sha256) {
        std::fprintf(stderr, "bench_dpop: setup failed\n");
        return 1;
    }
    unsigned char signature[128];
    auto opensslSign = [&] {
        size_t len = sizeof signature;
        EVP_MD_CTX_reset(ctx.get());
        if (EVP_DigestSignInit(ctx.get(), nullptr, sha256, nullptr, pkey.get()) != 1
            || EVP_DigestSign(ctx.get(), signature, &len, reinterpret_cast<const unsigned char *>(input.constData()),
                              size_t(input.size())) != 1)
            std::abort();
        g_sink = g_sink + qsizetype(len);
    };
    auto keyloopProof = [&] {
        const QByteArray proof = key.createProof("GET", url, now, token, nonce);
        if (proof.isEmpty())
            std::abort();
        g_sink = g_sink + proof.size();
    };

    for (int i = 0; i < perChunk; ++i) { // warm-up
        opensslSign();
        keyloopProof();
    }
    std::vector<double> k, o;
    QElapsedTimer timer;
    for (int round = 0; round < rounds; ++round) {
        qint64 kNs = 0, oNs = 0;
        for (int chunk = 0; chunk < kChunks; ++chunk) {
            // Alternate which side goes first, so that both see the same machine load.
            for (int side = 0; side < 2; ++side) {
                const bool keyloopSide = (side + chunk + round) % 2 == 0;
                timer.start();
                for (int i = 0; i < perChunk; ++i)
                    keyloopSide ? keyloopProof() : opensslSign();
                (keyloopSide ? kNs : oNs) += timer.nsecsElapsed();
            }
        }
        const double n = double(kChunks) * perChunk;
        k.push_back(double(kNs) / n / 1000.0);
        o.push_back(double(oNs) / n / 1000.0);
    }
    EVP_MD_free(sha256);
    const double km = median(k), om = median(o);
    std::printf("dpop.proof keyloop=%.1fus openssl_sign=%.1fus ratio=%.3f\n", km, om, km / om);
    return 0;
}
