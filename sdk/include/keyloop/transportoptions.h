// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QList>
#include <QtCore/QSharedDataPointer>
#include <QtNetwork/QSslCertificate>

#include <chrono>

namespace Keyloop {

class TransportOptionsPrivate;

/*!
 * \brief How the SDK talks to the provider and APIs: TLS trust, timeouts, the dev opt-in.
 *
 * Secure by default: https only, TLS 1.2 or newer, the system's CA store, certificate
 * errors are never ignored, HTTP redirects are never followed, every request has a
 * timeout and a response size limit. Proxies come from the QNetworkAccessManager
 * the app injects (or the system's settings); loopback listeners never use a proxy.
 */
class KEYLOOP_EXPORT TransportOptions
{
public:
    /// The secure defaults described above.
    TransportOptions();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    TransportOptions(const TransportOptions &other);
    TransportOptions(TransportOptions &&other) noexcept;
    TransportOptions &operator=(const TransportOptions &other);
    TransportOptions &operator=(TransportOptions &&other) noexcept;
    ///@}
    ~TransportOptions();

    /// Development only: accept plain http for endpoints on loopback addresses
    /// (127.0.0.0/8, ::1, "localhost"). Never allows http anywhere else. Default false.
    bool allowsInsecureLoopbackForDevelopment() const;
    /// Sets allowsInsecureLoopbackForDevelopment().
    void setAllowInsecureLoopbackForDevelopment(bool allow);

    /// Extra trusted CA certificates (e.g. an enterprise provider's private CA), added to
    /// the system's CA store.
    QList<QSslCertificate> extraCaCertificates() const;
    /// Sets extraCaCertificates().
    void setExtraCaCertificates(const QList<QSslCertificate> &certificates);

    /// Timeout of one HTTP request (connect + transfer). Default 30 s.
    std::chrono::milliseconds requestTimeout() const;
    /// Sets requestTimeout().
    void setRequestTimeout(std::chrono::milliseconds timeout);

    /// Largest accepted response body. Default 1 MiB.
    qint64 maxResponseSize() const;
    /// Sets maxResponseSize().
    void setMaxResponseSize(qint64 bytes);

private:
    QSharedDataPointer<TransportOptionsPrivate> d;
};

} // namespace Keyloop
