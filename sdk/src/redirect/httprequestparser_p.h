// SPDX-License-Identifier: MIT
// A tiny, strict, incremental HTTP/1.1 request-head parser for the loopback redirect
// receiver (RFC 8252 §7.3). Pure code: no sockets, no allocation beyond its limits, fuzzable
// (tests/fuzz/fuzz_http_request.cpp). Private to the SDK.
#pragma once

#include "core/formencoding_p.h" // splitFormQuery(), used with the parsed request

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QPair>

#include <optional>

namespace Keyloop {

/*!
 * Parses exactly one request head (request line + header fields, RFC 9112 §2–§5), fed in
 * arbitrary chunks. It is deliberately stricter than RFC 9112 allows a server to be, because
 * the only legitimate client is a browser following a redirect, and every leniency is attack
 * surface on a port any local process can reach:
 *
 * - Line endings must be CRLF. A bare LF (which RFC 9112 §2.2 lets a recipient accept) and a
 *   bare CR are errors. Browsers always send CRLF.
 * - A NUL byte anywhere is an error.
 * - Request line: `method SP request-target SP HTTP-version`, single spaces (RFC 9112 §3).
 *   The method must be a token (RFC 9110 §5.6.2). Only origin-form targets (RFC 9112 §3.2.1)
 *   are accepted: absolute-form, authority-form and asterisk-form are errors, as is a
 *   fragment or a byte outside VCHAR. Only HTTP/1.0 and HTTP/1.1; a request line without a
 *   version (HTTP/0.9) is an error.
 * - Header fields: `token ":" OWS value OWS`; whitespace before the colon is an error
 *   (RFC 9112 §5.1), obs-fold is an error (RFC 9112 §5.2), control bytes other than HTAB in
 *   a value are errors.
 * - Host: exactly one for HTTP/1.1 (RFC 9112 §3.2: missing or duplicate → 400); at most one
 *   for HTTP/1.0.
 * - GET must not have a body: any Transfer-Encoding, or a Content-Length other than 0, is an
 *   error. Other methods are returned as Complete (the receiver answers 405 and closes the
 *   connection without reading a body). A malformed or repeated Content-Length is an error.
 * - Limits: the request line (with its CRLF) ≤ 8 KiB, ≤ 50 header fields, the whole head
 *   (with the final empty line) ≤ 16 KiB. A limit is enforced as soon as it is exceeded, not
 *   when the line ends.
 *
 * Bytes after the end of the head are not consumed (see consumed()). Once the result is
 * Complete or Error, further feed() calls do nothing and return the same result.
 */
class HttpRequestParser
{
public:
    enum class Status { NeedMore, Complete, Error };

    enum class ErrorReason {
        None,
        RequestLineTooLong,    ///< 414
        HeadTooLarge,          ///< 431 (RFC 6585 §5)
        TooManyHeaders,        ///< 431
        NulByte,
        InvalidLineEnding,     ///< bare LF or bare CR
        MalformedRequestLine,
        InvalidMethod,
        InvalidTarget,         ///< a byte outside VCHAR, or a fragment
        UnsupportedTargetForm, ///< absolute-, authority- or asterisk-form
        UnsupportedVersion,    ///< 505; also HTTP/0.9
        MalformedHeader,
        ObsoleteLineFolding,
        MissingHost,
        DuplicateHost,
        InvalidContentLength,
        BodyNotAllowed,
    };

    struct Limits
    {
        int maxRequestLine = 8 * 1024;
        int maxHeaders = 50;
        int maxHeadSize = 16 * 1024;
    };

    using Headers = QList<QPair<QByteArray, QByteArray>>;

    HttpRequestParser();
    explicit HttpRequestParser(const Limits &limits);

    /// Feeds the next bytes of the connection.
    Status feed(QByteArrayView data);

    Status status() const { return m_status; }
    ErrorReason errorReason() const { return m_error; }
    /// A short English description of errorReason(), safe to log (contains no request data).
    static const char *describe(ErrorReason reason);
    /// The HTTP status to answer an error with: 400, 414, 431 or 505.
    static int httpStatusFor(ErrorReason reason);

    /// How many bytes of all data fed so far belong to the head (valid when Complete).
    qint64 consumed() const { return m_consumed; }

    // Valid when status() is Complete.
    QByteArray method() const { return m_method; }
    /// The path part of the origin-form target, raw (not percent-decoded).
    QByteArray path() const { return m_path; }
    /// The bytes after the first '?' of the target, raw (not decoded); empty if none.
    QByteArray rawQuery() const { return m_query; }
    bool hasQuery() const { return m_hasQuery; }
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    int minorVersion() const { return m_minorVersion; }
    /// Header fields in order, names as sent, values with OWS trimmed.
    Headers headers() const { return m_headers; }
    /// The first value of the header named \a name (case-insensitive), or a null QByteArray.
    QByteArray header(QByteArrayView name) const;

private:
    Status fail(ErrorReason reason);
    Status processLine(QByteArrayView line);
    Status parseRequestLine(QByteArrayView line);
    Status parseHeaderLine(QByteArrayView line);
    Status finishHead();

    Limits m_limits;
    Status m_status = Status::NeedMore;
    ErrorReason m_error = ErrorReason::None;
    QByteArray m_line;
    qint64 m_headSize = 0;
    qint64 m_consumed = 0;
    bool m_requestLineSeen = false;
    QByteArray m_method;
    QByteArray m_path;
    QByteArray m_query;
    bool m_hasQuery = false;
    int m_minorVersion = 1;
    Headers m_headers;
    int m_hostCount = 0;
    bool m_hasContentLength = false;
    bool m_hasBody = false;
};


} // namespace Keyloop
