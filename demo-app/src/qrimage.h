// SPDX-License-Identifier: MIT
// The QR code image of the device sign-in's address.
#pragma once

#include <QtCore/QByteArray>
#include <QtGui/QImage>

/// A QR code of \a text, a few pixels per module with the quiet zone; null when it cannot be drawn.
QImage qrCodeImage(const QByteArray &text);
