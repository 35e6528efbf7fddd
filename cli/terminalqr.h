// SPDX-License-Identifier: MIT
// The QR code the device sign-in shows on stderr (RFC 8628 §3.3.1).
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace KeyloopCli {

/// The QR code of \a text for stderr (libqrencode, level M): black on white with ANSI colours when
/// stderr is a terminal and NO_COLOR is unset or empty, else plain half blocks (light modules
/// drawn). Empty when it cannot be drawn — too long, or wider than the terminal — then the
/// address and the code are shown as text only.
QString qrCodeForTerminal(const QByteArray &text);

} // namespace KeyloopCli
