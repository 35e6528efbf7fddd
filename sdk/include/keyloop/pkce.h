// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class PkcePrivate;

/*!
 * \brief Proof Key for Code Exchange (RFC 7636), S256 only.
 *
 * generate() draws 32 bytes from OpenSSL's CSPRNG and encodes them base64url (43 characters,
 * RFC 7636 §4.1, §7.1); the challenge is BASE64URL(SHA256(ASCII(verifier))) (§4.2).
 * `plain` is never used (§7.2). The verifier is a secret: QDebug prints it redacted.
 */
class KEYLOOP_EXPORT Pkce
{
public:
    /// A null Pkce; see generate().
    Pkce();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    Pkce(const Pkce &other);
    Pkce(Pkce &&other) noexcept;
    Pkce &operator=(const Pkce &other);
    Pkce &operator=(Pkce &&other) noexcept;
    ///@}
    ~Pkce();

    /// A fresh verifier from the CSPRNG and its S256 challenge.
    static Pkce generate();
    /// BASE64URL-ENCODE(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
    static QByteArray challengeFor(QByteArrayView verifier);
    /// 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~" (RFC 7636 §4.1).
    static bool isValidVerifier(QByteArrayView verifier);
    /// Always "S256".
    static QString method();

    /// True for a default-constructed Pkce (no verifier).
    bool isNull() const;
    /// `code_verifier`
    QByteArray verifier() const;
    /// `code_challenge`
    QByteArray challenge() const;

private:
    QSharedDataPointer<PkcePrivate> d;
};

/// Prints the method and whether a verifier is present; the verifier itself is redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const Pkce &pkce);

} // namespace Keyloop
