// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/dpopkey.h>
#include <keyloop/error.h>
#include <keyloop/global.h>
#include <keyloop/idtokenclaims.h>
#include <keyloop/job.h>
#include <keyloop/providerconfiguration.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QJsonObject>
#include <QtCore/QObject>

#include <functional>
#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class UserInfoJobPrivate;

/*!
 * \brief Fetches the UserInfo claims (OpenID Connect Core §5.3) and checks them against the ID token.
 *
 * The access token must be one meant for the provider itself — issued without a resource
 * indicator (RFC 8707) — e.g. Session::freshAccessToken(QString(), …). It is sent in the
 * Authorization header (RFC 6750 §2.1), never in the URL. The returned `sub` must equal the ID
 * token's (§5.3.2): otherwise the response is discarded with UserInfoSubjectMismatch.
 *
 * Errors: a 401 with `WWW-Authenticate: Bearer error="invalid_token"` becomes an OAuth error
 * (RFC 6750 §3.1) with that code; other statuses HttpError; a body that is not a strict JSON object
 * (signed/encrypted UserInfo JWTs are not supported) MalformedResponse.
 *
 * A Job: start() queues the work, finished() comes exactly once, then the job deletes itself
 * unless setAutoDelete(false); cancel() stops it.
 */
class KEYLOOP_EXPORT UserInfoJob : public Job
{
    Q_OBJECT
public:
    /// Fetches the `userinfo_endpoint` of \a provider through \a nam (not owned; it must
    /// outlive the job) under \a transport, with \a accessToken, and checks `sub` against
    /// \a idTokenClaims. Not started.
    UserInfoJob(QNetworkAccessManager *nam, const ProviderConfiguration &provider,
                const TransportOptions &transport, const QByteArray &accessToken,
                const IdTokenClaims &idTokenClaims, QObject *parent = nullptr);
    ~UserInfoJob() override;

    /// The UserInfo claims; empty unless finished without error.
    QJsonObject claims() const;

    /*!
     * For an access token bound to \a key (DPoP, RFC 9449; Session::dpopKey()): the token goes as
     * `Authorization: DPoP` with a proof of the key (§7.1), and a 401 `use_dpop_nonce` is retried
     * once with the provider's nonce (§9). Call before start(). Null (the default): Bearer.
     */
    void setDpopKey(const DpopKey &key);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void send(const QUrl &endpoint, const std::function<void(const Error &, const QJsonObject &)> &finish);
    std::unique_ptr<UserInfoJobPrivate> d;
};

} // namespace Keyloop
