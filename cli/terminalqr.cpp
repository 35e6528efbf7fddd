// SPDX-License-Identifier: MIT
#include "terminalqr.h"

#include "qrcode.h"
#include "qrterminal.h"

#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

namespace KeyloopCli {

namespace {

// The terminal's width in columns; 0 when stderr is no terminal or the width is unknown.
int terminalColumns()
{
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 0;
}

} // namespace

QString qrCodeForTerminal(const QByteArray &text)
{
    const KeyloopQr::QrCode code = KeyloopQr::QrCode::encode(text);
    if (code.isNull())
        return QString(); // e.g. too long: the address and the code are shown as text anyway
    // Explicit black on white for a terminal that shows colours (no-color.org: NO_COLOR turns
    // them off); plain text, which reads right on the usual dark background, for everything else.
    const bool colours = ::isatty(STDERR_FILENO) && qEnvironmentVariableIsEmpty("NO_COLOR");
    const int columns = terminalColumns();
    if (columns > 0 && code.size() + 2 * KeyloopQr::QuietZoneModules > columns)
        return QString(); // a code wider than the terminal wraps into noise
    return KeyloopQr::toTerminalText(code, colours ? KeyloopQr::TerminalColors::Ansi : KeyloopQr::TerminalColors::None);
}

} // namespace KeyloopCli
