// SPDX-License-Identifier: MIT
// libFuzzer target for the WWW-Authenticate parser (http/wwwauthenticate_p.h): RFC 9110 §11.6.1
// challenges and the Bearer challenge of RFC 6750 §3 / RFC 9470 §3. Input from any API server.
// Invariants: no crash/UB/leak; the bounds hold (16 challenges, 32 parameters each); schemes and
// parameter names are lower-case tokens; what bearerChallenge() keeps is well-formed.
#include "http/wwwauthenticate_p.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QList<Keyloop::AuthChallenge> challenges = Keyloop::parseWwwAuthenticate(input);
    if (challenges.size() > 16)
        std::abort();
    for (const Keyloop::AuthChallenge &c : challenges) {
        if (c.scheme.isEmpty() || c.scheme != c.scheme.toLower() || c.params.size() > 32)
            std::abort();
        for (const auto &p : c.params)
            if (p.first.isEmpty() || p.first != p.first.toLower())
                std::abort();
        (void)c.param("error");
    }
    const Keyloop::BearerChallenge bearer = Keyloop::bearerChallenge(input);
    for (const QChar ch : bearer.error) // RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E, and no space kept
        if (ch.unicode() < 0x21 || ch.unicode() > 0x7e || ch == QLatin1Char('"') || ch == QLatin1Char('\\'))
            std::abort();
    if (bearer.scopes.size() > 64 || bearer.acrValues.size() > 64)
        std::abort();
    if (bearer.maxAge && bearer.maxAge->count() < 0)
        std::abort();
    return 0;
}
