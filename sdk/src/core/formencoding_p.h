// SPDX-License-Identifier: MIT
// application/x-www-form-urlencoded decoding (RFC 6749 Appendix B), shared by the loopback
// receiver (which needs `state` before anything else) and AuthorizationResponse.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QPair>

#include <optional>

namespace Keyloop {

/// Decodes one name or value: '+' is a space; every '%' must start a two-hex-digit escape
/// (a lone '%' is an error, not a literal). std::nullopt on a malformed escape.
std::optional<QByteArray> formDecode(QByteArrayView in);

/*!
 * Splits a query strictly: pairs separated by '&', name and value separated by the first '=',
 * both decoded with formDecode(). Empty segments (`a=1&&b=2`) are skipped. Returns std::nullopt
 * on a malformed escape. Names and values come back in order, duplicates included (callers
 * reject them: RFC 6749 §3.1).
 */
std::optional<QList<QPair<QByteArray, QByteArray>>> splitFormQuery(QByteArrayView query);

} // namespace Keyloop
