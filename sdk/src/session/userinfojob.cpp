// SPDX-License-Identifier: MIT
#include <keyloop/userinfojob.h>

#include <keyloop/idtokenvalidator.h>

#include "core/logging_p.h"
#include "core/strictjson_p.h"
#include "network/httpexchange_p.h"

#include <QtCore/QPointer>
#include <QtCore/QRegularExpression>

namespace Keyloop {

class UserInfoJobPrivate
{
public:
    QNetworkAccessManager *nam = nullptr;
    ProviderConfiguration provider;
    TransportOptions transport;
    QByteArray accessToken;
    IdTokenClaims idTokenClaims;
    QPointer<HttpExchange> exchange;
    QJsonObject claims;
    DpopKey dpopKey;
    bool nonceRetried = false;
};

UserInfoJob::UserInfoJob(QNetworkAccessManager *nam, const ProviderConfiguration &provider,
                         const TransportOptions &transport, const QByteArray &accessToken,
                         const IdTokenClaims &idTokenClaims, QObject *parent)
    : Job(parent), d(new UserInfoJobPrivate)
{
    d->nam = nam;
    d->provider = provider;
    d->transport = transport;
    d->accessToken = accessToken;
    d->idTokenClaims = idTokenClaims;
}

UserInfoJob::~UserInfoJob()
{
    if (d->exchange)
        d->exchange->abort();
}

QJsonObject UserInfoJob::claims() const { return d->claims; }
void UserInfoJob::setDpopKey(const DpopKey &key) { d->dpopKey = key; }

void UserInfoJob::doCancel()
{
    if (d->exchange) {
        d->exchange->disconnect(this);
        d->exchange->abort();
        d->exchange = nullptr;
    }
}

// RFC 6750 §3: the `error` attribute of a Bearer challenge, if any.
static QString bearerError(const QByteArray &challenge)
{
    static const QRegularExpression re(QStringLiteral("error\\s*=\\s*\"?([A-Za-z0-9_.-]+)\"?"));
    const QRegularExpressionMatch m = re.match(QString::fromLatin1(challenge));
    return m.hasMatch() ? m.captured(1) : QString();
}

void UserInfoJob::doStart()
{
    const auto finish = [this](const Error &e, const QJsonObject &claims = {}) {
        d->claims = e ? QJsonObject() : claims;
        if (e)
            qCDebug(lcSession) << "userinfo failed:" << e;
        emitResult(e);
    };
    const QUrl endpoint = d->provider.userInfoEndpoint();
    if (endpoint.isEmpty())
        return finish(Error(Error::Code::InvalidConfiguration,
                            QStringLiteral("the provider has no userinfo_endpoint (OIDC Discovery §3)")));
    if (d->idTokenClaims.isNull() || d->idTokenClaims.subject().isEmpty())
        return finish(Error(Error::Code::InvalidConfiguration,
                            QStringLiteral("OIDC Core §5.3.2: UserInfo needs the ID token's sub to check against")));
    if (d->accessToken.isEmpty())
        return finish(Error(Error::Code::InvalidConfiguration, QStringLiteral("no access token for UserInfo")));
    send(endpoint, finish);
}

void UserInfoJob::send(const QUrl &endpoint, const std::function<void(const Error &, const QJsonObject &)> &finish)
{
    qCDebug(lcSession) << "userinfo requested" << (d->dpopKey.isNull() ? "" : "with a DPoP proof");
    // RFC 6750 §2.1: the token goes in the Authorization header, never in the URL; a DPoP-bound
    // one with the scheme DPoP and a proof of the key (RFC 9449 §7.1).
    QList<QPair<QByteArray, QByteArray>> headers;
    if (d->dpopKey.isNull()) {
        headers.append({QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + d->accessToken});
    } else {
        headers.append({QByteArrayLiteral("Authorization"), QByteArrayLiteral("DPoP ") + d->accessToken});
        headers.append({QByteArrayLiteral("DPoP"), d->dpopKey.createProof("GET", endpoint, QDateTime::currentDateTimeUtc(),
                                                                          d->accessToken, d->dpopKey.nonce(endpoint))});
    }
    d->exchange = HttpExchange::get(d->nam, endpoint, d->transport, headers, this);
    connect(d->exchange, &HttpExchange::finished, this, [this, finish, endpoint] {
        HttpExchange *x = d->exchange;
        if (!x)
            return;
        if (x->error())
            return finish(x->error(), {});
        const int status = x->status();
        const QByteArray nonce = x->rawHeader(QByteArrayLiteral("DPoP-Nonce"));
        const bool newNonce = !d->dpopKey.isNull() && !nonce.isEmpty() && d->dpopKey.setNonce(endpoint, nonce);
        if (status == 401 && newNonce && !d->nonceRetried
            && bearerError(x->rawHeader(QByteArrayLiteral("WWW-Authenticate"))) == QLatin1String("use_dpop_nonce")) {
            d->nonceRetried = true; // RFC 9449 §9: once more, with the provider's nonce
            send(endpoint, finish);
            return;
        }
        if (status == 401 || status == 403) {
            const QString code = bearerError(x->rawHeader(QByteArrayLiteral("WWW-Authenticate")));
            if (!code.isEmpty())
                return finish(Error::oauth(code, QString(), status), {});
            return finish(Error(Error::Code::HttpError,
                                QStringLiteral("the userinfo endpoint refused the access token (HTTP %1)").arg(status))
                              .setHttpStatus(status), {});
        }
        if (status != 200)
            return finish(Error(Error::Code::HttpError,
                                QStringLiteral("the userinfo endpoint answered HTTP %1").arg(status))
                              .setHttpStatus(status), {});
        Error parseError;
        const std::optional<QJsonObject> claims = StrictJson::parseObject(x->body(), &parseError);
        if (!claims)
            return finish(Error(parseError.isNull() ? Error::Code::MalformedResponse : parseError.code(),
                                QStringLiteral("OIDC Core §5.3.2: the UserInfo response is not a JSON object (%1)")
                                    .arg(parseError.message())), {});
        // OIDC Core §5.3.2: the sub in the UserInfo response MUST be verified to exactly match
        // the sub in the ID token; otherwise the response must not be used.
        if (const Error e = checkUserInfoSubject(*claims, d->idTokenClaims))
            return finish(e, {});
        finish(Error(), *claims);
    });
}

} // namespace Keyloop
