// SPDX-License-Identifier: MIT
// keyloop status — list the stored sessions from the non-secret account index.
#include "commands.h"
#include "sessionsupport.h"
#include "terminaltext.h"

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
            // The same values, with what a terminal could act on written as \u escapes.
            std::printf("%s", terminalSafeJson(QJsonDocument(QJsonObject{{QStringLiteral("appId"), appId()},
                                                                         {QStringLiteral("sessions"), array}})
                                                   .toJson(QJsonDocument::Indented))
                                  .constData());
            return succeed();
        }
        if (entries.isEmpty()) {
            std::printf("No stored sessions (app id %s).\n", qPrintable(appId()));
            return succeed();
        }
        std::printf("Stored sessions (app id %s):\n", qPrintable(appId()));
        for (const Keyloop::AccountIndexEntry &e : entries) {
            // Display names and subjects come from ID tokens: only printable characters.
            const QString subject = printableText(e.subject);
            const QString who = e.displayName.isEmpty()
                ? subject
                : QStringLiteral("%1 (sub %2)").arg(printableText(e.displayName), subject);
            std::printf("- %s: %s at %s, client %s, updated %s\n",
                        e.account.isEmpty() ? "default account" : qPrintable(printableText(e.account)),
                        qPrintable(who), qPrintable(printableText(e.issuer)), qPrintable(printableText(e.clientId)),
                        qPrintable(e.updatedAt.toString(Qt::ISODate)));
        }
        succeed();
    }
};

} // namespace

std::unique_ptr<Command> makeStatusCommand() { return std::make_unique<StatusCommand>(); }

} // namespace KeyloopCli
