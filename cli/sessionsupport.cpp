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

} // namespace KeyloopCli
