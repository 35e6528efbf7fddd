// SPDX-License-Identifier: MIT
#include <keyloop/tokenresponse.h>

#include "core/logging_p.h"

#include "core/strictjson_p.h"
#include "token/oautherrorbody_p.h"

#include <QtCore/QDebug>
#include <QtCore/QTimeZone>

#include <cmath>

namespace Keyloop {

class TokenResponsePrivate : public QSharedData
{
public:
    QByteArray accessToken;
    QString tokenType;
    std::optional<std::chrono::seconds> expiresIn;
    QDateTime receivedAt;
    QByteArray refreshToken;
    QStringList scopes;
    QByteArray idToken;
    DpopKey dpopKey;
};

namespace {

// expires_in larger than this (about 68 years) is treated as malformed rather than risking
// overflow in time arithmetic.
constexpr double kMaxExpiresIn = 2147483647.0;

Error malformed(const char *member, const char *expected)
{
    return Error(Error::Code::MalformedResponse,
                 QStringLiteral("token response member %1 must be %2 (RFC 6749 §5.1)")
                     .arg(QLatin1String(member), QLatin1String(expected)));
}

// Reads an optional string member. Returns false (with \a error set) on a wrong type.
bool readString(const QJsonObject &object, const char *name, QString *out, Error *error)
{
    const QJsonValue value = object.value(QLatin1String(name));
    if (value.isUndefined()) {
        out->clear();
        return true;
    }
    if (!value.isString()) {
        *error = malformed(name, "a string");
        return false;
    }
    *out = value.toString();
    return true;
}

QDateTime nowUtc(const Clock *clock)
{
    const auto now = (clock ? clock : Clock::system())->now();
    const qint64 ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc());
}

} // namespace

TokenResponse::TokenResponse() : d(new TokenResponsePrivate) {}
TokenResponse::TokenResponse(const TokenResponse &other) = default;
TokenResponse::TokenResponse(TokenResponse &&other) noexcept = default;
TokenResponse &TokenResponse::operator=(const TokenResponse &other) = default;
TokenResponse &TokenResponse::operator=(TokenResponse &&other) noexcept = default;
TokenResponse::~TokenResponse() = default;

TokenResponse TokenResponse::parse(int httpStatus, const QByteArray &contentType, QByteArrayView body,
                                   const TokenRequestContext &context, Error *error)
{
    Q_UNUSED(contentType) // informative only: providers send text/plain, text/html, … with JSON
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    if (httpStatus != 200) {
        // RFC 6749 §5.2: errors come as 400 (401 for invalid_client) with a JSON object.
        // Accept the error object with any 4xx; anything else is an HTTP error. The body is
        // never copied into the message.
        if (httpStatus >= 400 && httpStatus < 500) {
            if (const std::optional<Error> oauth = oauthErrorFromBody(body, httpStatus)) {
                err = *oauth;
                qCDebug(lcToken) << "token endpoint answered with an OAuth error, HTTP" << httpStatus;
                return {};
            }
        }
        err = Error(Error::Code::HttpError,
                    QStringLiteral("the token endpoint answered HTTP %1 without an OAuth error (RFC 6749 §5.2)")
                        .arg(httpStatus))
                  .setHttpStatus(httpStatus);
        qCDebug(lcToken) << "token endpoint answered HTTP" << httpStatus;
        return {};
    }

    const std::optional<QJsonObject> parsed = StrictJson::parseObject(body, &err);
    if (!parsed) {
        err = Error(err.code(), QStringLiteral("token response: ") + err.message());
        return {};
    }
    const QJsonObject &object = *parsed;

    // Some providers (e.g. GitHub) answer errors with 200 and an error object.
    if (!object.contains(QLatin1String("access_token"))) {
        if (const std::optional<Error> oauth = oauthErrorFromBody(body, httpStatus)) {
            err = *oauth;
            return {};
        }
    }

    TokenResponse response;
    TokenResponsePrivate *p = response.d.data();

    // RFC 6749 §5.1: access_token REQUIRED.
    const QJsonValue accessToken = object.value(QLatin1String("access_token"));
    if (accessToken.isUndefined()) {
        err = Error(Error::Code::MissingParameter, QStringLiteral("the token response has no access_token (RFC 6749 §5.1)"));
        return {};
    }
    if (!accessToken.isString()) {
        err = malformed("access_token", "a string");
        return {};
    }
    if (accessToken.toString().isEmpty()) {
        err = Error(Error::Code::MissingParameter, QStringLiteral("the token response's access_token is empty (RFC 6749 §5.1)"));
        return {};
    }
    p->accessToken = accessToken.toString().toUtf8();

    // RFC 6749 §5.1: token_type REQUIRED, case-insensitive (§7.1): Bearer (RFC 6750), or DPoP
    // when the request carried a proof (RFC 9449 §5) — then nothing else.
    const QJsonValue tokenType = object.value(QLatin1String("token_type"));
    if (tokenType.isUndefined()) {
        err = Error(Error::Code::MissingParameter, QStringLiteral("the token response has no token_type (RFC 6749 §5.1)"));
        return {};
    }
    if (!tokenType.isString()) {
        err = malformed("token_type", "a string");
        return {};
    }
    if (context.dpop && tokenType.toString().compare(QLatin1String("DPoP"), Qt::CaseInsensitive) != 0) {
        err = Error(Error::Code::UnsupportedTokenType,
                    QStringLiteral("the token type is not DPoP although the request carried a DPoP proof: the provider "
                                   "did not bind the token to this device's key (RFC 9449 §5)"));
        return {};
    }
    if (!context.dpop && tokenType.toString().compare(QLatin1String("Bearer"), Qt::CaseInsensitive) != 0) {
        err = Error(Error::Code::UnsupportedTokenType,
                    QStringLiteral("the token type is not Bearer (RFC 6749 §7.1, RFC 6750)"));
        return {};
    }
    p->tokenType = tokenType.toString();

    // RFC 6749 §5.1: expires_in RECOMMENDED, a number of seconds. Strings ("3600") are
    // rejected: the RFC's JSON type is a number, and lenience would hide broken servers.
    const QJsonValue expiresIn = object.value(QLatin1String("expires_in"));
    if (!expiresIn.isUndefined() && !expiresIn.isNull()) {
        const double v = expiresIn.isDouble() ? expiresIn.toDouble() : -1;
        if (!expiresIn.isDouble() || !std::isfinite(v) || v < 0 || std::floor(v) != v || v > kMaxExpiresIn) {
            err = malformed("expires_in", "a non-negative integer number");
            return {};
        }
        p->expiresIn = std::chrono::seconds(qint64(v));
    }

    QString refreshToken;
    QString scope;
    QString idToken;
    if (!readString(object, "refresh_token", &refreshToken, &err) || !readString(object, "scope", &scope, &err)
        || !readString(object, "id_token", &idToken, &err))
        return {};
    p->refreshToken = refreshToken.toUtf8();
    p->idToken = idToken.toUtf8();

    // RFC 6749 §5.1 / §3.3: an absent scope means the requested scope was granted.
    if (object.contains(QLatin1String("scope")))
        p->scopes = scope.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    else
        p->scopes = context.requestedScopes;

    // OIDC Core §3.1.3.3: a code exchange with openid returns an ID token.
    if (context.idToken == TokenRequestContext::IdToken::Required && p->idToken.isEmpty()) {
        err = Error(Error::Code::MissingParameter,
                    QStringLiteral("the token response has no id_token although openid was requested (OIDC Core §3.1.3.3)"));
        return {};
    }

    p->receivedAt = nowUtc(context.clock);
    qCDebug(lcToken) << "token response accepted; refresh token:" << !p->refreshToken.isEmpty()
                     << "id token:" << !p->idToken.isEmpty();
    return response;
}

bool TokenResponse::isNull() const { return d->accessToken.isEmpty(); }
QByteArray TokenResponse::accessToken() const { return d->accessToken; }
void TokenResponse::setAccessToken(const QByteArray &token) { d->accessToken = token; }
QString TokenResponse::tokenType() const { return d->tokenType; }
DpopKey TokenResponse::dpopKey() const { return d->dpopKey; }
void TokenResponse::setDpopKey(const DpopKey &key) { d->dpopKey = key; }
void TokenResponse::setTokenType(const QString &type) { d->tokenType = type; }
std::optional<std::chrono::seconds> TokenResponse::expiresIn() const { return d->expiresIn; }
void TokenResponse::setExpiresIn(std::optional<std::chrono::seconds> expiresIn) { d->expiresIn = expiresIn; }

QDateTime TokenResponse::expiresAt() const
{
    if (!d->expiresIn || !d->receivedAt.isValid())
        return {};
    return d->receivedAt.addSecs(d->expiresIn->count());
}

QDateTime TokenResponse::receivedAt() const { return d->receivedAt; }
void TokenResponse::setReceivedAt(const QDateTime &receivedAt) { d->receivedAt = receivedAt.toUTC(); }
QByteArray TokenResponse::refreshToken() const { return d->refreshToken; }
void TokenResponse::setRefreshToken(const QByteArray &token) { d->refreshToken = token; }
QStringList TokenResponse::scopes() const { return d->scopes; }
void TokenResponse::setScopes(const QStringList &scopes) { d->scopes = scopes; }
QByteArray TokenResponse::idToken() const { return d->idToken; }
void TokenResponse::setIdToken(const QByteArray &token) { d->idToken = token; }

bool TokenResponse::operator==(const TokenResponse &other) const
{
    return d == other.d
        || (d->accessToken == other.d->accessToken && d->tokenType == other.d->tokenType
            && d->expiresIn == other.d->expiresIn && d->receivedAt == other.d->receivedAt
            && d->refreshToken == other.d->refreshToken && d->scopes == other.d->scopes
            && d->idToken == other.d->idToken && d->dpopKey == other.d->dpopKey);
}

QDebug operator<<(QDebug debug, const TokenResponse &response)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::TokenResponse(accessToken=" << (response.accessToken().isEmpty() ? "<none>" : "<redacted>")
                    << ", tokenType=" << response.tokenType()
                    << ", expiresAt=" << response.expiresAt().toString(Qt::ISODate)
                    << ", refreshToken=" << (response.hasRefreshToken() ? "<redacted>" : "<none>")
                    << ", idToken=" << (response.hasIdToken() ? "<redacted>" : "<none>")
                    << ", scopes=" << response.scopes().join(QLatin1Char(' ')) << ')';
    return debug;
}

} // namespace Keyloop
