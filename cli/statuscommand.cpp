// SPDX-License-Identifier: MIT
// keyloop status — list the stored sessions from the non-secret account index.
#include "commands.h"
#include "sessionsupport.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cstdio>

namespace KeyloopCli {
namespace {

class StatusCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("status"); }
    QString summary() const override { return QStringLiteral("List the stored sessions, without secrets"); }
    void addOptions(QCommandLineParser &p) override
    {
        p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of text.")});
    }
    void start() override
    {
        Keyloop::AccountIndex index(appId());
        Keyloop::Error error;
        const QList<Keyloop::AccountIndexEntry> entries = index.entries(&error);
        if (error)
            return fail(error, QStringLiteral("cannot read the account index"));
        if (parser().isSet(QStringLiteral("json"))) {
            QJsonArray array;
            for (const Keyloop::AccountIndexEntry &e : entries) {
                array.append(QJsonObject{{QStringLiteral("issuer"), e.issuer},
                                         {QStringLiteral("clientId"), e.clientId},
                                         {QStringLiteral("account"), e.account},
                                         {QStringLiteral("subject"), e.subject},
                                         {QStringLiteral("displayName"), e.displayName},
                                         {QStringLiteral("updatedAt"), e.updatedAt.toString(Qt::ISODate)}});
            }
            std::printf("%s", QJsonDocument(QJsonObject{{QStringLiteral("appId"), appId()},
                                                        {QStringLiteral("sessions"), array}})
                                  .toJson(QJsonDocument::Indented).constData());
            return succeed();
        }
        if (entries.isEmpty()) {
            std::printf("No stored sessions (app id %s).\n", qPrintable(appId()));
            return succeed();
        }
        std::printf("Stored sessions (app id %s):\n", qPrintable(appId()));
        for (const Keyloop::AccountIndexEntry &e : entries) {
            std::printf("- %s: %s%s at %s, client %s, updated %s\n",
                        e.account.isEmpty() ? "default account" : qPrintable(e.account),
                        qPrintable(e.displayName.isEmpty() ? e.subject : e.displayName),
                        e.displayName.isEmpty() ? "" : qPrintable(QStringLiteral(" (sub %1)").arg(e.subject)),
                        qPrintable(e.issuer), qPrintable(e.clientId), qPrintable(e.updatedAt.toString(Qt::ISODate)));
        }
        succeed();
    }
};

} // namespace

std::unique_ptr<Command> makeStatusCommand() { return std::make_unique<StatusCommand>(); }

} // namespace KeyloopCli
