// SPDX-License-Identifier: MIT
// A QR code's module matrix, encoded with libqrencode. Internal to the keyloop CLI and the demo
// app (the device flow's verification_uri_complete, RFC 8628 §3.3.1): not part of the SDK, not
// installed. Renderings: qrterminal.h (text, no Qt Gui) and qrimage.h (QImage, Qt Gui).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace KeyloopQr {

/*!
 * The light margin every QR code needs around it, in modules, on each of the four sides
 * (ISO/IEC 18004 §6.3.8, "quiet zone"). Both renderings include it.
 */
inline constexpr int QuietZoneModules = 4;

/*!
 * The most bytes of arbitrary text (8-bit mode) one QR code holds at the error correction level
 * used here, M: version 40, 2,331 bytes. Text with long runs of digits may fit a little more,
 * since the encoder switches those to numeric mode.
 */
inline constexpr qsizetype MaxTextBytes = 2331;

/*! Why QrCode::encode() gave a null code. */
enum class EncodeError {
    NoError, //!< Encoded.
    EmptyText, //!< There was nothing to encode.
    NulByte, //!< The text holds a NUL byte, which libqrencode's string API cannot take.
    TextTooLong, //!< The text does not fit in the largest QR code (version 40) at level M.
    EncoderFailed, //!< libqrencode failed otherwise (out of memory).
};

/*!
 * An immutable QR code symbol: size() × size() modules, dark or light, without the quiet zone.
 * Copies are cheap (implicitly shared).
 *
 * \code
 * const KeyloopQr::QrCode code = KeyloopQr::QrCode::encode(verificationUriComplete.toEncoded());
 * if (code.isNull())
 *     std::fprintf(stderr, "(no QR code: %s)\n", qPrintable(code.errorString()));
 * else
 *     std::fputs(qPrintable(KeyloopQr::toTerminalText(code, KeyloopQr::TerminalColors::Ansi)), stderr);
 * \endcode
 */
class QrCode
{
public:
    /*! A null code (isNull()), with no error. */
    QrCode() = default;

    /*!
     * Encodes \a utf8Text (the bytes as they are, normally UTF-8; a URI as QUrl::toEncoded()
     * gives it) into the smallest QR code that holds it, at error correction level M, in 8-bit
     * mode, case-sensitive. No ECI header is written: scanners read 8-bit data that is valid UTF-8
     * as UTF-8.
     *
     * On failure the code isNull() and error() says why; errorString() is a sentence for the user
     * that never quotes the text (a verification URI carries the user code).
     */
    static QrCode encode(const QByteArray &utf8Text);

    /*! True when there is no symbol: default-constructed or encode() failed. */
    bool isNull() const { return m_size == 0; }
    /*! Why encode() failed; EncodeError::NoError for a valid or default-constructed code. */
    EncodeError error() const { return m_error; }
    /*! error() in words for the user (English); empty when there is no error. */
    QString errorString() const;

    /*! The QR code version, 1 to 40 (0 when null). */
    int version() const { return m_version; }
    /*! Modules per side without the quiet zone: 17 + 4 × version() (0 when null). */
    int size() const { return m_size; }
    /*!
     * True when module (\a x, \a y) is dark; (0, 0) is the top-left module of the symbol.
     * Outside the symbol (the quiet zone and beyond) every module is light.
     */
    bool isDark(int x, int y) const
    {
        return x >= 0 && y >= 0 && x < m_size && y < m_size && m_modules.at(qsizetype(y) * m_size + x) != 0;
    }

private:
    int m_version = 0;
    int m_size = 0;
    EncodeError m_error = EncodeError::NoError;
    qsizetype m_textBytes = 0; // for errorString() only: how long, never what
    QByteArray m_modules; // size × size bytes, row by row: 1 dark, 0 light
};

} // namespace KeyloopQr
