// SPDX-License-Identifier: MIT
// ProviderConfiguration::toJson — the inverse of fromJson, using the RFC 8414 / OIDC Discovery
// wire names, so that an app (or the CLI) can keep discovered metadata with a session.
#include <keyloop/providerconfiguration.h>

#include <keyloop/issueridentifier.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace Keyloop {

QByteArray ProviderConfiguration::toJson() const
{
    QJsonObject o;
    const auto putUrl = [&o](const char *name, const QUrl &url) {
        if (!url.isEmpty())
            o.insert(QLatin1String(name), url.toString(QUrl::FullyEncoded));
    };
    const auto putList = [&o](const char *name, const QStringList &list) {
        if (!list.isEmpty())
            o.insert(QLatin1String(name), QJsonArray::fromStringList(list));
    };
    o.insert(QStringLiteral("issuer"), issuerIdentifier(issuer()));
    putUrl("authorization_endpoint", authorizationEndpoint());
    putUrl("token_endpoint", tokenEndpoint());
    putUrl("userinfo_endpoint", userInfoEndpoint());
    putUrl("jwks_uri", jwksUri());
    putUrl("revocation_endpoint", revocationEndpoint());
    putUrl("end_session_endpoint", endSessionEndpoint());
    putUrl("introspection_endpoint", introspectionEndpoint());
    putUrl("device_authorization_endpoint", deviceAuthorizationEndpoint());
    putUrl("pushed_authorization_request_endpoint", pushedAuthorizationRequestEndpoint());
    putList("scopes_supported", scopesSupported());
    putList("response_types_supported", responseTypesSupported());
    putList("grant_types_supported", grantTypesSupported());
    putList("code_challenge_methods_supported", codeChallengeMethodsSupported());
    putList("id_token_signing_alg_values_supported", idTokenSigningAlgValuesSupported());
    putList("token_endpoint_auth_methods_supported", tokenEndpointAuthMethodsSupported());
    putList("dpop_signing_alg_values_supported", dpopSigningAlgValuesSupported());
    if (isAuthorizationResponseIssParameterSupported())
        o.insert(QStringLiteral("authorization_response_iss_parameter_supported"), true);
    if (requiresPushedAuthorizationRequests())
        o.insert(QStringLiteral("require_pushed_authorization_requests"), true);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace Keyloop
