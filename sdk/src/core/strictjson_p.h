// SPDX-License-Identifier: MIT
// Strict JSON (RFC 8259) for everything the SDK parses from the network. Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>

#include <optional>
#include <string_view>

namespace Keyloop {

/*!
 * A strict JSON reader. QJsonDocument::fromJson silently keeps the last of duplicate member
 * names (`{"a":1,"a":2}` gives `{"a":2}`), which lets an attacker smuggle a second value past a
 * checker that reads the first one. StrictJson first scans the text once and rejects:
 * - duplicate member names in any object, at any depth (compared after unescaping, so
 *   `"a"` and `"\u0061"` are the same name) — RFC 8259 §4 says names SHOULD be unique, and
 *   RFC 7515 §5.2 / RFC 7519 §4 require JOSE parsers to reject duplicates or use the last one;
 *   we reject;
 * - invalid UTF-8 (overlongs, surrogates, > U+10FFFF) and unpaired \\u surrogates (RFC 8259 §8.1);
 * - anything outside the RFC 8259 grammar: comments, single quotes, leading zeros, NaN,
 *   control characters in strings, a byte order mark, trailing garbage after the value;
 * - nesting deeper than Limits::maxDepth and input larger than Limits::maxSize.
 * Only then does it build the value with QJsonDocument::fromJson.
 *
 * Error codes: DuplicateParameter for duplicates, ResponseTooLarge for the size limit,
 * MalformedResponse for everything else. Messages never quote the input.
 */
class StrictJson
{
public:
    struct Limits
    {
        qsizetype maxSize = 1024 * 1024; ///< bytes
        int maxDepth = 64;               ///< nested objects/arrays
    };

    /// Parses \a json, which must be one JSON object.
    static std::optional<QJsonObject> parseObject(QByteArrayView json, Error *error = nullptr);
    static std::optional<QJsonObject> parseObject(QByteArrayView json, const Limits &limits,
                                                  Error *error = nullptr);
    /// Parses any JSON value (RFC 8259 allows a scalar at the top level).
    static std::optional<QJsonValue> parse(QByteArrayView json, const Limits &limits, Error *error = nullptr);

    /// Only the strict scan (no value is built). Exposed for the fuzzer and the benchmark.
    static Error check(QByteArrayView json, const Limits &limits);

    enum class ValueType { Object, Array, String, Number, True, False, Null };
    /// A top-level member of an object, as views into the scanned text.
    struct Member
    {
        std::string_view name;  ///< unescaped name (UTF-8); empty for an array element
        QByteArrayView value;   ///< the raw JSON text of the value (a string keeps its quotes)
        ValueType type;
        bool hasEscapes = false; ///< a string value containing a backslash escape
    };
    using MemberVisitor = void (*)(void *context, const Member &member);

    /*!
     * The strict scan of one JSON object, reporting each top-level member to  visit without
     * building any QJsonValue: the fast path for ID tokens and JOSE headers, which need a handful
     * of members. The views are only valid during the call, and the members may only be trusted
     * when the returned Error is null (duplicates are detected when the object closes).
     */
    static Error scanObject(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context);
    /// The same without building an Error: the hot path (JOSE headers, ID token claims), whose
    /// callers word their own errors. Returns NoError, DuplicateParameter, ResponseTooLarge or
    /// MalformedResponse.
    static Error::Code scanMembers(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context);
    /// The strict scan of one JSON array, reporting each top-level element (with an empty
    /// name). Same results as scanMembers().
    static Error::Code scanElements(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context);

    /// Decodes a string value reported by scanObject() (raw text with quotes, already validated).
    static QString decodeString(QByteArrayView raw);
    /// The same as UTF-8 bytes.
    static QByteArray decodeStringUtf8(QByteArrayView raw);
    /// Whether a string value reported by scanObject() equals \a utf8, without building a
    /// QString (a plain byte comparison unless the value has escapes). Not constant-time.
    static bool stringEquals(QByteArrayView raw, bool hasEscapes, QByteArrayView utf8);
    /// decodeString(raw).size() (UTF-16 code units), without building the QString.
    static qsizetype stringUtf16Length(QByteArrayView raw, bool hasEscapes);
    /// Decodes a number value reported by scanObject().
    static double decodeNumber(QByteArrayView raw);
};

} // namespace Keyloop
