// SPDX-License-Identifier: MIT
#include <keyloop/providerconfiguration.h>

#include <keyloop/issueridentifier.h>

#include "network/httpexchange_p.h"
#include "core/strictjson_p.h"

#include <QtCore/QDebug>
#include <QtCore/QJsonArray>

namespace Keyloop {

class ProviderConfigurationPrivate : public QSharedData
{
public:
    QUrl issuer;
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    QUrl userInfoEndpoint;
    QUrl jwksUri;
    QUrl revocationEndpoint;
    QUrl endSessionEndpoint;
    QUrl introspectionEndpoint;
    QUrl deviceAuthorizationEndpoint;
    QUrl pushedAuthorizationRequestEndpoint;
    QStringList scopesSupported;
    QStringList responseTypesSupported;
    QStringList grantTypesSupported;
    QStringList codeChallengeMethodsSupported;
    QStringList idTokenSigningAlgValuesSupported;
    QStringList tokenEndpointAuthMethodsSupported;
    QStringList dpopSigningAlgValuesSupported;
    bool issParameterSupported = false;
    bool requirePushedAuthorizationRequests = false;
    QDateTime expiresAt; // not part of the document: not compared

    bool operator==(const ProviderConfigurationPrivate &o) const
    {
        return issuer == o.issuer && authorizationEndpoint == o.authorizationEndpoint
            && tokenEndpoint == o.tokenEndpoint && userInfoEndpoint == o.userInfoEndpoint
            && jwksUri == o.jwksUri && revocationEndpoint == o.revocationEndpoint
            && endSessionEndpoint == o.endSessionEndpoint && introspectionEndpoint == o.introspectionEndpoint
            && deviceAuthorizationEndpoint == o.deviceAuthorizationEndpoint
            && pushedAuthorizationRequestEndpoint == o.pushedAuthorizationRequestEndpoint
            && scopesSupported == o.scopesSupported && responseTypesSupported == o.responseTypesSupported
            && grantTypesSupported == o.grantTypesSupported
            && codeChallengeMethodsSupported == o.codeChallengeMethodsSupported
            && idTokenSigningAlgValuesSupported == o.idTokenSigningAlgValuesSupported
            && tokenEndpointAuthMethodsSupported == o.tokenEndpointAuthMethodsSupported
            && dpopSigningAlgValuesSupported == o.dpopSigningAlgValuesSupported
            && issParameterSupported == o.issParameterSupported
            && requirePushedAuthorizationRequests == o.requirePushedAuthorizationRequests;
    }
};

namespace {

struct EndpointMember {
    const char *name;
    QUrl ProviderConfigurationPrivate::*member;
    bool required;
};

// RFC 8414 §2 / OIDC Discovery §3. authorization_endpoint and token_endpoint are required
// because Keyloop only uses the authorization code grant.
const EndpointMember kEndpoints[] = {
    {"authorization_endpoint", &ProviderConfigurationPrivate::authorizationEndpoint, true},
    {"token_endpoint", &ProviderConfigurationPrivate::tokenEndpoint, true},
    {"userinfo_endpoint", &ProviderConfigurationPrivate::userInfoEndpoint, false},
    {"jwks_uri", &ProviderConfigurationPrivate::jwksUri, false},
    {"revocation_endpoint", &ProviderConfigurationPrivate::revocationEndpoint, false},
    {"end_session_endpoint", &ProviderConfigurationPrivate::endSessionEndpoint, false},
    {"introspection_endpoint", &ProviderConfigurationPrivate::introspectionEndpoint, false},
    {"device_authorization_endpoint", &ProviderConfigurationPrivate::deviceAuthorizationEndpoint, false}, // RFC 8628 §4
    {"pushed_authorization_request_endpoint", &ProviderConfigurationPrivate::pushedAuthorizationRequestEndpoint, false}, // RFC 9126 §5
};

struct ListMember {
    const char *name;
    QStringList ProviderConfigurationPrivate::*member;
};

const ListMember kLists[] = {
    {"scopes_supported", &ProviderConfigurationPrivate::scopesSupported},
    {"response_types_supported", &ProviderConfigurationPrivate::responseTypesSupported},
    {"grant_types_supported", &ProviderConfigurationPrivate::grantTypesSupported},
    {"code_challenge_methods_supported", &ProviderConfigurationPrivate::codeChallengeMethodsSupported},
    {"id_token_signing_alg_values_supported", &ProviderConfigurationPrivate::idTokenSigningAlgValuesSupported},
    {"token_endpoint_auth_methods_supported", &ProviderConfigurationPrivate::tokenEndpointAuthMethodsSupported},
    {"dpop_signing_alg_values_supported", &ProviderConfigurationPrivate::dpopSigningAlgValuesSupported}, // RFC 9449 §5.1
};

Error malformed(const QString &member, const char *expected)
{
    return Error(Error::Code::MalformedResponse,
                 QStringLiteral("discovery member %1 must be %2 (RFC 8414 §2)").arg(member, QLatin1String(expected)));
}

Error checkIssuerUrl(const QUrl &issuer, const TransportOptions &options)
{
    if (const Error e = checkEndpointUrl(issuer, options, QStringLiteral("issuer")))
        return e;
    // OIDC Discovery §3 / RFC 8414 §2: https URL with no query or fragment.
    if (issuer.hasQuery())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("issuer must not have a query component (RFC 8414 §2)"));
    return {};
}

} // namespace

ProviderConfiguration::ProviderConfiguration() : d(new ProviderConfigurationPrivate) {}
ProviderConfiguration::ProviderConfiguration(const ProviderConfiguration &other) = default;
ProviderConfiguration::ProviderConfiguration(ProviderConfiguration &&other) noexcept = default;
ProviderConfiguration &ProviderConfiguration::operator=(const ProviderConfiguration &other) = default;
ProviderConfiguration &ProviderConfiguration::operator=(ProviderConfiguration &&other) noexcept = default;
ProviderConfiguration::~ProviderConfiguration() = default;

ProviderConfiguration ProviderConfiguration::fromJson(QByteArrayView json, const QUrl &expectedIssuer,
                                                      const TransportOptions &options, Error *error)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    const std::optional<QJsonObject> parsed = StrictJson::parseObject(json, &err);
    if (!parsed) {
        err = Error(err.code(), QStringLiteral("discovery document: ") + err.message());
        return {};
    }
    const QJsonObject &object = *parsed;

    ProviderConfiguration config;
    ProviderConfigurationPrivate *p = config.d.data();

    // issuer: required string, equal to the configured issuer exactly (OIDC Discovery §4.3,
    // RFC 8414 §3.3): this defeats mix-up attacks with a foreign document. "Exactly" means
    // the one canonical string form every other issuer comparison uses (issuerIdentifier()).
    const QJsonValue issuerValue = object.value(QLatin1String("issuer"));
    if (issuerValue.isUndefined()) {
        err = Error(Error::Code::MissingParameter, QStringLiteral("discovery document has no issuer (RFC 8414 §2)"));
        return {};
    }
    if (!issuerValue.isString()) {
        err = malformed(QStringLiteral("issuer"), "a string");
        return {};
    }
    const QString issuerString = issuerValue.toString();
    if (issuerString != issuerIdentifier(expectedIssuer)) {
        err = Error(Error::Code::IssuerMismatch,
                    QStringLiteral("the discovery document's issuer is not the configured issuer "
                                   "(OIDC Discovery §4.3, RFC 8414 §3.3)"));
        return {};
    }
    p->issuer = QUrl(issuerString, QUrl::StrictMode);
    if (const Error e = checkIssuerUrl(p->issuer, options)) {
        err = e;
        return {};
    }

    for (const EndpointMember &endpoint : kEndpoints) {
        const QString name = QLatin1String(endpoint.name);
        const QJsonValue value = object.value(name);
        if (value.isUndefined() || value.isNull()) {
            if (endpoint.required) {
                err = Error(Error::Code::MissingParameter,
                            QStringLiteral("discovery document has no %1 (RFC 8414 §2)").arg(name));
                return {};
            }
            continue;
        }
        if (!value.isString()) {
            err = malformed(name, "a string");
            return {};
        }
        const QUrl url(value.toString(), QUrl::StrictMode);
        if (const Error e = checkEndpointUrl(url, options, name)) {
            err = e;
            return {};
        }
        p->*(endpoint.member) = url;
    }

    for (const ListMember &list : kLists) {
        const QString name = QLatin1String(list.name);
        const QJsonValue value = object.value(name);
        if (value.isUndefined() || value.isNull())
            continue;
        if (!value.isArray()) {
            err = malformed(name, "an array of strings");
            return {};
        }
        QStringList strings;
        const QJsonArray array = value.toArray();
        for (const QJsonValue &item : array) {
            if (!item.isString()) {
                err = malformed(name, "an array of strings");
                return {};
            }
            strings.append(item.toString());
        }
        p->*(list.member) = strings;
    }

    // RFC 9207 §3
    const QJsonValue iss = object.value(QLatin1String("authorization_response_iss_parameter_supported"));
    if (!iss.isUndefined() && !iss.isNull()) {
        if (!iss.isBool()) {
            err = malformed(QStringLiteral("authorization_response_iss_parameter_supported"), "a boolean");
            return {};
        }
        p->issParameterSupported = iss.toBool();
    }

    // RFC 9126 §5: "If omitted, the default value is false." Whether the endpoint that makes it
    // possible is there is checked where PAR is used (SignIn: PushedAuthorizationNotSupported), so
    // that a provider with inconsistent metadata can still refresh and revoke.
    const QJsonValue requirePar = object.value(QLatin1String("require_pushed_authorization_requests"));
    if (!requirePar.isUndefined() && !requirePar.isNull()) {
        if (!requirePar.isBool()) {
            err = malformed(QStringLiteral("require_pushed_authorization_requests"), "a boolean");
            return {};
        }
        p->requirePushedAuthorizationRequests = requirePar.toBool();
    }
    return config;
}

bool ProviderConfiguration::isNull() const
{
    static const ProviderConfigurationPrivate empty;
    return *d == empty;
}

Error ProviderConfiguration::validate(const TransportOptions &options) const
{
    if (d->issuer.isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("the provider configuration has no issuer"));
    if (const Error e = checkIssuerUrl(d->issuer, options))
        return e;
    for (const EndpointMember &endpoint : kEndpoints) {
        const QUrl &url = d.constData()->*(endpoint.member);
        if (url.isEmpty() && !endpoint.required)
            continue;
        if (const Error e = checkEndpointUrl(url, options, QLatin1String(endpoint.name)))
            return e;
    }
    return {};
}

QUrl ProviderConfiguration::issuer() const { return d->issuer; }
void ProviderConfiguration::setIssuer(const QUrl &issuer) { d->issuer = issuer; }
QUrl ProviderConfiguration::authorizationEndpoint() const { return d->authorizationEndpoint; }
void ProviderConfiguration::setAuthorizationEndpoint(const QUrl &url) { d->authorizationEndpoint = url; }
QUrl ProviderConfiguration::tokenEndpoint() const { return d->tokenEndpoint; }
void ProviderConfiguration::setTokenEndpoint(const QUrl &url) { d->tokenEndpoint = url; }
QUrl ProviderConfiguration::userInfoEndpoint() const { return d->userInfoEndpoint; }
void ProviderConfiguration::setUserInfoEndpoint(const QUrl &url) { d->userInfoEndpoint = url; }
QUrl ProviderConfiguration::jwksUri() const { return d->jwksUri; }
void ProviderConfiguration::setJwksUri(const QUrl &url) { d->jwksUri = url; }
QUrl ProviderConfiguration::revocationEndpoint() const { return d->revocationEndpoint; }
void ProviderConfiguration::setRevocationEndpoint(const QUrl &url) { d->revocationEndpoint = url; }
QUrl ProviderConfiguration::deviceAuthorizationEndpoint() const { return d->deviceAuthorizationEndpoint; }
void ProviderConfiguration::setDeviceAuthorizationEndpoint(const QUrl &url) { d->deviceAuthorizationEndpoint = url; }
QUrl ProviderConfiguration::endSessionEndpoint() const { return d->endSessionEndpoint; }
void ProviderConfiguration::setEndSessionEndpoint(const QUrl &url) { d->endSessionEndpoint = url; }
QUrl ProviderConfiguration::introspectionEndpoint() const { return d->introspectionEndpoint; }
void ProviderConfiguration::setIntrospectionEndpoint(const QUrl &url) { d->introspectionEndpoint = url; }
QUrl ProviderConfiguration::pushedAuthorizationRequestEndpoint() const { return d->pushedAuthorizationRequestEndpoint; }
void ProviderConfiguration::setPushedAuthorizationRequestEndpoint(const QUrl &url) { d->pushedAuthorizationRequestEndpoint = url; }
bool ProviderConfiguration::requiresPushedAuthorizationRequests() const { return d->requirePushedAuthorizationRequests; }
void ProviderConfiguration::setRequiresPushedAuthorizationRequests(bool required) { d->requirePushedAuthorizationRequests = required; }
QStringList ProviderConfiguration::scopesSupported() const { return d->scopesSupported; }
void ProviderConfiguration::setScopesSupported(const QStringList &scopes) { d->scopesSupported = scopes; }
QStringList ProviderConfiguration::responseTypesSupported() const { return d->responseTypesSupported; }
void ProviderConfiguration::setResponseTypesSupported(const QStringList &types) { d->responseTypesSupported = types; }
QStringList ProviderConfiguration::grantTypesSupported() const { return d->grantTypesSupported; }
void ProviderConfiguration::setGrantTypesSupported(const QStringList &types) { d->grantTypesSupported = types; }
QStringList ProviderConfiguration::dpopSigningAlgValuesSupported() const { return d->dpopSigningAlgValuesSupported; }
void ProviderConfiguration::setDpopSigningAlgValuesSupported(const QStringList &algorithms) { d->dpopSigningAlgValuesSupported = algorithms; }
QStringList ProviderConfiguration::codeChallengeMethodsSupported() const { return d->codeChallengeMethodsSupported; }
void ProviderConfiguration::setCodeChallengeMethodsSupported(const QStringList &methods) { d->codeChallengeMethodsSupported = methods; }
QStringList ProviderConfiguration::idTokenSigningAlgValuesSupported() const { return d->idTokenSigningAlgValuesSupported; }
void ProviderConfiguration::setIdTokenSigningAlgValuesSupported(const QStringList &algorithms) { d->idTokenSigningAlgValuesSupported = algorithms; }
QStringList ProviderConfiguration::tokenEndpointAuthMethodsSupported() const { return d->tokenEndpointAuthMethodsSupported; }
void ProviderConfiguration::setTokenEndpointAuthMethodsSupported(const QStringList &methods) { d->tokenEndpointAuthMethodsSupported = methods; }
bool ProviderConfiguration::isAuthorizationResponseIssParameterSupported() const { return d->issParameterSupported; }
void ProviderConfiguration::setAuthorizationResponseIssParameterSupported(bool supported) { d->issParameterSupported = supported; }

bool ProviderConfiguration::supportsOfflineAccess() const
{
    return d->scopesSupported.contains(QLatin1String("offline_access"));
}

bool ProviderConfiguration::isOpenIdProvider() const
{
    return !d->jwksUri.isEmpty()
        && (!d->idTokenSigningAlgValuesSupported.isEmpty() || d->scopesSupported.contains(QLatin1String("openid")));
}

QDateTime ProviderConfiguration::expiresAt() const { return d->expiresAt; }
void ProviderConfiguration::setExpiresAt(const QDateTime &expiresAt) { d->expiresAt = expiresAt.toUTC(); }
bool ProviderConfiguration::isStale(const QDateTime &now) const { return d->expiresAt.isValid() && d->expiresAt <= now; }

bool ProviderConfiguration::operator==(const ProviderConfiguration &other) const
{
    return d == other.d || *d == *other.d;
}

QDebug operator<<(QDebug debug, const ProviderConfiguration &configuration)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::ProviderConfiguration(issuer=" << issuerIdentifier(configuration.issuer())
                    << ", authorization=" << configuration.authorizationEndpoint().host()
                    << configuration.authorizationEndpoint().path()
                    << ", token=" << configuration.tokenEndpoint().host() << configuration.tokenEndpoint().path()
                    << ", openid=" << configuration.isOpenIdProvider() << ')';
    return debug;
}

} // namespace Keyloop
