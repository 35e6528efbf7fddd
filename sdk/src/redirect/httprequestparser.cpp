// SPDX-License-Identifier: MIT
#include "redirect/httprequestparser_p.h"

#include <cstring>
#include <utility>

namespace Keyloop {

namespace {

// RFC 9110 §5.6.2: tchar
bool isTokenChar(char c)
{
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (const char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), b.data(), size_t(a.size())) == 0;
}


} // namespace

HttpRequestParser::HttpRequestParser() = default;

HttpRequestParser::HttpRequestParser(const Limits &limits) : m_limits(limits) {}

HttpRequestParser::Status HttpRequestParser::fail(ErrorReason reason)
{
    m_status = Status::Error;
    m_error = reason;
    m_line.clear();
    return m_status;
}

HttpRequestParser::Status HttpRequestParser::feed(QByteArrayView data)
{
    qsizetype pos = 0;
    while (m_status == Status::NeedMore && pos < data.size()) {
        const char *start = data.data() + pos;
        const auto remaining = size_t(data.size() - pos);
        const void *nl = std::memchr(start, '\n', remaining);
        const qsizetype chunkSize = nl ? qsizetype(static_cast<const char *>(nl) - start) + 1 : qsizetype(remaining);
        const QByteArrayView chunk(start, chunkSize);

        if (std::memchr(chunk.data(), '\0', size_t(chunk.size())))
            return fail(ErrorReason::NulByte);
        m_headSize += chunkSize;
        if (!m_requestLineSeen && m_line.size() + chunkSize > m_limits.maxRequestLine)
            return fail(ErrorReason::RequestLineTooLong);
        if (m_headSize > m_limits.maxHeadSize)
            return fail(ErrorReason::HeadTooLarge);
        m_line.append(chunk);
        pos += chunkSize;
        m_consumed += chunkSize;
        if (!nl)
            break;
        const QByteArray line = std::exchange(m_line, QByteArray());
        processLine(line);
    }
    return m_status;
}

HttpRequestParser::Status HttpRequestParser::processLine(QByteArrayView line)
{
    // RFC 9112 §2.2: we accept CRLF only; a bare LF or a CR elsewhere is an error.
    if (line.size() < 2 || line[line.size() - 2] != '\r')
        return fail(ErrorReason::InvalidLineEnding);
    const QByteArrayView content = line.first(line.size() - 2);
    if (std::memchr(content.data(), '\r', size_t(content.size())))
        return fail(ErrorReason::InvalidLineEnding);

    if (!m_requestLineSeen) {
        m_requestLineSeen = true;
        return parseRequestLine(content);
    }
    if (content.isEmpty())
        return finishHead();
    return parseHeaderLine(content);
}

HttpRequestParser::Status HttpRequestParser::parseRequestLine(QByteArrayView line)
{
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    const qsizetype sp1 = line.indexOf(' ');
    if (sp1 < 0)
        return fail(ErrorReason::MalformedRequestLine);
    const QByteArrayView method = line.first(sp1);
    if (!isToken(method))
        return fail(ErrorReason::InvalidMethod);
    const QByteArrayView rest = line.sliced(sp1 + 1);
    const qsizetype sp2 = rest.indexOf(' ');
    if (sp2 < 0) {
        // "GET /path" is an HTTP/0.9 simple request (RFC 1945 §4.1): not supported.
        return fail(ErrorReason::UnsupportedVersion);
    }
    const QByteArrayView target = rest.first(sp2);
    const QByteArrayView version = rest.sliced(sp2 + 1);
    if (target.isEmpty() || version.indexOf(' ') >= 0)
        return fail(ErrorReason::MalformedRequestLine);

    // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
    if (version.size() != 8 || !version.startsWith("HTTP/") || version[6] != '.'
        || version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return fail(ErrorReason::MalformedRequestLine);
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return fail(ErrorReason::UnsupportedVersion);

    // RFC 9112 §3.2.1: origin-form only; the redirect URI is never requested any other way.
    if (target[0] != '/')
        return fail(ErrorReason::UnsupportedTargetForm);
    for (const char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '#')
            return fail(ErrorReason::InvalidTarget);
    }

    m_method = method.toByteArray();
    m_minorVersion = version[7] - '0';
    const qsizetype q = target.indexOf('?');
    if (q >= 0) {
        m_path = target.first(q).toByteArray();
        m_query = target.sliced(q + 1).toByteArray();
        m_hasQuery = true;
    } else {
        m_path = target.toByteArray();
    }
    return m_status;
}

HttpRequestParser::Status HttpRequestParser::parseHeaderLine(QByteArrayView line)
{
    // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected with 400.
    if (isOws(line[0]))
        return fail(ErrorReason::ObsoleteLineFolding);
    if (m_headers.size() >= m_limits.maxHeaders)
        return fail(ErrorReason::TooManyHeaders);

    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return fail(ErrorReason::MalformedHeader);
    const QByteArrayView name = line.first(colon);
    // RFC 9112 §5.1: no whitespace between field name and colon.
    if (!isToken(name))
        return fail(ErrorReason::MalformedHeader);
    QByteArrayView value = line.sliced(colon + 1);
    while (!value.isEmpty() && isOws(value.front()))
        value = value.sliced(1);
    while (!value.isEmpty() && isOws(value.back()))
        value.chop(1);
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return fail(ErrorReason::MalformedHeader);
    }

    if (equalsIgnoringCase(name, "host")) {
        // RFC 9112 §3.2: more than one Host field line → 400.
        if (++m_hostCount > 1)
            return fail(ErrorReason::DuplicateHost);
    } else if (equalsIgnoringCase(name, "content-length")) {
        // RFC 9112 §6.3 rule 5: an invalid or repeated Content-Length is unrecoverable.
        if (m_hasContentLength || value.isEmpty() || value.size() > 18)
            return fail(ErrorReason::InvalidContentLength);
        for (const char c : value) {
            if (c < '0' || c > '9')
                return fail(ErrorReason::InvalidContentLength);
        }
        m_hasContentLength = true;
        for (const char c : value) {
            if (c != '0')
                m_hasBody = true;
        }
    } else if (equalsIgnoringCase(name, "transfer-encoding")) {
        m_hasBody = true;
    }
    m_headers.append(qMakePair(name.toByteArray(), value.toByteArray()));
    return m_status;
}

HttpRequestParser::Status HttpRequestParser::finishHead()
{
    // RFC 9112 §3.2: an HTTP/1.1 request without Host → 400.
    if (m_minorVersion == 1 && m_hostCount == 0)
        return fail(ErrorReason::MissingHost);
    // The redirect is a GET (RFC 6749 §4.1.2); a GET with a body is not a browser's redirect.
    if (m_method == "GET" && m_hasBody)
        return fail(ErrorReason::BodyNotAllowed);
    m_status = Status::Complete;
    return m_status;
}

QByteArray HttpRequestParser::header(QByteArrayView name) const
{
    for (const auto &h : m_headers) {
        if (equalsIgnoringCase(h.first, name))
            return h.second;
    }
    return QByteArray();
}

const char *HttpRequestParser::describe(ErrorReason reason)
{
    switch (reason) {
    case ErrorReason::None: return "no error";
    case ErrorReason::RequestLineTooLong: return "request line too long";
    case ErrorReason::HeadTooLarge: return "request head too large";
    case ErrorReason::TooManyHeaders: return "too many header fields";
    case ErrorReason::NulByte: return "NUL byte in request";
    case ErrorReason::InvalidLineEnding: return "line not terminated by CRLF";
    case ErrorReason::MalformedRequestLine: return "malformed request line";
    case ErrorReason::InvalidMethod: return "method is not a token";
    case ErrorReason::InvalidTarget: return "invalid byte in request target";
    case ErrorReason::UnsupportedTargetForm: return "request target is not in origin-form";
    case ErrorReason::UnsupportedVersion: return "unsupported HTTP version";
    case ErrorReason::MalformedHeader: return "malformed header field";
    case ErrorReason::ObsoleteLineFolding: return "obsolete line folding";
    case ErrorReason::MissingHost: return "missing Host header";
    case ErrorReason::DuplicateHost: return "duplicate Host header";
    case ErrorReason::InvalidContentLength: return "invalid Content-Length";
    case ErrorReason::BodyNotAllowed: return "GET request with a body";
    }
    return "unknown error";
}

int HttpRequestParser::httpStatusFor(ErrorReason reason)
{
    switch (reason) {
    case ErrorReason::RequestLineTooLong: return 414; // RFC 9112 §3
    case ErrorReason::HeadTooLarge:
    case ErrorReason::TooManyHeaders: return 431;     // RFC 6585 §5
    case ErrorReason::UnsupportedVersion: return 505; // RFC 9110 §15.6.6
    default: return 400;
    }
}


} // namespace Keyloop
