// SPDX-License-Identifier: MIT
#include "sessionsupport.h"

namespace KeyloopCli {

Keyloop::Error findAccount(const QCommandLineParser &parser, const QString &appId, Keyloop::AccountIndexEntry *entry)
{
    using Keyloop::Error;
    const QString account = accountSetting(parser);
    // Index entries hold the canonical issuer string (Keyloop::issuerIdentifier()).
    const QString issuer = canonicalIssuer(setting(parser, QStringLiteral("issuer"), "KEYLOOP_ISSUER"));
    const QString clientId = setting(parser, QStringLiteral("client-id"), "KEYLOOP_CLIENT_ID");

    Keyloop::AccountIndex index(appId);
    Error error;
    const QList<Keyloop::AccountIndexEntry> entries = index.entries(&error);
    if (error)
        return error;
    QList<Keyloop::AccountIndexEntry> matches;
    for (const Keyloop::AccountIndexEntry &e : entries) {
        if (e.account == account && (issuer.isEmpty() || e.issuer == issuer)
            && (clientId.isEmpty() || e.clientId == clientId))
            matches << e;
    }
    const QString who = account.isEmpty() ? QStringLiteral("the default account")
                                          : QStringLiteral("account \"%1\"").arg(account);
    if (matches.isEmpty()) {
        if (!issuer.isEmpty() && !clientId.isEmpty()) {
            // Not in the index (e.g. written by an app that keeps no index): try the keychain directly.
            *entry = Keyloop::AccountIndexEntry{issuer, clientId, account, QString(), QString(), QDateTime()};
            return Error();
        }
        return Error(Error::Code::NotFound,
                     QStringLiteral("no stored session for %1 (app id %2): run `keyloop login` first").arg(who, appId));
    }
    if (matches.size() > 1)
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("several stored sessions match %1: pass --issuer and --client-id").arg(who));
    *entry = matches.constFirst();
    return Error();
}

void addRedirectOptions(QCommandLineParser &p)
{
    p.addOption({QStringLiteral("redirect-host"),
                 QStringLiteral("Host of the loopback redirect URI: 127.0.0.1 (default), localhost or [::1]."),
                 QStringLiteral("H")});
    p.addOption({QStringLiteral("port"),
                 QStringLiteral("Fixed loopback port; repeat for a list tried in order (default: ephemeral)."),
                 QStringLiteral("N")});
}

QString applyRedirectOptions(const QCommandLineParser &p, Keyloop::ClientConfiguration *config)
{
    const QString host = p.value(QStringLiteral("redirect-host"));
    if (host.isEmpty() || host == QLatin1String("127.0.0.1"))
        config->setRedirectHost(Keyloop::RedirectHost::Ipv4);
    else if (host == QLatin1String("localhost"))
        config->setRedirectHost(Keyloop::RedirectHost::Localhost);
    else if (host == QLatin1String("[::1]") || host == QLatin1String("::1"))
        config->setRedirectHost(Keyloop::RedirectHost::Ipv6);
    else
        return QStringLiteral("--redirect-host must be 127.0.0.1, localhost or [::1]");

    QList<quint16> ports;
    for (const QString &value : p.values(QStringLiteral("port"))) {
        for (const QString &part : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            bool ok = false;
            const uint port = part.toUInt(&ok);
            if (!ok || port == 0 || port > 65535)
                return QStringLiteral("--port needs a number between 1 and 65535");
            ports << quint16(port);
        }
    }
    config->setRedirectPorts(ports);
    return QString();
}

} // namespace KeyloopCli
