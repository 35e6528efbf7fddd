// SPDX-License-Identifier: MIT
#include <keyloop/error.h>

#include <QtCore/QDebug>
#include <QtCore/QMetaEnum>

#include <algorithm>

namespace Keyloop {

class ErrorPrivate : public QSharedData
{
public:
    Error::Code code = Error::Code::NoError;
    QString message;
    QString oauthError;
    QString oauthErrorDescription;
    int httpStatus = 0;
    bool transient = false;
    std::chrono::seconds retryAfter{0};
    QStringList requiredScopes;      // InsufficientScope
    QStringList requiredAcrValues;   // StepUpRequired
    std::optional<std::chrono::seconds> requiredMaxAge;
};

namespace {

// RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only.
// Anything else is replaced, and the text is bounded, so a hostile server cannot put
// control characters or megabytes into our messages and logs.
QString sanitiseOAuthText(const QString &text, int maxLength)
{
    QString out;
    out.reserve(qMin(text.size(), maxLength));
    for (const QChar c : text) {
        if (out.size() >= maxLength) {
            out += QStringLiteral("…");
            break;
        }
        const ushort u = c.unicode();
        const bool allowed = (u >= 0x20 && u <= 0x7e && u != 0x22 && u != 0x5c);
        out += allowed ? c : QChar(u'?');
    }
    return out;
}

bool defaultTransient(Error::Code code)
{
    switch (code) {
    case Error::Code::NetworkError:
    case Error::Code::Timeout:
        return true;
    default:
        return false;
    }
}

} // namespace

// "No error" is the common case on every success path: share one immutable instance instead
// of allocating (QSharedDataPointer detaches before any write).
static const QSharedDataPointer<ErrorPrivate> &sharedNoError()
{
    static const QSharedDataPointer<ErrorPrivate> instance(new ErrorPrivate);
    return instance;
}

Error::Error() : d(sharedNoError()) {}

Error::Error(Code code, const QString &message) : d(new ErrorPrivate)
{
    d->code = code;
    d->message = message;
    d->transient = defaultTransient(code);
}

Error::Error(const Error &other) = default;
Error::Error(Error &&other) noexcept = default;
Error &Error::operator=(const Error &other) = default;
Error &Error::operator=(Error &&other) noexcept = default;
Error::~Error() = default;

Error Error::oauth(const QString &error, const QString &description, int httpStatus)
{
    const QString code = sanitiseOAuthText(error, 64);
    const QString desc = sanitiseOAuthText(description, 300);
    QString message = QStringLiteral("the server answered with OAuth error \"%1\"").arg(code);
    if (!desc.isEmpty())
        message += QStringLiteral(": ") + desc;
    Error e(Code::OAuthError, message);
    e.d->oauthError = code;
    e.d->oauthErrorDescription = desc;
    e.d->httpStatus = httpStatus;
    // RFC 6749 §4.1.2.1: server_error and temporarily_unavailable are worth retrying.
    e.d->transient = code == QLatin1String("temporarily_unavailable")
        || code == QLatin1String("server_error") || httpStatus >= 500;
    return e;
}

Error Error::insufficientScope(const QStringList &scopes, const QString &description, int httpStatus)
{
    const QString desc = sanitiseOAuthText(description, 300);
    QString message = QStringLiteral("the API needs a token with more scope (RFC 6750 §3.1 insufficient_scope)");
    if (!scopes.isEmpty())
        message += QStringLiteral(": ") + sanitiseOAuthText(scopes.join(QLatin1Char(' ')), 300);
    Error e(Code::InsufficientScope, message);
    e.d->oauthError = QStringLiteral("insufficient_scope");
    e.d->oauthErrorDescription = desc;
    e.d->httpStatus = httpStatus;
    e.d->requiredScopes = scopes;
    return e;
}

Error Error::stepUpRequired(const QStringList &acrValues, std::optional<std::chrono::seconds> maxAge,
                            const QString &description, int httpStatus)
{
    const QString desc = sanitiseOAuthText(description, 300);
    QString message = QStringLiteral("the API requires a stronger or more recent sign-in (RFC 9470 step-up)");
    if (!acrValues.isEmpty())
        message += QStringLiteral("; acr_values: ") + sanitiseOAuthText(acrValues.join(QLatin1Char(' ')), 300);
    if (maxAge)
        message += QStringLiteral("; max_age: %1 s").arg(maxAge->count());
    Error e(Code::StepUpRequired, message);
    e.d->oauthError = QStringLiteral("insufficient_user_authentication");
    e.d->oauthErrorDescription = desc;
    e.d->httpStatus = httpStatus;
    e.d->requiredAcrValues = acrValues;
    e.d->requiredMaxAge = maxAge;
    return e;
}

QStringList Error::requiredScopes() const { return d->requiredScopes; }
QStringList Error::requiredAcrValues() const { return d->requiredAcrValues; }
std::optional<std::chrono::seconds> Error::requiredMaxAge() const { return d->requiredMaxAge; }

bool Error::isNull() const { return d->code == Code::NoError; }
Error::Code Error::code() const { return d->code; }
Error::Domain Error::domain() const { return domainOf(d->code); }
QString Error::message() const { return d->message; }
QString Error::oauthError() const { return d->oauthError; }
QString Error::oauthErrorDescription() const { return d->oauthErrorDescription; }
int Error::httpStatus() const { return d->httpStatus; }

Error &Error::setHttpStatus(int status)
{
    d->httpStatus = status;
    if (status >= 500)
        d->transient = true;
    return *this;
}

bool Error::isTransient() const { return d->transient; }

Error &Error::setTransient(bool transient)
{
    d->transient = transient;
    return *this;
}

bool Error::requiresSignIn() const
{
    return d->code == Code::SignInRequired
        || (d->code == Code::OAuthError && d->oauthError == QLatin1String("invalid_grant"));
}

std::chrono::seconds Error::retryAfter() const { return d->retryAfter; }

Error &Error::setRetryAfter(std::chrono::seconds delay)
{
    // RFC 9110 §10.2.3 leaves the bound to the client: never wait longer than 5 minutes.
    d->retryAfter = std::clamp(delay, std::chrono::seconds(0), std::chrono::seconds(300));
    return *this;
}

Error Error::reclassified(Code code, const QString &message) const
{
    Error e(code, message);
    e.d->oauthError = d->oauthError;
    e.d->oauthErrorDescription = d->oauthErrorDescription;
    e.d->httpStatus = d->httpStatus;
    e.d->retryAfter = d->retryAfter;
    e.d->requiredScopes = d->requiredScopes;
    e.d->requiredAcrValues = d->requiredAcrValues;
    e.d->requiredMaxAge = d->requiredMaxAge;
    return e;
}

QString Error::codeName(Code code)
{
    const QMetaEnum e = QMetaEnum::fromType<Code>();
    const char *key = e.valueToKey(int(code));
    return key ? QString::fromLatin1(key) : QStringLiteral("Unknown");
}

Error::Domain Error::domainOf(Code code)
{
    switch (code) {
    case Code::NoError: return Domain::None;
    case Code::InvalidConfiguration:
    case Code::InsecureEndpoint:
    case Code::ClientAuthenticationFailed:
    case Code::CredentialNotAllowed:
    case Code::RequestBodyTooLarge:
    case Code::EndSessionNotSupported:
    case Code::DeviceFlowNotSupported:
    case Code::PushedAuthorizationNotSupported:
    case Code::ListenFailed: return Domain::Configuration;
    case Code::NetworkError:
    case Code::TlsError:
    case Code::Timeout:
    case Code::HttpError:
    case Code::ResponseTooLarge:
    case Code::UnexpectedTokenResponse:
    case Code::RevocationFailed: return Domain::Network;
    case Code::MalformedResponse:
    case Code::IssuerMismatch:
    case Code::MissingParameter:
    case Code::DuplicateParameter:
    case Code::StateMismatch:
    case Code::UnsupportedTokenType:
    case Code::UnexpectedRedirect:
    case Code::BrowserLaunchFailed: return Domain::Protocol;
    case Code::OAuthError:
    case Code::InsufficientScope:
    case Code::StepUpRequired: return Domain::OAuth;
    case Code::JoseMalformed:
    case Code::JoseTooLarge:
    case Code::JoseUnsupportedAlgorithm:
    case Code::JoseUnknownCritical:
    case Code::JoseKeyNotFound:
    case Code::JoseInvalidKey:
    case Code::JoseInvalidSignature: return Domain::Jose;
    case Code::IdTokenInvalidIssuer:
    case Code::IdTokenInvalidAudience:
    case Code::IdTokenInvalidAuthorizedParty:
    case Code::IdTokenExpired:
    case Code::IdTokenNotYetValid:
    case Code::IdTokenIssuedInFuture:
    case Code::IdTokenTooOld:
    case Code::IdTokenInvalidNonce:
    case Code::IdTokenInvalidClaim:
    case Code::IdTokenInvalidAccessTokenHash:
    case Code::IdTokenInvalidAuthTime:
    case Code::IdTokenRefreshMismatch:
    case Code::IdTokenNotReturned:
    case Code::UserInfoSubjectMismatch: return Domain::IdToken;
    case Code::StorageUnavailable:
    case Code::StorageFailed:
    case Code::StorageCorrupt:
    case Code::NotFound:
    case Code::SessionBusy:
    case Code::InsecureLockDirectory: return Domain::Storage;
    case Code::SignInRequired:
    case Code::SignInTimeout:
    case Code::DeviceCodeExpired: return Domain::Session;
    case Code::Cancelled: return Domain::Cancelled;
    }
    return Domain::None;
}

QString Error::toString() const
{
    if (isNull())
        return QStringLiteral("NoError");
    return codeName(d->code) + QStringLiteral(": ") + d->message;
}

bool Error::operator==(const Error &other) const
{
    return d->code == other.d->code && d->message == other.d->message
        && d->oauthError == other.d->oauthError && d->httpStatus == other.d->httpStatus;
}

QDebug operator<<(QDebug debug, const Error &error)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::Error(" << error.toString();
    if (error.httpStatus())
        debug << ", HTTP " << error.httpStatus();
    debug << ')';
    return debug;
}

} // namespace Keyloop

