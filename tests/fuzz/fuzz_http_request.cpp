// SPDX-License-Identifier: MIT
// libFuzzer target for the loopback receiver's HTTP request parser and its strict query split.
// Needs the sdk modules: core, redirect.
//
// Input layout: the first byte seeds the chunk sizes, the rest is the byte stream of one
// connection, fed to the parser in chunks of varying size (as a socket would deliver it).
// Invariants checked: the verdict does not depend on chunking, a finished parser stays
// finished, and a Complete request has an origin-form path and a token method.
#include "redirect/httprequestparser_p.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using Keyloop::HttpRequestParser;

namespace {

void check(bool condition)
{
    if (!condition)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned seed = data[0];
    const QByteArrayView stream(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    HttpRequestParser chunked;
    qsizetype pos = 0;
    while (pos < stream.size()) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype chunk = qMin<qsizetype>(1 + qsizetype((seed >> 16) % 512), stream.size() - pos);
        const HttpRequestParser::Status before = chunked.status();
        const HttpRequestParser::Status after = chunked.feed(stream.sliced(pos, chunk));
        if (before != HttpRequestParser::Status::NeedMore)
            check(after == before);
        pos += chunk;
    }

    HttpRequestParser whole;
    whole.feed(stream);
    check(whole.status() == chunked.status());
    check(whole.errorReason() == chunked.errorReason());

    if (whole.status() == HttpRequestParser::Status::Complete) {
        check(whole.consumed() <= stream.size());
        check(whole.consumed() == chunked.consumed());
        check(!whole.method().isEmpty());
        check(whole.path().startsWith('/'));
        check(whole.rawQuery() == chunked.rawQuery());
        check(whole.headers().size() <= 50);
        const auto pairs = Keyloop::splitFormQuery(whole.rawQuery());
        if (pairs) {
            for (const auto &p : *pairs)
                check(p.first.size() <= whole.rawQuery().size() && p.second.size() <= whole.rawQuery().size());
        }
    } else if (whole.status() == HttpRequestParser::Status::Error) {
        check(HttpRequestParser::httpStatusFor(whole.errorReason()) >= 400);
    }
    // The query splitter on arbitrary bytes, too.
    (void)Keyloop::splitFormQuery(stream);
    return 0;
}
