// SPDX-License-Identifier: MIT
// A QR code as a QImage, for the demo app (target keyloop_qrcode_gui: needs Qt Gui, which the
// CLI does not link).
#pragma once

#include "qrcode.h"

#include <QtGui/QImage>

namespace KeyloopQr {

/*! The largest image side toImage() makes, in pixels. */
inline constexpr int MaxImageSide = 8192;

/*!
 * \a code as a black-on-white image (QImage::Format_Grayscale8) with the quiet zone of
 * QuietZoneModules on every side, each module \a scale × \a scale pixels: (size() + 8) × \a scale
 * pixels square.
 *
 * A null \a code, a \a scale below 1, or an image side above MaxImageSide gives a null QImage.
 * Scale the result, if at all, with Qt::FastTransformation (smoothing blurs the modules), and
 * prefer an integer \a scale times the screen's devicePixelRatio:
 *
 * \code
 * QImage image = KeyloopQr::toImage(code, 4 * qRound(label->devicePixelRatioF()));
 * image.setDevicePixelRatio(qRound(label->devicePixelRatioF()));
 * label->setPixmap(QPixmap::fromImage(image));
 * \endcode
 */
QImage toImage(const QrCode &code, int scale);

} // namespace KeyloopQr
