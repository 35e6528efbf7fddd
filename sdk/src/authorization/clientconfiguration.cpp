// SPDX-License-Identifier: MIT
#include <keyloop/clientconfiguration.h>

#include <keyloop/issueridentifier.h>

#include "network/httpexchange_p.h"

#include <QtCore/QDebug>

namespace Keyloop {

class ClientConfigurationPrivate : public QSharedData
{
public:
    QUrl issuer;
    QString clientId;
    QString clientSecret;
    ClientConfiguration::ClientAuthMethod authMethod = ClientConfiguration::ClientAuthMethod::None;
    QStringList scopes{QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("email")};
    QStringList resources;
    ClientConfiguration::OfflineAccess offlineAccess = ClientConfiguration::OfflineAccess::RequestWhenSupported;
    RedirectHost redirectHost = RedirectHost::Ipv4;
    QList<quint16> redirectPorts;
    QString redirectPath = QStringLiteral("/callback");
    TransportOptions transport;
    ProviderConfiguration provider;
    QString prompt;
    QString loginHint;
    std::optional<std::chrono::seconds> maxAge;
    QStringList acrValues;
    QList<QPair<QString, QString>> additionalParameters;
    std::chrono::seconds loginTimeout{300};
    ClientConfiguration::PushedAuthorizationRequests pushedAuthorizationRequests =
        ClientConfiguration::PushedAuthorizationRequests::WhenRequired;
    bool dpop = false;
    QUrl successRedirectUrl;
    QUrl failureRedirectUrl;
    QStringList idTokenAlgorithms{QStringLiteral("RS256"), QStringLiteral("RS384"), QStringLiteral("RS512"),
                                  QStringLiteral("PS256"), QStringLiteral("PS384"), QStringLiteral("PS512"),
                                  QStringLiteral("ES256"), QStringLiteral("ES384"), QStringLiteral("ES512"),
                                  QStringLiteral("EdDSA")};
    std::chrono::seconds clockLeeway{60};
};

ClientConfiguration::ClientConfiguration() : d(new ClientConfigurationPrivate) {}
ClientConfiguration::ClientConfiguration(const ClientConfiguration &other) = default;
ClientConfiguration::ClientConfiguration(ClientConfiguration &&other) noexcept = default;
ClientConfiguration &ClientConfiguration::operator=(const ClientConfiguration &other) = default;
ClientConfiguration &ClientConfiguration::operator=(ClientConfiguration &&other) noexcept = default;
ClientConfiguration::~ClientConfiguration() = default;

namespace {
Error invalid(const QString &message)
{
    return Error(Error::Code::InvalidConfiguration, message);
}
} // namespace

Error ClientConfiguration::validate() const
{
    if (d->issuer.isEmpty() && d->provider.isNull())
        return invalid(QStringLiteral("the issuer is not set"));
    if (!d->issuer.isEmpty()) {
        if (const Error e = checkEndpointUrl(d->issuer, d->transport, QStringLiteral("issuer")))
            return e;
        if (d->issuer.hasQuery())
            return invalid(QStringLiteral("issuer must not have a query component (OIDC Discovery §2)"));
    }
    if (d->clientId.isEmpty())
        return invalid(QStringLiteral("the client id is not set (RFC 6749 §2.2)"));
    switch (d->authMethod) {
    case ClientAuthMethod::None:
        if (!d->clientSecret.isEmpty())
            return invalid(QStringLiteral("a client secret is set but the client authentication method is none; "
                                          "choose client_secret_basic or client_secret_post"));
        break;
    case ClientAuthMethod::ClientSecretBasic:
    case ClientAuthMethod::ClientSecretPost:
        if (d->clientSecret.isEmpty())
            return invalid(QStringLiteral("the client authentication method needs a client secret (RFC 6749 §2.3.1)"));
        break;
    }
    if (d->scopes.isEmpty())
        return invalid(QStringLiteral("no scope is requested"));
    for (const QString &scope : d->scopes) {
        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        if (scope.isEmpty())
            return invalid(QStringLiteral("a scope is empty"));
        for (const QChar c : scope) {
            const ushort u = c.unicode();
            if (u < 0x21 || u > 0x7e || u == 0x22 || u == 0x5c)
                return invalid(QStringLiteral("a scope contains a character RFC 6749 §3.3 does not allow"));
        }
    }
    for (const QString &resource : d->resources) {
        // RFC 8707 §2: an absolute URI without a fragment.
        const QUrl url(resource, QUrl::StrictMode);
        if (!url.isValid() || url.isRelative() || url.hasFragment())
            return invalid(QStringLiteral("a resource indicator is not an absolute URI without fragment (RFC 8707 §2)"));
    }
    if (!d->redirectPath.startsWith(QLatin1Char('/')))
        return invalid(QStringLiteral("the redirect path must start with \"/\""));
    if (d->redirectPorts.contains(quint16(0)) && d->redirectPorts.size() > 1)
        return invalid(QStringLiteral("port 0 (ephemeral) cannot be combined with fixed redirect ports"));
    if (d->loginTimeout.count() <= 0)
        return invalid(QStringLiteral("the login timeout must be positive"));
    if (d->clockLeeway.count() < 0)
        return invalid(QStringLiteral("the clock leeway must not be negative"));
    if (d->maxAge && d->maxAge->count() < 0)
        return invalid(QStringLiteral("max_age must not be negative (OIDC Core §3.1.2.1)"));
    if (d->idTokenAlgorithms.isEmpty())
        return invalid(QStringLiteral("no ID-token signature algorithm is allowed"));
    for (const QString &alg : d->idTokenAlgorithms) {
        if (alg.compare(QLatin1String("none"), Qt::CaseInsensitive) == 0 || alg.startsWith(QLatin1String("HS")))
            return invalid(QStringLiteral("ID-token algorithms must be asymmetric (no \"none\", no HS*)"));
    }
    for (const auto &parameter : d->additionalParameters) {
        if (parameter.first.isEmpty())
            return invalid(QStringLiteral("an additional parameter has an empty name"));
    }
    if (!d->provider.isNull()) {
        if (const Error e = d->provider.validate(d->transport))
            return e;
        // OIDC Discovery §4.3: the same issuer, compared as the one canonical string.
        if (!d->issuer.isEmpty() && issuerIdentifier(d->provider.issuer()) != issuerIdentifier(d->issuer))
            return invalid(QStringLiteral("the provider configuration's issuer is not the client's issuer"));
    }
    return {};
}

QUrl ClientConfiguration::issuer() const { return d->issuer; }
void ClientConfiguration::setIssuer(const QUrl &issuer) { d->issuer = issuer; }
QString ClientConfiguration::clientId() const { return d->clientId; }
void ClientConfiguration::setClientId(const QString &clientId) { d->clientId = clientId; }
QString ClientConfiguration::clientSecret() const { return d->clientSecret; }
void ClientConfiguration::setClientSecret(const QString &secret) { d->clientSecret = secret; }
ClientConfiguration::ClientAuthMethod ClientConfiguration::clientAuthMethod() const { return d->authMethod; }
void ClientConfiguration::setClientAuthMethod(ClientAuthMethod method) { d->authMethod = method; }
QStringList ClientConfiguration::scopes() const { return d->scopes; }
void ClientConfiguration::setScopes(const QStringList &scopes) { d->scopes = scopes; }
QStringList ClientConfiguration::resources() const { return d->resources; }
void ClientConfiguration::setResources(const QStringList &resources) { d->resources = resources; }
ClientConfiguration::OfflineAccess ClientConfiguration::offlineAccess() const { return d->offlineAccess; }
void ClientConfiguration::setOfflineAccess(OfflineAccess offlineAccess) { d->offlineAccess = offlineAccess; }
RedirectHost ClientConfiguration::redirectHost() const { return d->redirectHost; }
void ClientConfiguration::setRedirectHost(RedirectHost host) { d->redirectHost = host; }
QList<quint16> ClientConfiguration::redirectPorts() const { return d->redirectPorts; }
void ClientConfiguration::setRedirectPorts(const QList<quint16> &ports) { d->redirectPorts = ports; }
QString ClientConfiguration::redirectPath() const { return d->redirectPath; }
void ClientConfiguration::setRedirectPath(const QString &path) { d->redirectPath = path; }
TransportOptions ClientConfiguration::transport() const { return d->transport; }
void ClientConfiguration::setTransport(const TransportOptions &transport) { d->transport = transport; }
ProviderConfiguration ClientConfiguration::providerConfiguration() const { return d->provider; }
void ClientConfiguration::setProviderConfiguration(const ProviderConfiguration &configuration) { d->provider = configuration; }
bool ClientConfiguration::hasProviderConfiguration() const { return !d->provider.isNull(); }
QString ClientConfiguration::prompt() const { return d->prompt; }
void ClientConfiguration::setPrompt(const QString &prompt) { d->prompt = prompt; }
QString ClientConfiguration::loginHint() const { return d->loginHint; }
void ClientConfiguration::setLoginHint(const QString &hint) { d->loginHint = hint; }
std::optional<std::chrono::seconds> ClientConfiguration::maxAge() const { return d->maxAge; }
void ClientConfiguration::setMaxAge(std::optional<std::chrono::seconds> maxAge) { d->maxAge = maxAge; }
QStringList ClientConfiguration::acrValues() const { return d->acrValues; }
void ClientConfiguration::setAcrValues(const QStringList &values) { d->acrValues = values; }
QList<QPair<QString, QString>> ClientConfiguration::additionalParameters() const { return d->additionalParameters; }
void ClientConfiguration::setAdditionalParameters(const QList<QPair<QString, QString>> &parameters) { d->additionalParameters = parameters; }
bool ClientConfiguration::isDpopEnabled() const { return d->dpop; }
void ClientConfiguration::setDpopEnabled(bool enabled) { d->dpop = enabled; }
ClientConfiguration::PushedAuthorizationRequests ClientConfiguration::pushedAuthorizationRequests() const { return d->pushedAuthorizationRequests; }
void ClientConfiguration::setPushedAuthorizationRequests(PushedAuthorizationRequests usage) { d->pushedAuthorizationRequests = usage; }
std::chrono::seconds ClientConfiguration::loginTimeout() const { return d->loginTimeout; }
void ClientConfiguration::setLoginTimeout(std::chrono::seconds timeout) { d->loginTimeout = timeout; }
QUrl ClientConfiguration::successRedirectUrl() const { return d->successRedirectUrl; }
void ClientConfiguration::setSuccessRedirectUrl(const QUrl &url) { d->successRedirectUrl = url; }
QUrl ClientConfiguration::failureRedirectUrl() const { return d->failureRedirectUrl; }
void ClientConfiguration::setFailureRedirectUrl(const QUrl &url) { d->failureRedirectUrl = url; }
QStringList ClientConfiguration::idTokenAlgorithms() const { return d->idTokenAlgorithms; }
void ClientConfiguration::setIdTokenAlgorithms(const QStringList &algorithms) { d->idTokenAlgorithms = algorithms; }
std::chrono::seconds ClientConfiguration::clockLeeway() const { return d->clockLeeway; }
void ClientConfiguration::setClockLeeway(std::chrono::seconds leeway) { d->clockLeeway = leeway; }

bool ClientConfiguration::operator==(const ClientConfiguration &other) const
{
    if (d == other.d)
        return true;
    const ClientConfigurationPrivate &a = *d;
    const ClientConfigurationPrivate &b = *other.d;
    // TransportOptions has no operator==; compare what it exposes.
    const bool sameTransport = a.transport.allowsInsecureLoopbackForDevelopment() == b.transport.allowsInsecureLoopbackForDevelopment()
        && a.transport.extraCaCertificates() == b.transport.extraCaCertificates()
        && a.transport.requestTimeout() == b.transport.requestTimeout()
        && a.transport.maxResponseSize() == b.transport.maxResponseSize();
    return sameTransport && a.issuer == b.issuer && a.clientId == b.clientId && a.clientSecret == b.clientSecret
        && a.authMethod == b.authMethod && a.scopes == b.scopes && a.resources == b.resources
        && a.offlineAccess == b.offlineAccess && a.redirectHost == b.redirectHost
        && a.redirectPorts == b.redirectPorts && a.redirectPath == b.redirectPath && a.provider == b.provider
        && a.prompt == b.prompt && a.loginHint == b.loginHint && a.maxAge == b.maxAge
        && a.acrValues == b.acrValues && a.additionalParameters == b.additionalParameters
        && a.loginTimeout == b.loginTimeout && a.pushedAuthorizationRequests == b.pushedAuthorizationRequests
        && a.dpop == b.dpop
        && a.successRedirectUrl == b.successRedirectUrl
        && a.failureRedirectUrl == b.failureRedirectUrl && a.idTokenAlgorithms == b.idTokenAlgorithms
        && a.clockLeeway == b.clockLeeway;
}

QDebug operator<<(QDebug debug, const ClientConfiguration &configuration)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::ClientConfiguration(issuer=" << issuerIdentifier(configuration.issuer())
                    << ", clientId=" << configuration.clientId()
                    << ", clientSecret=" << (configuration.clientSecret().isEmpty() ? "<none>" : "<redacted>")
                    << ", scopes=" << configuration.scopes().join(QLatin1Char(' ')) << ')';
    return debug;
}

} // namespace Keyloop
