// SPDX-License-Identifier: MIT
#include "qrimage.h"

#include <cstring>

namespace KeyloopQr {

QImage toImage(const QrCode &code, int scale)
{
    if (code.isNull() || scale < 1)
        return {};
    // ISO/IEC 18004 §6.3.8: a quiet zone of 4 light modules on every side.
    const int modules = code.size() + 2 * QuietZoneModules;
    if (scale > MaxImageSide / modules)
        return {};
    const int side = modules * scale;
    QImage image(side, side, QImage::Format_Grayscale8);
    if (image.isNull())
        return {}; // out of memory
    image.fill(Qt::white);
    for (int y = 0; y < code.size(); ++y) {
        const int top = (y + QuietZoneModules) * scale;
        uchar *line = image.scanLine(top);
        for (int x = 0; x < code.size(); ++x) {
            if (code.isDark(x, y))
                std::memset(line + (x + QuietZoneModules) * scale, 0, size_t(scale));
        }
        for (int row = 1; row < scale; ++row)
            std::memcpy(image.scanLine(top + row), line, size_t(side));
    }
    return image;
}

} // namespace KeyloopQr
