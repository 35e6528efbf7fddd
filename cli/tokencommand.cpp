// SPDX-License-Identifier: MIT
// keyloop token — print exactly a fresh access token and a newline, refreshing silently; or, with
// --json, the token with its type, expiry and resource; or, with --exec-credential, a fresh ID
// token as kubectl's ExecCredential (a client-go credential plugin).
#include "commands.h"
#include "tokenoutput.h"

#include <keyloop/session.h>

#include <cstdio>

namespace KeyloopCli {
namespace {

void print(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

class TokenCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("token"); }
    QString summary() const override
    {
        return QStringLiteral("Print a fresh access token and a newline, refreshing silently");
    }
    void addOptions(QCommandLineParser &p) override
    {
        addClientOptions(p, ClientCommand::Token);
        p.addOption({QStringLiteral("json"),
                     QStringLiteral("Print a JSON object instead: access_token, token_type, expires_at (RFC 3339, "
                                    "UTC), expires_in and resource.")});
        p.addOption({QStringLiteral("exec-credential"),
                     QStringLiteral("Print a fresh ID token as a Kubernetes ExecCredential, for kubectl's "
                                    "users[].user.exec (a client-go credential plugin).")});
    }
    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Only the token goes to stdout. To call an API, `keyloop call URL` sends it for you (and\n"
            "refreshes and retries once when the API rejects it). A token on a command line is visible\n"
            "to other local users: give it to other tools through a pipe, e.g. curl reads headers from\n"
            "stdin:  keyloop token | sed 's/^/Authorization: Bearer /' | curl -H @- https://api.example.com/items\n"
            "Without --resource, the token is for the first resource given at login, or for the provider\n"
            "itself (UserInfo) when login named none. Several processes may run it at once: only one\n"
            "refreshes, the others use its result.\n"
            "A session signed in with --dpop prints its token too, but the token is bound to the key in the\n"
            "keychain: an API refuses it without a proof of that key (`--json` shows token_type DPoP).\n"
            "Use `keyloop call` for such sessions.\n"
            "\n"
            "--json prints one line:\n"
            "  {\"access_token\":\"...\",\"expires_at\":\"2026-01-31T09:12:44Z\",\"expires_in\":3587,\n"
            "   \"resource\":\"https://api.example.com\",\"token_type\":\"Bearer\"}\n"
            "(expires_at and expires_in are null when the provider gave no expiry, resource is null for\n"
            "the provider's own token.)\n"
            "\n"
            "--exec-credential prints the session's ID token (its aud holds the client id, which is what\n"
            "the Kubernetes API server's OIDC authenticator checks), refreshed first when it expires within\n"
            "the refresh lead time (a minute, or half its lifetime when shorter) or is missing, as\n"
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\n"
            "\"status\":{\"token\":\"...\",\"expirationTimestamp\":\"...\"}}, in the apiVersion that kubectl asks for\n"
            "in KUBERNETES_EXEC_INFO (v1 or v1beta1). It never prompts. In the kubeconfig:\n"
            "  users:\n"
            "  - name: me\n"
            "    user:\n"
            "      exec:\n"
            "        apiVersion: client.authentication.k8s.io/v1\n"
            "        command: keyloop\n"
            "        args: [token, --exec-credential]\n"
            "        interactiveMode: Never\n"
            "A session whose tokens are bound to a key (DPoP) cannot be used so: exit code 2.\n");
    }

    void start() override
    {
        const bool json = parser().isSet(QStringLiteral("json"));
        const bool execCredential = parser().isSet(QStringLiteral("exec-credential"));
        if (json && execCredential)
            return fail(ExitUsage, QStringLiteral("give --json or --exec-credential, not both"));
        if (execCredential && parser().isSet(QStringLiteral("resource")))
            return fail(ExitUsage, QStringLiteral("--exec-credential prints the ID token, which is for no resource: "
                                                  "drop --resource"));
        QString apiVersion;
        if (execCredential) {
            // Before the keychain: a kubeconfig asking for another version is a usage error.
            QString problem;
            if (!execCredentialVersion(qgetenv("KUBERNETES_EXEC_INFO"), &apiVersion, &problem))
                return fail(ExitUsage, problem);
        }
        restoreStoredSession([this, json, execCredential, apiVersion](Keyloop::Session *session,
                                                                      const RememberedSettings &settings) {
            if (execCredential)
                return printExecCredential(session, apiVersion);
            // Default: the first resource named at login (the API), else the provider's own token.
            const QString resource = settings.resources.value(0);
            session->freshAccessToken(resource, this, [this, session, resource, json](const QByteArray &token,
                                                                                     const Keyloop::Error &e) {
                if (e)
                    return fail(e, e.requiresSignIn() ? QStringLiteral("sign in again with `keyloop login`")
                                                      : QStringLiteral("no fresh access token"));
                if (!json) {
                    print(token + '\n');
                    return succeed();
                }
                // The record holds what the token response said about this token (type, expiry).
                print(accessTokenJson(token, session->record().accessToken(resource), resource,
                                      session->clock()->dateTime()));
                succeed();
            });
        });
    }

private:
    void printExecCredential(Keyloop::Session *session, const QString &apiVersion)
    {
        // A key-bound (DPoP, RFC 9449) session: its refresh needs a proof of the key, and whoever
        // holds such tokens is expected to prove possession. kubectl cannot; refuse rather than
        // hand out a credential from it. Token types compare case-insensitively (RFC 6749 §5.1).
        if (hasKeyBoundTokens(session->record()))
            return fail(ExitUsage, QStringLiteral("this session's tokens are bound to a key (DPoP, RFC 9449), which "
                                                  "kubectl cannot prove: --exec-credential needs a session signed in "
                                                  "without DPoP"));
        session->freshIdToken(this, [this, apiVersion](const QByteArray &idToken, const Keyloop::Error &e) {
            if (e)
                return fail(e, e.requiresSignIn() ? QStringLiteral("sign in again with `keyloop login`")
                                                  : QStringLiteral("no fresh ID token"));
            print(execCredentialJson(apiVersion, idToken));
            succeed();
        });
    }
};

} // namespace

std::unique_ptr<Command> makeTokenCommand() { return std::make_unique<TokenCommand>(); }

} // namespace KeyloopCli
