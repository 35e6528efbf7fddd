// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/job.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class DiscoveryJobPrivate;

/*!
 * \brief Fetches and validates a provider's metadata.
 *
 * Tries, in order:
 * 1. `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4: appended
 *    to the issuer's path);
 * 2. `/.well-known/oauth-authorization-server{issuer path}` (RFC 8414 §3.1: inserted before
 *    the path), when the first answer is an HTTP error or not a usable document.
 * The issuer in the document must equal \a issuer exactly (IssuerMismatch otherwise; that
 * error is final, the fallback is not tried). Network failures (TLS, timeout, refused) are
 * final too. Redirects are never followed.
 *
 * The document's freshness (RFC 9111: `Cache-Control: max-age`, else `Expires`, else 1 hour;
 * bounded to [5 min, 24 h]) becomes the configuration's ProviderConfiguration::expiresAt(), so
 * that a copy remembered with a session (Session) is used without a fetch while it is fresh.
 *
 * A Job: start() queues the work, finished() comes exactly once, then the job deletes itself
 * unless setAutoDelete(false); cancel() stops it.
 * \code
 * auto *job = new Keyloop::DiscoveryJob(nam, issuer, transport);
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (job->error()) { ... } else { use(job->configuration()); }
 * });
 * job->start();
 * \endcode
 */
class KEYLOOP_EXPORT DiscoveryJob : public Job
{
    Q_OBJECT
public:
    /// Discovery for \a issuer through \a nam (not owned; it must outlive the job), under the
    /// transport rules of \a options. Not started.
    DiscoveryJob(QNetworkAccessManager *nam, const QUrl &issuer, const TransportOptions &options,
                 QObject *parent = nullptr);
    ~DiscoveryJob() override;

    /// The issuer given to the constructor.
    QUrl issuer() const;
    /// The validated configuration; null until finished without error. Its expiresAt() says
    /// until when the document is fresh.
    ProviderConfiguration configuration() const;

    /// The clock for expiresAt() (not owned). Default Clock::system().
    const Clock *clock() const;
    /// Sets clock(); nullptr: Clock::system(). Before start().
    void setClock(const Clock *clock);
protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class DiscoveryJobPrivate;
    std::unique_ptr<DiscoveryJobPrivate> d;
};

} // namespace Keyloop
