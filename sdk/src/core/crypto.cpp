// SPDX-License-Identifier: MIT
#include "core/crypto_p.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace Keyloop::Crypto {

QByteArray randomBytes(int size)
{
    QByteArray out(size, Qt::Uninitialized);
    if (size > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), size) != 1) {
        std::fputs("keyloop: OpenSSL CSPRNG failed; aborting\n", stderr);
        std::abort();
    }
    return out;
}

QByteArray randomToken(int bytes)
{
    return base64UrlEncode(randomBytes(bytes));
}

static QByteArray digest(const EVP_MD *md, QByteArrayView data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), size_t(data.size()), out, &len, md, nullptr) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(out), int(len));
}

QByteArray sha256(QByteArrayView data) { return digest(EVP_sha256(), data); }
QByteArray sha384(QByteArrayView data) { return digest(EVP_sha384(), data); }
QByteArray sha512(QByteArrayView data) { return digest(EVP_sha512(), data); }

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    return a.isEmpty() || CRYPTO_memcmp(a.data(), b.data(), size_t(a.size())) == 0;
}

static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

QByteArray base64UrlEncode(QByteArrayView data)
{
    const auto *in = reinterpret_cast<const unsigned char *>(data.data());
    const qsizetype n = data.size();
    QByteArray out;
    out.reserve((n * 4 + 2) / 3);
    qsizetype i = 0;
    for (; i + 2 < n; i += 3) {
        const unsigned v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        out.append(kAlphabet[(v >> 18) & 63]).append(kAlphabet[(v >> 12) & 63])
           .append(kAlphabet[(v >> 6) & 63]).append(kAlphabet[v & 63]);
    }
    if (n - i == 1) {
        const unsigned v = in[i] << 16;
        out.append(kAlphabet[(v >> 18) & 63]).append(kAlphabet[(v >> 12) & 63]);
    } else if (n - i == 2) {
        const unsigned v = (in[i] << 16) | (in[i + 1] << 8);
        out.append(kAlphabet[(v >> 18) & 63]).append(kAlphabet[(v >> 12) & 63])
           .append(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

static inline int decodeChar(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

std::optional<QByteArray> base64UrlDecode(QByteArrayView data)
{
    const qsizetype n = data.size();
    if (n % 4 == 1)
        return std::nullopt;
    QByteArray out;
    out.reserve(n * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const int v = decodeChar(data[i]);
        if (v < 0)
            return std::nullopt;
        buffer = (buffer << 6) | unsigned(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(char((buffer >> bits) & 0xff));
        }
    }
    // Leftover bits must be zero (canonical encoding).
    if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

} // namespace Keyloop::Crypto
