// SPDX-License-Identifier: MIT
#include <keyloop/pushedauthorizationresponse.h>

#include "core/logging_p.h"
#include "core/strictjson_p.h"
#include "token/oautherrorbody_p.h"

#include <QtCore/QDebug>
#include <QtCore/QUrl>

#include <cmath>

namespace Keyloop {

class PushedAuthorizationResponsePrivate : public QSharedData
{
public:
    QByteArray requestUri;
    std::chrono::seconds expiresIn{0};
};

namespace {

// Like TokenResponse's bound on expires_in: beyond about 68 years it is malformed, not a number
// to do time arithmetic with.
constexpr double kMaxExpiresIn = 2147483647.0;

Error malformed(const char *member, const char *expected)
{
    return Error(Error::Code::MalformedResponse,
                 QStringLiteral("pushed authorization response member %1 must be %2 (RFC 9126 §2.2)")
                     .arg(QLatin1String(member), QLatin1String(expected)));
}

Error missing(const char *member)
{
    return Error(Error::Code::MissingParameter,
                 QStringLiteral("the pushed authorization response has no %1 (RFC 9126 §2.2)").arg(QLatin1String(member)));
}

} // namespace

PushedAuthorizationResponse::PushedAuthorizationResponse() : d(new PushedAuthorizationResponsePrivate) {}
PushedAuthorizationResponse::PushedAuthorizationResponse(const PushedAuthorizationResponse &other) = default;
PushedAuthorizationResponse::PushedAuthorizationResponse(PushedAuthorizationResponse &&other) noexcept = default;
PushedAuthorizationResponse &PushedAuthorizationResponse::operator=(const PushedAuthorizationResponse &other) = default;
PushedAuthorizationResponse &PushedAuthorizationResponse::operator=(PushedAuthorizationResponse &&other) noexcept = default;
PushedAuthorizationResponse::~PushedAuthorizationResponse() = default;

PushedAuthorizationResponse PushedAuthorizationResponse::parse(int httpStatus, QByteArrayView body, Error *error)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    if (httpStatus != 201) {
        // RFC 9126 §2.3: the error response of RFC 6749 §5.2 (400; 401 for invalid_client).
        if (httpStatus >= 400 && httpStatus < 500) {
            if (const std::optional<Error> oauth = oauthErrorFromBody(body, httpStatus)) {
                const QString code = oauth->oauthError();
                if (code == QLatin1String("invalid_client") || code == QLatin1String("unauthorized_client")) {
                    // RFC 6749 §5.2: the client was refused, not the request; only its
                    // configuration (id, secret, allowed grants) can fix it.
                    err = oauth->reclassified(Error::Code::ClientAuthenticationFailed,
                                              QStringLiteral("the pushed authorization request endpoint refused this "
                                                             "client (OAuth error \"%1\"): check the client id and the "
                                                             "client secret").arg(code));
                } else {
                    err = oauth->reclassified(Error::Code::OAuthError,
                                              QStringLiteral("the pushed authorization request was refused (RFC 9126 "
                                                             "§2.3): ") + oauth->message())
                              .setTransient(oauth->isTransient());
                }
                qCDebug(lcAuthorization) << "pushed authorization request refused with an OAuth error, HTTP" << httpStatus;
                return {};
            }
        }
        // RFC 9126 §2.2: success is 201 Created and nothing else; §2.3 names 405, 413 and 429
        // without an error object. The body is never copied into the message.
        err = Error(Error::Code::HttpError,
                    QStringLiteral("the pushed authorization request endpoint answered HTTP %1, not 201 Created "
                                   "with a request_uri (RFC 9126 §2.2)").arg(httpStatus))
                  .setHttpStatus(httpStatus); // a 5xx is transient
        if (httpStatus == 429) // RFC 6585 §4: worth trying again later
            err.setTransient(true);
        qCDebug(lcAuthorization) << "pushed authorization request endpoint answered HTTP" << httpStatus;
        return {};
    }

    const std::optional<QJsonObject> parsed = StrictJson::parseObject(body, &err);
    if (!parsed) {
        err = Error(err.code(), QStringLiteral("pushed authorization response: ") + err.message());
        return {};
    }
    const QJsonObject &object = *parsed;
    const auto fail = [&err](const Error &e) {
        err = e;
        return PushedAuthorizationResponse();
    };

    // RFC 9126 §2.2: request_uri REQUIRED, "The request URI corresponding to the authorization
    // request posted". A URI: an absolute one, so that nothing relative to some base is sent on.
    const QJsonValue requestUri = object.value(QLatin1String("request_uri"));
    if (requestUri.isUndefined() || requestUri.isNull())
        return fail(missing("request_uri"));
    if (!requestUri.isString() || requestUri.toString().isEmpty())
        return fail(malformed("request_uri", "a non-empty string"));
    const QByteArray uriBytes = requestUri.toString().toUtf8();
    const QUrl uri = QUrl::fromEncoded(uriBytes, QUrl::StrictMode);
    if (!uri.isValid() || uri.isRelative() || uriBytes.contains(' '))
        return fail(malformed("request_uri", "an absolute URI"));

    // RFC 9126 §2.2: expires_in REQUIRED, "A JSON number that represents the lifetime of the
    // request URI in seconds as a positive integer". A string "60" is refused, as zero is.
    const QJsonValue expiresIn = object.value(QLatin1String("expires_in"));
    if (expiresIn.isUndefined() || expiresIn.isNull())
        return fail(missing("expires_in"));
    const double seconds = expiresIn.isDouble() ? expiresIn.toDouble() : -1;
    if (!expiresIn.isDouble() || !std::isfinite(seconds) || seconds < 1 || std::floor(seconds) != seconds
        || seconds > kMaxExpiresIn)
        return fail(malformed("expires_in", "a positive integer number"));

    PushedAuthorizationResponse response;
    response.d->requestUri = uriBytes;
    response.d->expiresIn = std::chrono::seconds(qint64(seconds));
    qCDebug(lcAuthorization) << "pushed authorization request accepted; request_uri valid for" << qint64(seconds) << "s";
    return response;
}

bool PushedAuthorizationResponse::isNull() const { return d->requestUri.isEmpty(); }
QByteArray PushedAuthorizationResponse::requestUri() const { return d->requestUri; }
std::chrono::seconds PushedAuthorizationResponse::expiresIn() const { return d->expiresIn; }

QDebug operator<<(QDebug debug, const PushedAuthorizationResponse &response)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::PushedAuthorizationResponse(requestUri="
                    << (response.isNull() ? "<none>" : "<redacted>")
                    << ", expiresIn=" << qint64(response.expiresIn().count()) << "s)";
    return debug;
}

} // namespace Keyloop
