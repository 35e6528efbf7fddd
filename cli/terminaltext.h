// SPDX-License-Identifier: MIT
// Text from a provider or a user profile (names, sub) on its way to the user's terminal.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace KeyloopCli {

/*!
 * \a text with only printable characters, for a terminal: every character a terminal could
 * act on, or that changes how the rest of the line reads, becomes '?'. Replaced: C0 and C1
 * controls (ESC, CSI U+009B, BEL, CR, LF, TAB, …) and DEL; format characters such as the
 * bidirectional overrides U+202A–U+202E and isolates U+2066–U+2069 ("Trojan Source"), U+200B
 * and the BOM; line and paragraph separators (U+2028, U+2029); surrogates without a partner,
 * private-use and unassigned code points. Kept: letters of every script with their combining
 * marks, digits, punctuation, symbols (emoji), spaces, and the joiners U+200C and U+200D that
 * Persian and Indic names and emoji sequences need.
 *
 * At most \a maxLength code points are kept; longer text is cut and ends with "…".
 */
QString printableText(const QString &text, qsizetype maxLength = 256);

/*!
 * JSON text (as QJsonDocument writes it) with every character printableText() would replace
 * written as a `\uXXXX` escape instead: the same JSON value (RFC 8259 §7), safe to show in a
 * terminal. QJsonDocument escapes only the C0 controls; DEL, C1 controls, bidi overrides and
 * line separators would otherwise reach the terminal raw. Only string contents can hold such
 * characters, so the JSON structure is unchanged.
 */
QByteArray terminalSafeJson(const QByteArray &json);

} // namespace KeyloopCli
