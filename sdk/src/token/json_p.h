// SPDX-License-Identifier: MIT
// Strict JSON object parsing for protocol messages (discovery, token responses).
// Interim implementation on QJsonDocument plus a duplicate-member scan, until the SDK-wide
// strict parser (jose/strictjson_p.h, StrictJson::parseObject) replaces it: this file is the
// single switch point. Header-only so that every module may use it without a link dependency.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonParseError>
#include <QtCore/QList>
#include <QtCore/QSet>
#include <QtCore/QString>

#include <optional>

namespace Keyloop::Json {

namespace detail {

/// Decodes the JSON string literal data[begin, end) (quotes included).
inline QString decodeStringLiteral(QByteArrayView literal)
{
    if (!literal.contains('\\'))
        return QString::fromUtf8(literal.sliced(1, literal.size() - 2));
    QByteArray wrapped;
    wrapped.reserve(literal.size() + 2);
    wrapped.append('[').append(literal.data(), literal.size()).append(']');
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped);
    return doc.array().at(0).toString();
}

/// Scans syntactically valid JSON for an object with a repeated member name (after
/// unescaping). QJsonDocument silently keeps the last duplicate (RFC 8259 §4 leaves it
/// undefined), which would let an attacker-influenced body shadow a member.
inline bool hasDuplicateMember(QByteArrayView json)
{
    struct Level {
        bool isObject;
        bool expectKey;
        QSet<QString> keys;
    };
    QList<Level> stack;
    const qsizetype n = json.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char c = json[i];
        switch (c) {
        case '{': stack.append({true, true, {}}); break;
        case '[': stack.append({false, false, {}}); break;
        case '}':
        case ']':
            if (!stack.isEmpty())
                stack.removeLast();
            break;
        case ',':
            if (!stack.isEmpty() && stack.last().isObject)
                stack.last().expectKey = true;
            break;
        case '"': {
            const qsizetype start = i;
            ++i;
            while (i < n && json[i] != '"') {
                if (json[i] == '\\')
                    ++i;
                ++i;
            }
            if (i >= n)
                return false; // unterminated: not valid JSON anyway
            if (!stack.isEmpty() && stack.last().isObject && stack.last().expectKey) {
                const QString key = decodeStringLiteral(json.sliced(start, i - start + 1));
                if (stack.last().keys.contains(key))
                    return true;
                stack.last().keys.insert(key);
                stack.last().expectKey = false;
            }
            break;
        }
        default: break;
        }
    }
    return false;
}

} // namespace detail

/// Parses \a json as exactly one JSON object (RFC 8259). Not JSON or not an object →
/// MalformedResponse; a member name repeated in any object → DuplicateParameter.
inline std::optional<QJsonObject> parseJsonObject(QByteArrayView json, Error *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error)
            *error = Error(Error::Code::MalformedResponse,
                           doc.isNull() ? QStringLiteral("the body is not valid JSON (RFC 8259)")
                                        : QStringLiteral("the body is not a JSON object"));
        return std::nullopt;
    }
    if (detail::hasDuplicateMember(json)) {
        if (error)
            *error = Error(Error::Code::DuplicateParameter,
                           QStringLiteral("the JSON body repeats a member name"));
        return std::nullopt;
    }
    if (error)
        *error = Error();
    return doc.object();
}

} // namespace Keyloop::Json
