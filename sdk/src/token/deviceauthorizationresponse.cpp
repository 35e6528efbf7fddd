// SPDX-License-Identifier: MIT
#include "token/deviceauthorizationresponse_p.h"

#include "core/strictjson_p.h"
#include "network/httpexchange_p.h"
#include "token/oautherrorbody_p.h"

#include <QtCore/QJsonObject>

#include <algorithm>
#include <cmath>

namespace Keyloop {

namespace {

// Bounds that keep a hostile or broken endpoint from making us show megabytes, wait for days
// or poll in a tight loop. Real providers use codes of a few dozen characters, lifetimes of
// 5–30 minutes and intervals of 5 s.
constexpr qsizetype kMaxCodeLength = 4096;
constexpr qsizetype kMaxUserCodeLength = 64;
constexpr double kMaxExpiresIn = 24 * 3600;
constexpr double kMaxInterval = 300;

Error malformed(const char *member, const char *expected)
{
    return Error(Error::Code::MalformedResponse,
                 QStringLiteral("device authorization response member %1 must be %2 (RFC 8628 §3.2)")
                     .arg(QLatin1String(member), QLatin1String(expected)));
}

Error missing(const char *member)
{
    return Error(Error::Code::MissingParameter,
                 QStringLiteral("the device authorization response has no %1 (RFC 8628 §3.2)").arg(QLatin1String(member)));
}

bool readSeconds(const QJsonObject &object, const char *name, double min, double max, double *out, Error *error)
{
    const QJsonValue value = object.value(QLatin1String(name));
    const double n = value.toDouble(-1);
    if (!value.isDouble() || !std::isfinite(n) || n < min || n != std::floor(n) || n > max) {
        *error = malformed(name, "an integer number of seconds in range");
        return false;
    }
    *out = n;
    return true;
}

bool readUri(const QJsonObject &object, const char *name, const TransportOptions &options, QUrl *out, Error *error)
{
    const QJsonValue value = object.value(QLatin1String(name));
    if (!value.isString()) {
        *error = malformed(name, "a string");
        return false;
    }
    const QUrl url(value.toString(), QUrl::StrictMode);
    // Shown to the user and opened in a browser: an absolute https URL (loopback http only with
    // the transport's development opt-in), never a javascript: or file: URL.
    if (!url.isValid() || url.isRelative() || url.host().isEmpty()) {
        *error = malformed(name, "an absolute URL");
        return false;
    }
    if (const Error e = checkEndpointUrl(url, options, QString::fromLatin1(name))) {
        *error = e;
        return false;
    }
    *out = url;
    return true;
}

} // namespace

DeviceAuthorizationResponse DeviceAuthorizationResponse::parse(int httpStatus, QByteArrayView body,
                                                               const QDateTime &receivedAt,
                                                               const TransportOptions &options, Error *error)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();
    if (httpStatus != 200) {
        if (httpStatus >= 400 && httpStatus < 500) {
            if (const std::optional<Error> oauth = oauthErrorFromBody(body, httpStatus)) {
                err = *oauth;
                return {};
            }
        }
        err = Error(Error::Code::HttpError,
                    QStringLiteral("the device authorization endpoint answered HTTP %1 without an OAuth error "
                                   "(RFC 8628 §3.2)").arg(httpStatus))
                  .setHttpStatus(httpStatus);
        return {};
    }
    const std::optional<QJsonObject> parsed = StrictJson::parseObject(body, &err);
    if (!parsed) {
        err = Error(err.code(), QStringLiteral("device authorization response: ") + err.message());
        return {};
    }
    const QJsonObject &object = *parsed;
    DeviceAuthorizationResponse r;

    const QJsonValue deviceCode = object.value(QLatin1String("device_code"));
    if (deviceCode.isUndefined())
        return err = missing("device_code"), DeviceAuthorizationResponse();
    if (!deviceCode.isString() || deviceCode.toString().isEmpty() || deviceCode.toString().size() > kMaxCodeLength)
        return err = malformed("device_code", "a non-empty string"), DeviceAuthorizationResponse();

    const QJsonValue userCode = object.value(QLatin1String("user_code"));
    if (userCode.isUndefined())
        return err = missing("user_code"), DeviceAuthorizationResponse();
    // Shown to the user and typed by them: short and printable (RFC 8628 §6.1).
    const QString userCodeText = userCode.toString();
    const bool printable = std::all_of(userCodeText.cbegin(), userCodeText.cend(),
                                       [](QChar c) { return c.isPrint() && !c.isSpace(); });
    if (!userCode.isString() || userCodeText.isEmpty() || userCodeText.size() > kMaxUserCodeLength || !printable)
        return err = malformed("user_code", "a short printable string"), DeviceAuthorizationResponse();

    // Some providers (Google) still send the draft's name verification_url.
    const char *uriName = object.contains(QLatin1String("verification_uri")) ? "verification_uri"
        : object.contains(QLatin1String("verification_url"))                 ? "verification_url"
                                                                              : nullptr;
    if (!uriName)
        return err = missing("verification_uri"), DeviceAuthorizationResponse();
    if (!readUri(object, uriName, options, &r.verificationUri, &err))
        return {};
    if (object.contains(QLatin1String("verification_uri_complete"))
        && !readUri(object, "verification_uri_complete", options, &r.verificationUriComplete, &err))
        return {};

    if (!object.contains(QLatin1String("expires_in")))
        return err = missing("expires_in"), DeviceAuthorizationResponse();
    double expiresIn = 0;
    if (!readSeconds(object, "expires_in", 1, kMaxExpiresIn, &expiresIn, &err))
        return {};
    if (object.contains(QLatin1String("interval"))) {
        double interval = 0;
        if (!readSeconds(object, "interval", 0, kMaxInterval, &interval, &err))
            return {};
        // 0 means "no minimum"; we still never poll more than once a second.
        r.interval = std::chrono::seconds(std::max<qint64>(1, qint64(interval)));
    }
    r.deviceCode = deviceCode.toString().toUtf8();
    r.userCode = userCodeText;
    r.expiresAt = receivedAt.addSecs(qint64(expiresIn));
    return r;
}

} // namespace Keyloop
