// SPDX-License-Identifier: MIT
#include "core/crypto_p.h"

#include <QtCore/QtEndian>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
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

const EVP_MD *fetchedDigest(int hashSize)
{
    static const EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    static const EVP_MD *sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    static const EVP_MD *sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    switch (hashSize) {
    case 32: return sha256;
    case 48: return sha384;
    case 64: return sha512;
    default: return nullptr;
    }
}

namespace {
struct MdCtx
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ~MdCtx() { EVP_MD_CTX_free(ctx); }
};
} // namespace

EVP_MD_CTX *threadDigestContext()
{
    // Reset before every use: reset frees the previous EVP_PKEY_CTX, so a context never carries
    // one key's state into another operation.
    thread_local MdCtx holder;
    EVP_MD_CTX_reset(holder.ctx);
    return holder.ctx;
}

static QByteArray digest(const EVP_MD *md, QByteArrayView data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), size_t(data.size()), out, &len, md, nullptr) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(out), int(len));
}

QByteArray sha256(QByteArrayView data) { return digest(fetchedDigest(32), data); }
QByteArray sha384(QByteArrayView data) { return digest(fetchedDigest(48), data); }
QByteArray sha512(QByteArrayView data) { return digest(fetchedDigest(64), data); }

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    return a.isEmpty() || CRYPTO_memcmp(a.data(), b.data(), size_t(a.size())) == 0;
}

// ---------------------------------------------------------------------------------------------
// base64url (RFC 4648 §5) without padding (RFC 7515 §2). Table-driven, into a preallocated
// buffer: this decoder sits on the ID token hot path (header, payload and signature).

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// kDecode[k][c]: the 6 bits of character c, pre-shifted into position k of a 4-character
// group (bits 18, 12, 6, 0 of a 24-bit value), or kBad for a character outside the alphabet.
// OR-ing the four entries of a group gives its 3 bytes; kBad (bit 24) survives the OR.
constexpr std::uint32_t kBad = 0x01000000u;

struct DecodeTables
{
    std::uint32_t t[4][256];
};

constexpr DecodeTables makeDecodeTables()
{
    DecodeTables d{};
    for (int c = 0; c < 256; ++c) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        for (int k = 0; k < 4; ++k)
            d.t[k][c] = v < 0 ? kBad : std::uint32_t(v) << (18 - 6 * k);
    }
    return d;
}

constexpr DecodeTables kDecode = makeDecodeTables();

} // namespace

QByteArray base64UrlEncode(QByteArrayView data)
{
    const auto *in = reinterpret_cast<const unsigned char *>(data.data());
    const qsizetype n = data.size();
    QByteArray out((n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0), Qt::Uninitialized);
    char *o = out.data();
    qsizetype i = 0;
    for (; i + 2 < n; i += 3) {
        const unsigned v = (unsigned(in[i]) << 16) | (unsigned(in[i + 1]) << 8) | in[i + 2];
        o[0] = kAlphabet[(v >> 18) & 63];
        o[1] = kAlphabet[(v >> 12) & 63];
        o[2] = kAlphabet[(v >> 6) & 63];
        o[3] = kAlphabet[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        const unsigned v = unsigned(in[i]) << 16;
        o[0] = kAlphabet[(v >> 18) & 63];
        o[1] = kAlphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        const unsigned v = (unsigned(in[i]) << 16) | (unsigned(in[i + 1]) << 8);
        o[0] = kAlphabet[(v >> 18) & 63];
        o[1] = kAlphabet[(v >> 12) & 63];
        o[2] = kAlphabet[(v >> 6) & 63];
    }
    return out;
}

bool base64UrlDecodeTo(QByteArrayView data, char *out)
{
    const qsizetype n = data.size();
    const qsizetype tail = n % 4;
    if (tail == 1)
        return false;
    const auto *in = reinterpret_cast<const unsigned char *>(data.data());
    auto *o = reinterpret_cast<unsigned char *>(out);
    const auto &t = kDecode.t;
    const qsizetype full = n - tail;
    std::uint32_t bad = 0;
    qsizetype i = 0;
    // Two groups (8 characters, 6 bytes) per step, written as one 8-byte store while at least
    // 8 bytes of output remain: the two extra bytes are overwritten by the next step.
    const unsigned char *const outEnd = o + base64UrlDecodedSize(n);
    for (; i + 8 <= full && outEnd - o >= 8; i += 8) {
        const std::uint32_t v1 = t[0][in[i]] | t[1][in[i + 1]] | t[2][in[i + 2]] | t[3][in[i + 3]];
        const std::uint32_t v2 = t[0][in[i + 4]] | t[1][in[i + 5]] | t[2][in[i + 6]] | t[3][in[i + 7]];
        bad |= v1 | v2;
        qToBigEndian<quint64>((quint64(v1) << 40) | (quint64(v2) << 16), o);
        o += 6;
    }
    for (; i < full; i += 4) {
        const std::uint32_t v = t[0][in[i]] | t[1][in[i + 1]] | t[2][in[i + 2]] | t[3][in[i + 3]];
        bad |= v;
        o[0] = static_cast<unsigned char>(v >> 16);
        o[1] = static_cast<unsigned char>(v >> 8);
        o[2] = static_cast<unsigned char>(v);
        o += 3;
    }
    // The last group of 2 or 3 characters carries 4 or 2 unused bits: they must be zero
    // (canonical encoding, RFC 4648 §3.5), so every byte string has exactly one encoding.
    if (tail == 2) {
        const std::uint32_t v = t[0][in[full]] | t[1][in[full + 1]];
        bad |= v | ((v & 0xffff) ? kBad : 0);
        o[0] = static_cast<unsigned char>(v >> 16);
    } else if (tail == 3) {
        const std::uint32_t v = t[0][in[full]] | t[1][in[full + 1]] | t[2][in[full + 2]];
        bad |= v | ((v & 0xff) ? kBad : 0);
        o[0] = static_cast<unsigned char>(v >> 16);
        o[1] = static_cast<unsigned char>(v >> 8);
    }
    return (bad & kBad) == 0;
}

bool base64UrlDecodeInto(QByteArrayView data, QByteArray *out)
{
    const qsizetype size = base64UrlDecodedSize(data.size());
    if (size < 0)
        return false;
    out->resize(size);
    if (size == 0)
        return true;
    return base64UrlDecodeTo(data, out->data());
}

std::optional<QByteArray> base64UrlDecode(QByteArrayView data)
{
    QByteArray out;
    if (!base64UrlDecodeInto(data, &out))
        return std::nullopt;
    return out;
}

} // namespace Keyloop::Crypto
