// SPDX-License-Identifier: MIT
// keyloop token — print exactly a fresh access token and a newline, refreshing silently.
#include "commands.h"

#include <keyloop/session.h>

#include <cstdio>

namespace KeyloopCli {
namespace {

class TokenCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("token"); }
    QString summary() const override
    {
        return QStringLiteral("Print a fresh access token and a newline, refreshing silently");
    }
    void addOptions(QCommandLineParser &p) override { addClientOptions(p, ClientCommand::Token); }
    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Only the token goes to stdout. To call an API, `keyloop call URL` sends it for you (and\n"
            "refreshes and retries once when the API rejects it). A token on a command line is visible\n"
            "to other local users: give it to other tools through a pipe, e.g. curl reads headers from\n"
            "stdin:  keyloop token | sed 's/^/Authorization: Bearer /' | curl -H @- https://api.example.com/items\n"
            "Without --resource, the token is for the first resource given at login, or for the provider\n"
            "itself (UserInfo) when login named none. Several processes may run it at once: only one\n"
            "refreshes, the others use its result.\n");
    }

    void start() override
    {
        restoreStoredSession([this](Keyloop::Session *session, const RememberedSettings &settings) {
            // Default: the first resource named at login (the API), else the provider's own token.
            session->freshAccessToken(settings.resources.value(0), this, [this](const QByteArray &token, const Keyloop::Error &e) {
                if (e)
                    return fail(e, e.requiresSignIn() ? QStringLiteral("sign in again with `keyloop login`")
                                                      : QStringLiteral("no fresh access token"));
                std::fwrite(token.constData(), 1, size_t(token.size()), stdout);
                std::fputc('\n', stdout);
                std::fflush(stdout);
                succeed();
            });
        });
    }
};

} // namespace

std::unique_ptr<Command> makeTokenCommand() { return std::make_unique<TokenCommand>(); }

} // namespace KeyloopCli
