// SPDX-License-Identifier: MIT
#include <keyloop/transportoptions.h>

namespace Keyloop {

class TransportOptionsPrivate : public QSharedData
{
public:
    bool allowInsecureLoopback = false;
    QList<QSslCertificate> extraCas;
    std::chrono::milliseconds timeout{30000};
    qint64 maxResponseSize = 1024 * 1024;
};

TransportOptions::TransportOptions() : d(new TransportOptionsPrivate) {}
TransportOptions::TransportOptions(const TransportOptions &other) = default;
TransportOptions &TransportOptions::operator=(const TransportOptions &other) = default;
TransportOptions::TransportOptions(TransportOptions &&other) noexcept = default;
TransportOptions &TransportOptions::operator=(TransportOptions &&other) noexcept = default;
TransportOptions::~TransportOptions() = default;

bool TransportOptions::allowsInsecureLoopbackForDevelopment() const { return d->allowInsecureLoopback; }
void TransportOptions::setAllowInsecureLoopbackForDevelopment(bool allow) { d->allowInsecureLoopback = allow; }
QList<QSslCertificate> TransportOptions::extraCaCertificates() const { return d->extraCas; }
void TransportOptions::setExtraCaCertificates(const QList<QSslCertificate> &certificates) { d->extraCas = certificates; }
std::chrono::milliseconds TransportOptions::requestTimeout() const { return d->timeout; }
void TransportOptions::setRequestTimeout(std::chrono::milliseconds timeout) { d->timeout = timeout; }
qint64 TransportOptions::maxResponseSize() const { return d->maxResponseSize; }
void TransportOptions::setMaxResponseSize(qint64 bytes) { d->maxResponseSize = bytes; }

} // namespace Keyloop
