// SPDX-License-Identifier: MIT
#include "profile.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QSslCertificate>

using Keyloop::Error;

namespace {

constexpr qint64 kMaxFileSize = 1024 * 1024;

Error invalid(const QString &message)
{
    return Error(Error::Code::InvalidConfiguration, message);
}

QJsonObject readObject(const QString &path, Error *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = invalid(QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return {};
    }
    if (file.size() > kMaxFileSize) {
        *error = invalid(QStringLiteral("%1 is larger than 1 MiB").arg(QDir::toNativeSeparators(path)));
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        *error = invalid(QStringLiteral("%1 is not a JSON object (%2)").arg(QDir::toNativeSeparators(path), parseError.errorString()));
        return {};
    }
    return doc.object();
}

QStringList strings(const QJsonValue &value)
{
    QStringList out;
    for (const QJsonValue &v : value.toArray())
        if (v.isString())
            out.append(v.toString());
    return out;
}

// A CA file for a provider with a private CA (the devstack over https): trusted for this
// profile only, never installed anywhere.
Error addCaFile(Keyloop::ClientConfiguration *client, const QString &caFile)
{
    if (caFile.isEmpty())
        return Error();
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(caFile, QSsl::Pem);
    if (certificates.isEmpty())
        return invalid(QStringLiteral("no PEM certificate in %1").arg(QDir::toNativeSeparators(caFile)));
    Keyloop::TransportOptions transport = client->transport();
    transport.setExtraCaCertificates(certificates);
    client->setTransport(transport);
    return Error();
}

} // namespace

QString DemoProfile::missing() const
{
    if (client.issuer().isEmpty())
        return QStringLiteral("an issuer");
    if (client.clientId().isEmpty())
        return QStringLiteral("a client id (register a desktop/native app at the provider)");
    if (needsClientSecret)
        return QStringLiteral("the client secret the provider issued to the desktop client");
    return QString();
}

DemoProfile DemoProfile::fromDevstack(const QString &devstackJson, Error *error)
{
    *error = Error();
    const QJsonObject json = readObject(devstackJson, error);
    if (*error)
        return {};
    DemoProfile p;
    p.name = QStringLiteral("Local devstack");
    p.notes = QStringLiteral("oidc-provider and a protected API on 127.0.0.1 (any user name and password work)");
    const QUrl issuer(json.value(QLatin1String("issuer")).toString());
    const QUrl api(json.value(QLatin1String("api")).toString());
    const QString resource = json.value(QLatin1String("apiResource")).toString();
    if (!issuer.isValid() || issuer.isEmpty() || !api.isValid() || api.isEmpty()) {
        *error = invalid(QStringLiteral("%1 has no issuer or api").arg(QDir::toNativeSeparators(devstackJson)));
        return {};
    }
    p.client.setIssuer(issuer);
    p.client.setClientId(json.value(QLatin1String("publicClientId")).toString());
    p.client.setScopes({QStringLiteral("openid"), QStringLiteral("profile"), QStringLiteral("email"),
                        QStringLiteral("offline_access"), QStringLiteral("api:read"), QStringLiteral("api:write")});
    p.client.setResources({resource});
    Keyloop::TransportOptions transport;
    // The devstack's --http mode (./scripts/demo): plain http, on loopback only, with the SDK's
    // explicit development opt-in. Over https it brings its own CA.
    transport.setAllowInsecureLoopbackForDevelopment(issuer.scheme() == QLatin1String("http"));
    p.client.setTransport(transport);
    if ((*error = addCaFile(&p.client, json.value(QLatin1String("caFile")).toString())))
        return {};
    ApiProfile apiProfile;
    apiProfile.resource = resource;
    apiProfile.locations = {api.resolved(QUrl(QStringLiteral("/api/")))};
    apiProfile.endpoints = {
        {QStringLiteral("Who am I"), "GET", api.resolved(QUrl(QStringLiteral("/api/me"))), {}},
        {QStringLiteral("List items"), "GET", api.resolved(QUrl(QStringLiteral("/api/items"))), {}},
        {QStringLiteral("Create item"), "POST", api.resolved(QUrl(QStringLiteral("/api/items"))),
         QByteArrayLiteral("{\"name\": \"Demo item\"}")},
    };
    p.apis = {apiProfile};
    return p;
}

DemoProfile DemoProfile::fromJson(const QJsonObject &json, const QString &baseDir, Error *error)
{
    *error = Error();
    DemoProfile p;
    p.name = json.value(QLatin1String("name")).toString();
    if (p.name.isEmpty()) {
        *error = invalid(QStringLiteral("a profile has no name"));
        return {};
    }
    p.notes = json.value(QLatin1String("notes")).toString();
    p.client.setIssuer(QUrl(json.value(QLatin1String("issuer")).toString()));
    p.client.setClientId(json.value(QLatin1String("clientId")).toString());
    const QString secret = json.value(QLatin1String("clientSecret")).toString();
    p.needsClientSecret = json.contains(QLatin1String("clientSecret")) && secret.isEmpty();
    if (!secret.isEmpty()) {
        p.client.setClientSecret(secret);
        p.client.setClientAuthMethod(json.value(QLatin1String("clientAuthMethod")).toString() == QLatin1String("basic")
                                         ? Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretBasic
                                         : Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretPost);
    }
    const QString host = json.value(QLatin1String("redirectHost")).toString(QStringLiteral("127.0.0.1"));
    if (host == QLatin1String("localhost"))
        p.client.setRedirectHost(Keyloop::RedirectHost::Localhost);
    else if (host == QLatin1String("[::1]") || host == QLatin1String("::1"))
        p.client.setRedirectHost(Keyloop::RedirectHost::Ipv6);
    else if (host != QLatin1String("127.0.0.1")) {
        *error = invalid(QStringLiteral("profile \"%1\": redirectHost must be 127.0.0.1, localhost or [::1]").arg(p.name));
        return {};
    }
    QList<quint16> ports;
    for (const QJsonValue &v : json.value(QLatin1String("redirectPorts")).toArray())
        if (v.toInt() > 0 && v.toInt() < 65536)
            ports.append(quint16(v.toInt()));
    p.client.setRedirectPorts(ports);
    const QStringList scopes = strings(json.value(QLatin1String("scopes")));
    if (!scopes.isEmpty())
        p.client.setScopes(scopes);
    p.client.setDpopEnabled(json.value(QLatin1String("dpop")).toBool(false)); // RFC 9449
    if (json.value(QLatin1String("offlineAccess")).toBool(true) == false)
        p.client.setOfflineAccess(Keyloop::ClientConfiguration::OfflineAccess::DoNotRequest);
    QList<QPair<QString, QString>> extra;
    const QJsonObject parameters = json.value(QLatin1String("additionalParameters")).toObject();
    for (auto it = parameters.begin(); it != parameters.end(); ++it)
        extra.append({it.key(), it.value().toString()});
    p.client.setAdditionalParameters(extra);
    Keyloop::TransportOptions transport;
    transport.setAllowInsecureLoopbackForDevelopment(json.value(QLatin1String("allowInsecureLoopback")).toBool(false));
    p.client.setTransport(transport);
    QString caFile = json.value(QLatin1String("caFile")).toString();
    if (!caFile.isEmpty() && QFileInfo(caFile).isRelative())
        caFile = QDir(baseDir).filePath(caFile);
    if ((*error = addCaFile(&p.client, caFile)))
        return {};

    QStringList resources;
    for (const QJsonValue &a : json.value(QLatin1String("apis")).toArray()) {
        const QJsonObject o = a.toObject();
        ApiProfile api;
        api.resource = o.value(QLatin1String("resource")).toString();
        for (const QString &l : strings(o.value(QLatin1String("locations"))))
            api.locations.append(QUrl(l));
        for (const QJsonValue &e : o.value(QLatin1String("endpoints")).toArray()) {
            const QJsonObject eo = e.toObject();
            ApiEndpoint endpoint;
            endpoint.label = eo.value(QLatin1String("label")).toString();
            endpoint.method = eo.value(QLatin1String("method")).toString(QStringLiteral("GET")).toUpper().toLatin1();
            endpoint.url = QUrl(eo.value(QLatin1String("url")).toString());
            if (eo.contains(QLatin1String("body")))
                endpoint.body = QJsonDocument(eo.value(QLatin1String("body")).toObject()).toJson(QJsonDocument::Compact);
            if (endpoint.label.isEmpty())
                endpoint.label = QString::fromLatin1(endpoint.method) + QLatin1Char(' ') + endpoint.url.path();
            api.endpoints.append(endpoint);
        }
        if (!api.resource.isEmpty())
            resources.append(api.resource);
        p.apis.append(api);
    }
    p.client.setResources(resources);
    return p;
}

QList<DemoProfile> DemoProfile::fromFile(const QString &path, Error *error)
{
    *error = Error();
    const QJsonObject json = readObject(path, error);
    if (*error)
        return {};
    QList<DemoProfile> out;
    const QString baseDir = QFileInfo(path).absolutePath();
    for (const QJsonValue &v : json.value(QLatin1String("profiles")).toArray()) {
        const DemoProfile p = fromJson(v.toObject(), baseDir, error);
        if (*error)
            return {};
        out.append(p);
    }
    return out;
}
