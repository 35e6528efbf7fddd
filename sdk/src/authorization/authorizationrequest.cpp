// SPDX-License-Identifier: MIT
#include <keyloop/authorizationrequest.h>
#include <keyloop/pkce.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"

#include "network/httpexchange_p.h"

#include <QtCore/QDebug>
#include <QtCore/QSet>
#include <QtCore/QUrlQuery>

namespace Keyloop {

class AuthorizationRequestPrivate : public QSharedData
{
public:
    QUrl url;
    QUrl authorizationEndpoint;
    QUrl issuer;
    QString clientId;
    QUrl redirectUri;
    QStringList scopes;
    QByteArray state;
    QByteArray nonce;
    Pkce pkce;
    std::optional<std::chrono::seconds> maxAge;
    QStringList acrValues;
    QString prompt;
    QStringList resources;
    FormFields parameters; ///< what Keyloop added to the endpoint, unencoded
};

namespace {

const char *const kProtocolParameters[] = {
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "login_hint", "max_age", "acr_values", "resource",
};

bool isProtocolParameter(const QString &name)
{
    for (const char *reserved : kProtocolParameters) {
        if (name == QLatin1String(reserved))
            return true;
    }
    return false;
}

Error invalid(const QString &message)
{
    return Error(Error::Code::InvalidConfiguration, message);
}

} // namespace

AuthorizationRequest::AuthorizationRequest() : d(new AuthorizationRequestPrivate) {}
AuthorizationRequest::AuthorizationRequest(const AuthorizationRequest &other) = default;
AuthorizationRequest::AuthorizationRequest(AuthorizationRequest &&other) noexcept = default;
AuthorizationRequest &AuthorizationRequest::operator=(const AuthorizationRequest &other) = default;
AuthorizationRequest &AuthorizationRequest::operator=(AuthorizationRequest &&other) noexcept = default;
AuthorizationRequest::~AuthorizationRequest() = default;

QStringList AuthorizationRequest::requestedScopes(const ClientConfiguration &client,
                                                  const ProviderConfiguration &provider)
{
    QStringList scopes;
    for (const QString &scope : client.scopes()) {
        if (!scope.isEmpty() && !scopes.contains(scope))
            scopes.append(scope);
    }
    // OIDC Core §11: offline_access asks for a refresh token. Requested by default when the
    // provider lists it; apps can opt out per configuration.
    const QString offline = QStringLiteral("offline_access");
    if (client.offlineAccess() == ClientConfiguration::OfflineAccess::RequestWhenSupported
        && provider.supportsOfflineAccess() && !scopes.contains(offline))
        scopes.append(offline);
    return scopes;
}

AuthorizationRequest AuthorizationRequest::create(const ClientConfiguration &client,
                                                  const ProviderConfiguration &provider,
                                                  const QUrl &redirectUri, Error *error)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    if (client.clientId().isEmpty()) {
        err = invalid(QStringLiteral("the client id is not set (RFC 6749 §2.2)"));
        return {};
    }
    const QUrl endpoint = provider.authorizationEndpoint();
    if (const Error e = checkEndpointUrl(endpoint, client.transport(), QStringLiteral("authorization_endpoint"))) {
        err = e;
        return {};
    }
    // RFC 6749 §3.1.2: the redirection endpoint URI is absolute and has no fragment.
    if (!redirectUri.isValid() || redirectUri.isRelative() || redirectUri.hasFragment()) {
        err = invalid(QStringLiteral("the redirect URI must be absolute and have no fragment (RFC 6749 §3.1.2)"));
        return {};
    }

    // RFC 6749 §3.1: the endpoint's own query is retained, and no parameter may occur twice.
    const QUrlQuery existing(endpoint);
    QSet<QString> used;
    for (const auto &item : existing.queryItems(QUrl::FullyDecoded))
        used.insert(item.first);
    for (const char *reserved : kProtocolParameters) {
        if (used.contains(QLatin1String(reserved))) {
            err = invalid(QStringLiteral("the authorization endpoint's query already contains %1")
                              .arg(QLatin1String(reserved)));
            return {};
        }
    }
    for (const auto &parameter : client.additionalParameters()) {
        if (parameter.first.isEmpty()) {
            err = invalid(QStringLiteral("an additional parameter has an empty name"));
            return {};
        }
        if (isProtocolParameter(parameter.first)) {
            err = invalid(QStringLiteral("the additional parameter %1 would override a parameter Keyloop sets")
                              .arg(parameter.first));
            return {};
        }
        if (used.contains(parameter.first)) {
            err = invalid(QStringLiteral("the additional parameter %1 is already in the authorization endpoint's query")
                              .arg(parameter.first));
            return {};
        }
    }

    AuthorizationRequest request;
    AuthorizationRequestPrivate *p = request.d.data();
    p->authorizationEndpoint = endpoint;
    p->issuer = provider.issuer().isEmpty() ? client.issuer() : provider.issuer();
    p->clientId = client.clientId();
    p->redirectUri = redirectUri;
    p->scopes = requestedScopes(client, provider);
    if (p->scopes.isEmpty()) {
        err = invalid(QStringLiteral("no scope is requested"));
        return {};
    }
    // RFC 6749 §10.12 state, OIDC Core §3.1.2.1 nonce, RFC 7636 §4.1 verifier: 256 bits each
    // from the CSPRNG.
    p->state = Crypto::randomToken(32);
    if (p->scopes.contains(QLatin1String("openid")))
        p->nonce = Crypto::randomToken(32);
    p->pkce = Pkce::generate();
    p->maxAge = client.maxAge();
    p->acrValues = client.acrValues();
    p->prompt = client.prompt();
    p->resources = client.resources();

    FormFields fields;
    auto add = [&fields](const char *name, const QByteArray &value) {
        fields.append({QByteArray(name), value});
    };
    add("response_type", "code");
    add("client_id", p->clientId.toUtf8());
    add("redirect_uri", redirectUri.toString(QUrl::FullyEncoded).toUtf8());
    add("scope", p->scopes.join(QLatin1Char(' ')).toUtf8());
    add("state", p->state);
    if (!p->nonce.isEmpty())
        add("nonce", p->nonce);
    add("code_challenge", p->pkce.challenge());
    add("code_challenge_method", "S256"); // RFC 7636 §4.3; plain is never used (§7.2)
    if (!p->prompt.isEmpty())
        add("prompt", p->prompt.toUtf8());
    if (!client.loginHint().isEmpty())
        add("login_hint", client.loginHint().toUtf8());
    if (p->maxAge)
        add("max_age", QByteArray::number(qint64(p->maxAge->count())));
    if (!p->acrValues.isEmpty())
        add("acr_values", p->acrValues.join(QLatin1Char(' ')).toUtf8());
    for (const QString &resource : p->resources)
        add("resource", resource.toUtf8()); // RFC 8707 §2: one parameter per resource
    for (const auto &parameter : client.additionalParameters())
        fields.append({parameter.first.toUtf8(), parameter.second.toUtf8()});

    p->parameters = fields;
    p->url = withFormQuery(endpoint, fields);
    qCDebug(lcAuthorization) << "authorization request built for" << endpoint.host() << endpoint.path();
    return request;
}

bool AuthorizationRequest::isNull() const { return d->url.isEmpty(); }
QUrl AuthorizationRequest::url() const { return d->url; }

QList<QPair<QString, QString>> AuthorizationRequest::parameters() const
{
    QList<QPair<QString, QString>> out;
    out.reserve(d->parameters.size());
    for (const auto &field : d->parameters)
        out.append({QString::fromUtf8(field.first), QString::fromUtf8(field.second)});
    return out;
}

QUrl AuthorizationRequest::urlWithRequestUri(const QByteArray &requestUri) const
{
    if (isNull() || requestUri.isEmpty())
        return QUrl();
    // RFC 9126 §4: "the client_id and request_uri authorization request parameters" only; the
    // others are at the provider. client_id stays because the request_uri is bound to it (§4:
    // the server MUST verify that the client is the one that pushed the request). The endpoint's
    // own query is kept (RFC 6749 §3.1), as in url().
    return withFormQuery(d->authorizationEndpoint,
                         FormFields{{QByteArrayLiteral("client_id"), d->clientId.toUtf8()},
                                    {QByteArrayLiteral("request_uri"), requestUri}});
}
QUrl AuthorizationRequest::authorizationEndpoint() const { return d->authorizationEndpoint; }
QUrl AuthorizationRequest::issuer() const { return d->issuer; }
QString AuthorizationRequest::clientId() const { return d->clientId; }
QUrl AuthorizationRequest::redirectUri() const { return d->redirectUri; }
QStringList AuthorizationRequest::scopes() const { return d->scopes; }
bool AuthorizationRequest::isOpenIdRequest() const { return d->scopes.contains(QLatin1String("openid")); }
QByteArray AuthorizationRequest::state() const { return d->state; }
QByteArray AuthorizationRequest::nonce() const { return d->nonce; }
QByteArray AuthorizationRequest::codeVerifier() const { return d->pkce.verifier(); }
QByteArray AuthorizationRequest::codeChallenge() const { return d->pkce.challenge(); }
std::optional<std::chrono::seconds> AuthorizationRequest::maxAge() const { return d->maxAge; }
QStringList AuthorizationRequest::acrValues() const { return d->acrValues; }
QString AuthorizationRequest::prompt() const { return d->prompt; }
QStringList AuthorizationRequest::resources() const { return d->resources; }

QDebug operator<<(QDebug debug, const AuthorizationRequest &request)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::AuthorizationRequest(endpoint=" << request.authorizationEndpoint().host()
                    << request.authorizationEndpoint().path() << ", clientId=" << request.clientId()
                    << ", redirectUri=" << request.redirectUri().toString(QUrl::RemoveQuery | QUrl::RemoveFragment)
                    << ", scopes=" << request.scopes().join(QLatin1Char(' '))
                    << ", state=<redacted>, nonce=" << (request.nonce().isEmpty() ? "<none>" : "<redacted>")
                    << ", codeVerifier=<redacted>)";
    return debug;
}

} // namespace Keyloop
