// SPDX-License-Identifier: MIT
#include <keyloop/authorizationresponse.h>

#include <keyloop/issueridentifier.h>

#include "core/crypto_p.h"
#include "core/formencoding_p.h"
#include "core/logging_p.h"

#include <QtCore/QDebug>
#include <QtCore/QHash>

#include <optional>

namespace Keyloop {

class AuthorizationResponsePrivate : public QSharedData
{
public:
    QByteArray code;
    QByteArray state;
    QString issuer;
};

namespace {

Error fail(Error::Code code, const QString &message)
{
    qCDebug(lcAuthorization) << "authorization response rejected:" << code;
    return Error(code, message);
}

} // namespace

AuthorizationResponse::AuthorizationResponse() : d(new AuthorizationResponsePrivate) {}
AuthorizationResponse::AuthorizationResponse(const AuthorizationResponse &other) = default;
AuthorizationResponse &AuthorizationResponse::operator=(const AuthorizationResponse &other) = default;
AuthorizationResponse::AuthorizationResponse(AuthorizationResponse &&other) noexcept = default;
AuthorizationResponse &AuthorizationResponse::operator=(AuthorizationResponse &&other) noexcept = default;
AuthorizationResponse::~AuthorizationResponse() = default;

AuthorizationResponse AuthorizationResponse::parse(const QByteArray &rawQuery,
                                                   const AuthorizationRequest &request,
                                                   const ProviderConfiguration &provider, Error *error)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    // 1. Decode; RFC 6749 §3.1: request and response parameters MUST NOT be included more
    //    than once.
    QHash<QByteArray, QByteArray> params;
    const auto pairs = splitFormQuery(rawQuery);
    if (!pairs) {
        err = fail(Error::Code::MalformedResponse,
                   QStringLiteral("the authorization response has an invalid percent-encoding"));
        return {};
    }
    for (const auto &[name, value] : *pairs) {
        if (params.contains(name)) {
            err = fail(Error::Code::DuplicateParameter,
                       QStringLiteral("the authorization response repeats a parameter (RFC 6749 §3.1)"));
            return {};
        }
        params.insert(name, value);
    }

    // 2. state first (RFC 6749 §10.12): a response for another login must not be able to end
    //    or influence this one, not even with an error. Constant-time comparison.
    const auto stateIt = params.constFind(QByteArrayLiteral("state"));
    if (stateIt == params.constEnd() || request.state().isEmpty()
        || !Crypto::constantTimeEquals(*stateIt, request.state())) {
        err = fail(Error::Code::StateMismatch,
                   stateIt == params.constEnd()
                       ? QStringLiteral("the authorization response has no state (RFC 6749 §4.1.2, §10.12)")
                       : QStringLiteral("the authorization response's state is not this login's (RFC 6749 §10.12)"));
        return {};
    }

    // 3. RFC 9207 §2.4: iss must equal the issuer identifier exactly (simple string comparison);
    //    when the provider advertises authorization_response_iss_parameter_supported, it is
    //    required. Checked before an error is believed: RFC 9207 §2.4 says "for error responses,
    //    clients MUST NOT assume that the error originates from the intended authorization
    //    server", so an error from a mixed-up provider is reported as the mix-up it is.
    const QString expectedIssuer = issuerIdentifier(provider.issuer().isEmpty() ? request.issuer() : provider.issuer());
    const auto issIt = params.constFind(QByteArrayLiteral("iss"));
    QString iss;
    if (issIt != params.constEnd()) {
        iss = QString::fromUtf8(*issIt);
        if (iss != expectedIssuer) {
            err = fail(Error::Code::IssuerMismatch,
                       QStringLiteral("the authorization response's iss is not the issuer (RFC 9207 §2.4)"));
            return {};
        }
    } else if (provider.isAuthorizationResponseIssParameterSupported()) {
        err = fail(Error::Code::MissingParameter,
                   QStringLiteral("the authorization response has no iss although the provider advertises "
                                  "authorization_response_iss_parameter_supported (RFC 9207 §2.4)"));
        return {};
    }

    // 4. An error response (RFC 6749 §4.1.2.1), now known to come from this login's provider.
    const auto errorIt = params.constFind(QByteArrayLiteral("error"));
    if (errorIt != params.constEnd()) {
        err = Error::oauth(QString::fromUtf8(*errorIt),
                           QString::fromUtf8(params.value(QByteArrayLiteral("error_description"))));
        qCDebug(lcAuthorization) << "authorization response is an OAuth error";
        return {};
    }

    // 5. The code (RFC 6749 §4.1.2).
    const QByteArray code = params.value(QByteArrayLiteral("code"));
    if (code.isEmpty()) {
        err = fail(Error::Code::MissingParameter,
                   QStringLiteral("the authorization response has no code (RFC 6749 §4.1.2)"));
        return {};
    }

    AuthorizationResponse response;
    response.d->code = code;
    response.d->state = *stateIt;
    response.d->issuer = iss;
    qCDebug(lcAuthorization) << "authorization response accepted";
    return response;
}

bool AuthorizationResponse::isNull() const { return d->code.isEmpty(); }
QByteArray AuthorizationResponse::code() const { return d->code; }
QByteArray AuthorizationResponse::state() const { return d->state; }
QString AuthorizationResponse::issuer() const { return d->issuer; }

QDebug operator<<(QDebug debug, const AuthorizationResponse &response)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::AuthorizationResponse(code=" << (response.code().isEmpty() ? "<none>" : "<redacted>")
                    << ", state=<redacted>, iss=" << response.issuer() << ')';
    return debug;
}

} // namespace Keyloop
