// SPDX-License-Identifier: MIT
// Small cryptographic helpers on OpenSSL 3 shared by every module.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

namespace Keyloop::Crypto {

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

/// Strict base64url decoding: only [A-Za-z0-9_-], no padding, no whitespace, and a
/// length that is not 1 mod 4. Returns std::nullopt on any violation. Non-canonical trailing
/// bits are rejected too, so every input has exactly one encoding.
std::optional<QByteArray> base64UrlDecode(QByteArrayView data);

} // namespace Keyloop::Crypto
