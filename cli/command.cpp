// SPDX-License-Identifier: MIT
#include "command.h"

#include <keyloop/issueridentifier.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtNetwork/QSslCertificate>

#include <cstdio>

#include <algorithm>

namespace KeyloopCli {

Command::Command(QObject *parent) : QObject(parent) {}

void Command::fail(int code, const QString &message)
{
    std::fprintf(stderr, "keyloop %s: %s\n", qPrintable(name()), qPrintable(message));
    finishWith(code);
}

void Command::fail(const Keyloop::Error &error, const QString &context)
{
    // Error messages are safe by construction: they never carry a secret.
    QString text = context.isEmpty() ? error.message() : context + QStringLiteral(": ") + error.message();
    if (error.isTransient())
        text += QStringLiteral(" (temporary; try again)");
    fail(exitCodeFor(error), text);
}

void Command::finishWith(int code)
{
    if (m_finished)
        return;
    m_finished = true;
    Q_EMIT finished(code);
}

void Command::watchSession(Keyloop::Session *session)
{
    m_sessions.append(session);
    connect(session, &Keyloop::Session::savingChanged, this, [this](bool saving) {
        if (!saving && !isSaving())
            Q_EMIT savingFinished();
    });
}

bool Command::isSaving() const
{
    return std::any_of(m_sessions.cbegin(), m_sessions.cend(),
                       [](const QPointer<Keyloop::Session> &s) { return s && s->isSaving(); });
}

static QStringList toStringList(const QJsonValue &value)
{
    QStringList out;
    const QJsonArray array = value.toArray();
    for (const QJsonValue &v : array)
        out << v.toString();
    return out;
}

QJsonObject RememberedSettings::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("issuer"), issuer);
    o.insert(QStringLiteral("clientId"), clientId);
    if (!clientSecret.isEmpty())
        o.insert(QStringLiteral("clientSecret"), clientSecret);
    if (!clientAuth.isEmpty())
        o.insert(QStringLiteral("clientAuth"), clientAuth);
    o.insert(QStringLiteral("scopes"), QJsonArray::fromStringList(scopes));
    o.insert(QStringLiteral("resources"), QJsonArray::fromStringList(resources));
    if (!caFile.isEmpty())
        o.insert(QStringLiteral("caFile"), caFile);
    o.insert(QStringLiteral("allowInsecureLoopback"), allowInsecureLoopback);
    if (dpop)
        o.insert(QStringLiteral("dpop"), true);
    if (!provider.isEmpty())
        o.insert(QStringLiteral("provider"), provider);
    return o;
}

RememberedSettings RememberedSettings::fromJson(const QJsonObject &o)
{
    RememberedSettings s;
    s.issuer = o.value(QStringLiteral("issuer")).toString();
    s.clientId = o.value(QStringLiteral("clientId")).toString();
    s.clientSecret = o.value(QStringLiteral("clientSecret")).toString();
    s.clientAuth = o.value(QStringLiteral("clientAuth")).toString();
    s.scopes = toStringList(o.value(QStringLiteral("scopes")));
    s.resources = toStringList(o.value(QStringLiteral("resources")));
    s.caFile = o.value(QStringLiteral("caFile")).toString();
    s.allowInsecureLoopback = o.value(QStringLiteral("allowInsecureLoopback")).toBool();
    s.dpop = o.value(QStringLiteral("dpop")).toBool();
    s.provider = o.value(QStringLiteral("provider")).toObject();
    return s;
}

QString setting(const QCommandLineParser &parser, const QString &option, const char *envVar,
                const QString &stored)
{
    if (parser.isSet(option))
        return parser.value(option);
    if (envVar && qEnvironmentVariableIsSet(envVar))
        return qEnvironmentVariable(envVar);
    return stored;
}

QStringList listSetting(const QCommandLineParser &parser, const QString &option, const char *envVar,
                        const QStringList &stored)
{
    if (parser.isSet(option)) {
        QStringList out;
        for (const QString &v : parser.values(option))
            out << v.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        return out;
    }
    if (envVar && qEnvironmentVariableIsSet(envVar))
        return qEnvironmentVariable(envVar).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    return stored;
}

bool flagSetting(const QCommandLineParser &parser, const QString &option, const char *envVar, bool stored)
{
    if (parser.isSet(option))
        return true;
    if (envVar && qEnvironmentVariableIsSet(envVar)) {
        const QString v = qEnvironmentVariable(envVar).toLower();
        return v == QLatin1String("1") || v == QLatin1String("true") || v == QLatin1String("yes");
    }
    return stored;
}

QString accountSetting(const QCommandLineParser &parser)
{
    return setting(parser, QStringLiteral("account"), "KEYLOOP_ACCOUNT");
}

QString canonicalIssuer(const QString &text)
{
    const QUrl url(text); // as buildClientConfiguration() reads it
    return text.isEmpty() || !url.isValid() ? text : Keyloop::issuerIdentifier(url);
}

void addClientOptions(QCommandLineParser &parser, ClientCommand command)
{
    const bool forLogin = command == ClientCommand::Login;
    parser.addOption({QStringLiteral("account"),
                      QStringLiteral("Account name, to keep several sessions apart (KEYLOOP_ACCOUNT; default: the default account)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("issuer"),
                      forLogin ? QStringLiteral("The provider's issuer URL (KEYLOOP_ISSUER). Required.")
                               : QStringLiteral("Issuer URL (KEYLOOP_ISSUER; default: remembered by login)."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("client-id"),
                      QStringLiteral("OAuth client_id (KEYLOOP_CLIENT_ID).") + (forLogin ? QString() : QStringLiteral(" Default: remembered.")),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("client-secret"),
                      QStringLiteral("Client secret for installed-app registrations that require one (KEYLOOP_CLIENT_SECRET). "
                                     "Not really secret in a desktop app; sent with client_secret_basic. "
                                     "Visible to other local users in the process list: prefer --client-secret-file "
                                     "or KEYLOOP_CLIENT_SECRET."),
                      QStringLiteral("S")});
    parser.addOption({QStringLiteral("client-secret-file"),
                      QStringLiteral("Read the client secret from FILE (one line; a final line break is ignored). "
                                     "Keep FILE readable by you only."),
                      QStringLiteral("FILE")});
    if (forLogin) {
        parser.addOption({QStringLiteral("scope"),
                          QStringLiteral("Scopes, space-separated or repeated (KEYLOOP_SCOPE; default \"openid profile email\" "
                                         "plus offline_access when the provider supports it)."),
                          QStringLiteral("S")});
    }
    parser.addOption({QStringLiteral("resource"),
                      QStringLiteral("Resource indicator (RFC 8707) of an API; repeatable (KEYLOOP_RESOURCE)."),
                      QStringLiteral("URI")});
    parser.addOption({QStringLiteral("ca-file"),
                      QStringLiteral("Extra trusted CA certificates (PEM) for the provider's TLS (KEYLOOP_CA_FILE)."),
                      QStringLiteral("PEM")});
    parser.addOption({QStringLiteral("allow-insecure-loopback"),
                      QStringLiteral("Development only: allow plain http for a provider on 127.0.0.1/::1/localhost "
                                     "(KEYLOOP_ALLOW_INSECURE_LOOPBACK=1). Never allows http elsewhere.")});
}

namespace {

// --client-secret-file: a command line is visible to every local user (ps, /proc/PID/cmdline),
// a file readable only by its owner is not. The error names the file, never its content.
Keyloop::Error readSecretFile(const QString &path, QString *secret)
{
    using Keyloop::Error;
    constexpr qint64 kMaxSize = 64 * 1024;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("cannot read the client secret file %1").arg(path));
    QByteArray content = file.read(kMaxSize + 1);
    if (content.size() > kMaxSize)
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("the client secret file %1 is too large").arg(path));
    while (content.endsWith('\n') || content.endsWith('\r'))
        content.chop(1);
    if (content.isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("the client secret file %1 is empty").arg(path));
    if (content.contains('\n') || content.contains('\r'))
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("the client secret file %1 must hold the secret on one line").arg(path));
    *secret = QString::fromUtf8(content);
    return Error();
}

} // namespace

Keyloop::Error resolveSettings(const QCommandLineParser &parser, ClientCommand command,
                               const RememberedSettings &stored, RememberedSettings *out)
{
    using Keyloop::Error;
    RememberedSettings s = stored;
    s.issuer = canonicalIssuer(setting(parser, QStringLiteral("issuer"), "KEYLOOP_ISSUER", stored.issuer));
    s.clientId = setting(parser, QStringLiteral("client-id"), "KEYLOOP_CLIENT_ID", stored.clientId);
    const QString secretFile = QStringLiteral("client-secret-file");
    if (parser.isSet(secretFile)) {
        if (parser.isSet(QStringLiteral("client-secret")))
            return Error(Error::Code::InvalidConfiguration,
                         QStringLiteral("give --client-secret or --client-secret-file, not both"));
        if (const Error e = readSecretFile(parser.value(secretFile), &s.clientSecret))
            return e;
    } else {
        s.clientSecret = setting(parser, QStringLiteral("client-secret"), "KEYLOOP_CLIENT_SECRET", stored.clientSecret);
    }
    if (!s.clientSecret.isEmpty() && s.clientAuth.isEmpty())
        s.clientAuth = QStringLiteral("client_secret_basic");
    // token keeps the scopes granted at login (KEYLOOP_SCOPE is for login only, like --scope).
    if (command == ClientCommand::Login)
        s.scopes = listSetting(parser, QStringLiteral("scope"), "KEYLOOP_SCOPE", stored.scopes);
    s.resources = listSetting(parser, QStringLiteral("resource"), "KEYLOOP_RESOURCE", stored.resources);
    s.caFile = setting(parser, QStringLiteral("ca-file"), "KEYLOOP_CA_FILE", stored.caFile);
    s.allowInsecureLoopback = flagSetting(parser, QStringLiteral("allow-insecure-loopback"),
                                          "KEYLOOP_ALLOW_INSECURE_LOOPBACK", stored.allowInsecureLoopback);
    // DPoP is chosen at login; later commands use the key stored with the session (RFC 9449).
    s.dpop = command == ClientCommand::Login ? flagSetting(parser, QStringLiteral("dpop"), "KEYLOOP_DPOP", stored.dpop)
                                             : stored.dpop;
    // Remembered endpoints belong to the remembered issuer only (older versions remembered the
    // issuer as typed: compare canonical forms).
    if (s.issuer != canonicalIssuer(stored.issuer))
        s.provider = QJsonObject();
    *out = s;
    return Error();
}

Keyloop::Error buildClientConfiguration(const RememberedSettings &s, Keyloop::ClientConfiguration *out)
{
    using Keyloop::Error;
    Keyloop::ClientConfiguration c;
    if (s.issuer.isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("no issuer: pass --issuer URL or set KEYLOOP_ISSUER"));
    if (s.clientId.isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("no client id: pass --client-id ID or set KEYLOOP_CLIENT_ID"));
    c.setIssuer(QUrl(s.issuer));
    c.setClientId(s.clientId);
    if (!s.clientSecret.isEmpty()) {
        c.setClientSecret(s.clientSecret);
        c.setClientAuthMethod(s.clientAuth == QLatin1String("client_secret_post")
                                  ? Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretPost
                                  : Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
    }
    if (!s.scopes.isEmpty())
        c.setScopes(s.scopes);
    c.setResources(s.resources);
    c.setDpopEnabled(s.dpop);
    Keyloop::TransportOptions transport = c.transport();
    transport.setAllowInsecureLoopbackForDevelopment(s.allowInsecureLoopback);
    if (!s.caFile.isEmpty()) {
        QFile f(s.caFile);
        if (!f.open(QIODevice::ReadOnly))
            return Error(Error::Code::InvalidConfiguration, QStringLiteral("cannot read the CA file %1").arg(s.caFile));
        const QList<QSslCertificate> certs = QSslCertificate::fromData(f.readAll(), QSsl::Pem);
        if (certs.isEmpty())
            return Error(Error::Code::InvalidConfiguration, QStringLiteral("no PEM certificate in %1").arg(s.caFile));
        transport.setExtraCaCertificates(certs);
    }
    c.setTransport(transport);
    *out = c;
    return Error();
}

} // namespace KeyloopCli
