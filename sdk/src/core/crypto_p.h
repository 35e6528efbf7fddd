// SPDX-License-Identifier: MIT
// Small cryptographic helpers on OpenSSL 3 shared by every module.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace Keyloop::Crypto {

/// SHA-256/384/512 by digest size in bytes (32, 48, 64), fetched from the provider once:
/// EVP_sha256() & co. would trigger an implicit fetch on every use. nullptr for other sizes.
const EVP_MD *fetchedDigest(int hashSize);

/// This thread's EVP_MD_CTX, reset (so it carries no key's state from an earlier use): one
/// allocation per thread instead of one per signature or verification. Do not keep it across
/// calls that may use it too.
EVP_MD_CTX *threadDigestContext();

/// \a size bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts the process if the CSPRNG
/// fails: continuing with predictable state/nonce/verifier values would be worse.
QByteArray randomBytes(int size);

/// A random URL-safe string of \a bytes bytes of entropy (base64url, no padding).
QByteArray randomToken(int bytes = 32);

/// SHA-256 / SHA-384 / SHA-512 digests.
QByteArray sha256(QByteArrayView data);
QByteArray sha384(QByteArrayView data);
QByteArray sha512(QByteArrayView data);

/// Constant-time comparison (CRYPTO_memcmp); false when sizes differ.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

/// base64url without padding (RFC 7515 §2, RFC 4648 §5).
QByteArray base64UrlEncode(QByteArrayView data);

/*!
 * Strict base64url decoding (RFC 4648 §5, RFC 7515 §2): only [A-Za-z0-9_-], no padding, no
 * whitespace, and a length that is not 1 mod 4. Non-canonical trailing bits are rejected too,
 * so every byte string has exactly one encoding. Returns std::nullopt on any violation.
 */
std::optional<QByteArray> base64UrlDecode(QByteArrayView data);

/// The decoded size of \a encodedSize base64url characters (no padding), or -1 when no valid
/// encoding has that length (1 mod 4).
constexpr qsizetype base64UrlDecodedSize(qsizetype encodedSize)
{
    return encodedSize < 0 || encodedSize % 4 == 1 ? -1 : (encodedSize / 4) * 3 + (encodedSize % 4 ? encodedSize % 4 - 1 : 0);
}

/// base64UrlDecode() into \a out, which must have room for base64UrlDecodedSize(data.size())
/// bytes: no allocation (the JOSE hot path). False on any violation; \a out is then garbage.
bool base64UrlDecodeTo(QByteArrayView data, char *out);

/// base64UrlDecode() into \a out (resized, reusing its capacity). False on any violation.
bool base64UrlDecodeInto(QByteArrayView data, QByteArray *out);

} // namespace Keyloop::Crypto
