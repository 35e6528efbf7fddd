// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QSharedDataPointer>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Keyloop {

class HttpBodyPrivate;

/*!
 * \brief The body of a request sent through HttpClient: bytes that can be sent again.
 *
 * HttpClient may send a request more than once — after a 401 with a fresh token, after a
 * Retry-After, along a 307/308 redirect — and always sends the same bytes. So a body is either a
 * QByteArray (implicitly converted: `http->post(request, json)`), or a QIODevice read to its end
 * and buffered when the request is made (fromDevice()), up to HttpClient::maxRequestBodySize()
 * (larger: the reply fails with Error::Code::RequestBodyTooLarge and nothing is sent).
 *
 * The Content-Type comes from the QNetworkRequest; a non-empty body without one is sent as
 * `application/octet-stream`.
 */
class KEYLOOP_EXPORT HttpBody
{
public:
    /// No body.
    HttpBody();
    /// \a data, sent as it is.
    HttpBody(const QByteArray &data); // NOLINT(google-explicit-constructor): implicit on purpose
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    HttpBody(const HttpBody &other);
    HttpBody(HttpBody &&other) noexcept;
    HttpBody &operator=(const HttpBody &other);
    HttpBody &operator=(HttpBody &&other) noexcept;
    ///@}
    ~HttpBody();

    /*!
     * The rest of \a device (from its current position to its end), read when the request is
     * made — synchronously, so it must be open for reading and hold all its data then (a QFile,
     * a QBuffer; read a socket or a process yourself first). Not owned; it may be closed or
     * deleted once the request function has returned.
     */
    static HttpBody fromDevice(QIODevice *device);

    /// True when there is no body (neither bytes nor a device).
    bool isNull() const;
    /// The device given to fromDevice(), or nullptr.
    QIODevice *device() const;
    /// The bytes given to the constructor (empty for a device).
    QByteArray data() const;

private:
    friend class HttpClientPrivate;
    QSharedDataPointer<HttpBodyPrivate> d;
};

} // namespace Keyloop
