// SPDX-License-Identifier: MIT
#include "jose/base64url_p.h"

#include <array>

namespace Keyloop::Jose {

namespace {
constexpr std::array<signed char, 256> makeTable()
{
    std::array<signed char, 256> t{};
    for (auto &v : t)
        v = -1;
    for (int c = 'A'; c <= 'Z'; ++c) t[size_t(c)] = static_cast<signed char>(c - 'A');
    for (int c = 'a'; c <= 'z'; ++c) t[size_t(c)] = static_cast<signed char>(c - 'a' + 26);
    for (int c = '0'; c <= '9'; ++c) t[size_t(c)] = static_cast<signed char>(c - '0' + 52);
    t[size_t('-')] = 62;
    t[size_t('_')] = 63;
    return t;
}
constexpr std::array<signed char, 256> kTable = makeTable();
} // namespace

bool base64UrlDecodeInto(QByteArrayView data, QByteArray *out)
{
    // RFC 7515 §2 / RFC 4648 §5, no padding (RFC 7515 Appendix C).
    const qsizetype n = data.size();
    const qsizetype tail = n % 4;
    if (tail == 1)
        return false;
    const qsizetype outSize = (n / 4) * 3 + (tail ? tail - 1 : 0);
    out->resize(outSize);
    const auto *in = reinterpret_cast<const unsigned char *>(data.data());
    auto *o = reinterpret_cast<unsigned char *>(out->data());
    const qsizetype full = n - tail;
    int bad = 0;
    for (qsizetype i = 0; i < full; i += 4) {
        const int a = kTable[in[i]], b = kTable[in[i + 1]], c = kTable[in[i + 2]], d = kTable[in[i + 3]];
        bad |= a | b | c | d; // any -1 sets the sign bit
        const unsigned v = (unsigned(a) << 18) | (unsigned(b) << 12) | (unsigned(c) << 6) | unsigned(d);
        *o++ = static_cast<unsigned char>(v >> 16);
        *o++ = static_cast<unsigned char>(v >> 8);
        *o++ = static_cast<unsigned char>(v);
    }
    if (bad < 0)
        return false;
    if (tail == 2) {
        const int a = kTable[in[full]], b = kTable[in[full + 1]];
        if ((a | b) < 0 || (b & 0x0f) != 0) // canonical: the 4 unused bits are zero
            return false;
        *o = static_cast<unsigned char>((a << 2) | (b >> 4));
    } else if (tail == 3) {
        const int a = kTable[in[full]], b = kTable[in[full + 1]], c = kTable[in[full + 2]];
        if ((a | b | c) < 0 || (c & 0x03) != 0) // canonical: the 2 unused bits are zero
            return false;
        o[0] = static_cast<unsigned char>((a << 2) | (b >> 4));
        o[1] = static_cast<unsigned char>(((b & 0x0f) << 4) | (c >> 2));
    }
    return true;
}

} // namespace Keyloop::Jose
