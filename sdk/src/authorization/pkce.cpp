// SPDX-License-Identifier: MIT
#include <keyloop/pkce.h>

#include "core/crypto_p.h"

#include <QtCore/QDebug>

namespace Keyloop {

class PkcePrivate : public QSharedData
{
public:
    QByteArray verifier;
    QByteArray challenge;
};

Pkce::Pkce() : d(new PkcePrivate) {}
Pkce::Pkce(const Pkce &other) = default;
Pkce &Pkce::operator=(const Pkce &other) = default;
Pkce::Pkce(Pkce &&other) noexcept = default;
Pkce &Pkce::operator=(Pkce &&other) noexcept = default;
Pkce::~Pkce() = default;

Pkce Pkce::generate()
{
    Pkce pkce;
    // RFC 7636 §4.1 / §7.1: 32 octets from a CSPRNG, base64url → 43 characters of entropy 256 bits.
    pkce.d->verifier = Crypto::randomToken(32);
    pkce.d->challenge = challengeFor(pkce.d->verifier);
    return pkce;
}

QByteArray Pkce::challengeFor(QByteArrayView verifier)
{
    // RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))
    return Crypto::base64UrlEncode(Crypto::sha256(verifier));
}

bool Pkce::isValidVerifier(QByteArrayView verifier)
{
    // RFC 7636 §4.1: code-verifier = 43*128unreserved
    if (verifier.size() < 43 || verifier.size() > 128)
        return false;
    for (const char c : verifier) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok)
            return false;
    }
    return true;
}

QString Pkce::method() { return QStringLiteral("S256"); }
bool Pkce::isNull() const { return d->verifier.isEmpty(); }
QByteArray Pkce::verifier() const { return d->verifier; }
QByteArray Pkce::challenge() const { return d->challenge; }

QDebug operator<<(QDebug debug, const Pkce &pkce)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::Pkce(method=S256, verifier=" << (pkce.isNull() ? "<none>" : "<redacted>") << ')';
    return debug;
}

} // namespace Keyloop
