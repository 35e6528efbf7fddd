// SPDX-License-Identifier: MIT
#include "qrcode.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace KeyloopQr {

QrCode QrCode::encode(const QByteArray &utf8Text)
{
    QrCode code;
    code.m_textBytes = utf8Text.size();
    if (utf8Text.isEmpty()) {
        code.m_error = EncodeError::EmptyText; // libqrencode answers EINVAL
        return code;
    }
    if (utf8Text.contains('\0')) {
        code.m_error = EncodeError::NulByte; // QRcode_encodeString would stop at it
        return code;
    }
    // Level M (about 15 % of the codewords recoverable) rather than L (7 %): the code is read
    // from a screen, where a terminal font's gaps between lines, half-block glyphs, a theme's
    // contrast and moiré in the phone's camera cost modules; M costs a typical
    // verification_uri_complete (50-100 bytes) one version (4 modules per side) more than L.
    // QR_MODE_8 with case sensitivity: lowercase letters stay as they are (alphanumeric mode
    // has uppercase only), and the encoder still packs runs of digits more tightly.
    errno = 0;
    const std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
        QRcode_encodeString(utf8Text.constData(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!qr) {
        code.m_error = errno == ERANGE ? EncodeError::TextTooLong : EncodeError::EncoderFailed;
        return code;
    }
    const int size = qr->width;
    if (size < 21 || size > 177 || qr->version < 1 || qr->version > 40) {
        code.m_error = EncodeError::EncoderFailed; // never seen; do not trust a broken symbol
        return code;
    }
    code.m_version = qr->version;
    code.m_size = size;
    code.m_modules.resize(qsizetype(size) * size);
    // libqrencode: one byte per module, bit 0 set for a dark module (the other bits say which
    // pattern the module belongs to).
    for (qsizetype i = 0; i < code.m_modules.size(); ++i)
        code.m_modules[i] = char(qr->data[i] & 1);
    return code;
}

QString QrCode::errorString() const
{
    switch (m_error) {
    case EncodeError::NoError:
        return {};
    case EncodeError::EmptyText:
        return QStringLiteral("there is no text to put in a QR code");
    case EncodeError::NulByte:
        return QStringLiteral("the text for the QR code contains a NUL byte");
    case EncodeError::TextTooLong:
        return QStringLiteral("the text is too long for a QR code (%1 bytes; one holds at most %2 bytes of text)")
            .arg(m_textBytes)
            .arg(MaxTextBytes);
    case EncodeError::EncoderFailed:
        break;
    }
    return QStringLiteral("the QR code could not be made (libqrencode failed)");
}

} // namespace KeyloopQr
