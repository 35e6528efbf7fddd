// SPDX-License-Identifier: MIT
#include "core/formencoding_p.h"

namespace Keyloop {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

std::optional<QByteArray> formDecode(QByteArrayView in)
{
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= in.size())
                return std::nullopt;
            const int hi = hexValue(in[i + 1]);
            const int lo = hexValue(in[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += char((hi << 4) | lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<QList<QPair<QByteArray, QByteArray>>> splitFormQuery(QByteArrayView query)
{
    QList<QPair<QByteArray, QByteArray>> result;
    qsizetype pos = 0;
    while (pos <= query.size()) {
        qsizetype amp = query.sliced(pos).indexOf('&');
        const qsizetype end = amp < 0 ? query.size() : pos + amp;
        const QByteArrayView segment = query.sliced(pos, end - pos);
        if (!segment.isEmpty()) {
            const qsizetype eq = segment.indexOf('=');
            const QByteArrayView rawName = eq < 0 ? segment : segment.first(eq);
            const QByteArrayView rawValue = eq < 0 ? QByteArrayView() : segment.sliced(eq + 1);
            auto name = formDecode(rawName);
            auto value = formDecode(rawValue);
            if (!name || !value)
                return std::nullopt;
            result.append(qMakePair(*name, *value));
        }
        if (amp < 0)
            break;
        pos = end + 1;
    }
    return result;
}

} // namespace Keyloop
