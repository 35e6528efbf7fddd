// SPDX-License-Identifier: MIT
#include "qrterminal.h"

namespace KeyloopQr {

QString toTerminalText(const QrCode &code, TerminalColors colors)
{
    if (code.isNull())
        return {};
    const bool ansi = colors == TerminalColors::Ansi;
    // The glyph is drawn in the foreground colour. Ansi: the foreground is black, so the glyph
    // marks dark modules. None: the foreground is the terminal's text colour (light on the
    // usual dark background), so the glyph marks light modules.
    const auto glyph = [ansi](bool upperDark, bool lowerDark) {
        const bool upper = ansi ? upperDark : !upperDark;
        const bool lower = ansi ? lowerDark : !lowerDark;
        if (upper && lower)
            return QChar(0x2588); // █ FULL BLOCK
        if (upper)
            return QChar(0x2580); // ▀ UPPER HALF BLOCK
        if (lower)
            return QChar(0x2584); // ▄ LOWER HALF BLOCK
        return QChar(u' ');
    };
    // ECMA-48 SGR: 30 black foreground, 47 white background; 0 back to the terminal's colours.
    const QString lineStart = ansi ? QStringLiteral("\x1b[30;47m") : QString();
    const QString lineEnd = ansi ? QStringLiteral("\x1b[0m\n") : QStringLiteral("\n");

    // ISO/IEC 18004 §6.3.8: a quiet zone of 4 light modules on every side. isDark() is false
    // outside the symbol, so walking from -4 to size + 4 draws it.
    const int first = -QuietZoneModules;
    const int end = code.size() + QuietZoneModules; // one past the last row and column
    const int width = end - first;
    QString text;
    text.reserve(((width + 1) / 2) * (width + lineStart.size() + lineEnd.size()));
    for (int y = first; y < end; y += 2) {
        text += lineStart;
        for (int x = first; x < end; ++x)
            text += glyph(code.isDark(x, y), code.isDark(x, y + 1)); // y + 1 == end: light
        text += lineEnd;
    }
    return text;
}

} // namespace KeyloopQr
