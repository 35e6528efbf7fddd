// SPDX-License-Identifier: MIT
// A QR code as terminal text: Unicode half blocks, two module rows per line (no Qt Gui needed).
#pragma once

#include "qrcode.h"

#include <QtCore/QString>

namespace KeyloopQr {

/*! How toTerminalText() colours the code. */
enum class TerminalColors {
    /*!
     * ANSI (ECMA-48) colours: black modules on white, whatever the terminal's own colours. For
     * a terminal that shows colours: stderr is a TTY and NO_COLOR is unset (no-color.org).
     */
    Ansi,
    /*!
     * No escape codes: the terminal's own colours. Light modules are drawn (█, ▀, ▄ in the
     * foreground colour), dark modules are left blank (the background), the convention of
     * `qrencode -t UTF8`. On a dark background, the usual terminal default, that is a normal QR
     * code with its quiet zone drawn light. On a light background the same text shows the code
     * light-on-dark (reflectance reversal, ISO/IEC 18004:2015), which most phone scanners read;
     * zbarimg reads it only with `-Stest-inverted`.
     */
    None,
};

/*!
 * \a code as lines of terminal text, each ending with "\n": one character per module column
 * and one line per two module rows (▀ upper half, ▄ lower half, █ both, space neither), with the
 * quiet zone of QuietZoneModules on every side. The symbol has an odd number of rows, so the last
 * line's lower half is light too: the quiet zone below is one module deeper.
 *
 * The text is (size() + 8) characters wide and (size() + 9) / 2 lines high: 41 × 21 for a
 * version 4 code, the size of a typical verification_uri_complete, but 185 × 93 for version 40;
 * a caller that knows the terminal's width can leave out a code wider than it (and keep the URI
 * and the user code in text, as RFC 8628 §3.3.1 asks anyway). It needs a UTF-8 terminal
 * (the half blocks are U+2580, U+2584, U+2588) and a font that draws them without gaps, as
 * terminals do. A null \a code gives an empty string.
 *
 * With TerminalColors::Ansi each line starts with SGR 30;47 (black on white) and ends with
 * SGR 0 before its "\n"; \a colors TerminalColors::None has no escape codes at all.
 */
QString toTerminalText(const QrCode &code, TerminalColors colors);

} // namespace KeyloopQr
