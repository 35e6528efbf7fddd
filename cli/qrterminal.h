// SPDX-License-Identifier: MIT
// The QR code the device sign-in shows on stderr (RFC 8628 §3.3.1).
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace KeyloopCli {

/// The QR code of \a text for stderr; empty when it cannot be drawn (then the address is shown
/// as text only).
QString qrCodeForTerminal(const QByteArray &text);

} // namespace KeyloopCli
