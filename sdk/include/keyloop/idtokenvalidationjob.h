// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/idtokenvalidator.h>
#include <keyloop/job.h>

#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <memory>

namespace Keyloop {

class JwksCache;
class IdTokenValidationJobPrivate;

/*!
 * \brief Validates an ID token against the issuer's JWKS, following key rotation.
 *
 * Gets the keys from a JwksCache (fetching `jwks_uri` when needed), validates with
 * IdTokenValidator::validate(), and when no key matches (JoseKeyNotFound, e.g. the provider
 * rotated its keys) asks the cache for one rate-limited refetch and validates once more
 * (OIDC Core §10.1.1).
 *
 * A Job: start() queues the work, finished() comes exactly once, then the job deletes itself
 * unless setAutoDelete(false); cancel() stops it.
 *
 * \code
 * auto *job = new Keyloop::IdTokenValidationJob(validator, cache, jwksUri, idToken, expect);
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (job->error()) qWarning() << job->error(); else use(job->claims());
 * });
 * job->start();
 * \endcode
 */
class KEYLOOP_EXPORT IdTokenValidationJob : public Job
{
    Q_OBJECT
public:
    /// Validates \a idToken with \a validator against \a expectations, with the keys of
    /// \a jwksUri from \a cache (not owned; it must outlive the job). Not started.
    IdTokenValidationJob(const IdTokenValidator &validator, JwksCache *cache, const QUrl &jwksUri,
                         const QByteArray &idToken, const IdTokenExpectations &expectations,
                         QObject *parent = nullptr);
    ~IdTokenValidationJob() override;

    /// The validated claims; null unless finished without error.
    IdTokenClaims claims() const;
    /// True if the JWKS was refetched because of an unknown key.
    bool keysWereRefetched() const;

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class IdTokenValidationJobPrivate;
    std::unique_ptr<IdTokenValidationJobPrivate> d;
};

} // namespace Keyloop
