// SPDX-License-Identifier: MIT
// keyloop — sign in with OAuth 2.0 / OpenID Connect from the command line.
#include "command.h"
#include "commands.h"
#include "exitcodes.h"

#include <keyloop/version.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkProxyFactory>

#include <csignal>
#include <cstdio>
#include <memory>
#include <unistd.h>

using namespace KeyloopCli;

namespace {

int g_signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(g_signalPipe[1], &c, 1);
}

std::unique_ptr<Command> makeCommand(const QString &name)
{
    if (name == QLatin1String("login")) return makeLoginCommand();
    if (name == QLatin1String("token")) return makeTokenCommand();
    if (name == QLatin1String("status")) return makeStatusCommand();
    if (name == QLatin1String("logout")) return makeLogoutCommand();
    if (name == QLatin1String("call")) return makeCallCommand();
    return nullptr;
}

QString mainHelp()
{
    QString text = QStringLiteral(
        "Usage: keyloop [--app-id ID] [-v] <command> [options]\n"
        "\n"
        "Sign in to an OAuth 2.0 / OpenID Connect provider in your browser (RFC 8252: PKCE,\n"
        "loopback redirect), keep the session in the OS keychain, and call APIs with fresh tokens.\n"
        "\n"
        "Commands:\n");
    for (const char *name : {"login", "token", "call", "status", "logout"}) {
        const auto command = makeCommand(QString::fromLatin1(name));
        text += QStringLiteral("  %1  %2\n").arg(command->name(), -7).arg(command->summary());
    }
    text += QStringLiteral(
        "\n"
        "Global options:\n"
        "  --app-id ID     application id: selects the keychain service, lock and account index,\n"
        "                  so the CLI can use an app's sessions (KEYLOOP_APP_ID; default org.keyloop.cli)\n"
        "  -v, --verbose   debug logging of the SDK (keyloop.* categories); never prints secrets\n"
        "  -h, --help      this help; `keyloop <command> --help` for a command's options\n"
        "  --version       print the version\n"
        "\n"
        "Settings come from a flag, else an environment variable (KEYLOOP_*), else the stored session.\n"
        "\n");
    text += QString::fromLatin1(exitCodeTable());
    return text;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyloop"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEYLOOP_VERSION_STRING));

    QStringList args = app.arguments();
    // Global options may come before the command.
    QString appId = qEnvironmentVariableIsSet("KEYLOOP_APP_ID") ? qEnvironmentVariable("KEYLOOP_APP_ID") : defaultAppId();
    bool verbose = false;
    QString commandName;
    QStringList rest{args.value(0)};
    for (int i = 1; i < args.size(); ++i) {
        const QString &a = args.at(i);
        if (commandName.isEmpty()) {
            if (a == QLatin1String("-h") || a == QLatin1String("--help") || a == QLatin1String("help")) {
                std::fputs(qPrintable(mainHelp()), stdout);
                return ExitOk;
            }
            if (a == QLatin1String("--version")) {
                std::printf("keyloop %s\n", KEYLOOP_VERSION_STRING);
                return ExitOk;
            }
            if (a == QLatin1String("-v") || a == QLatin1String("--verbose")) { verbose = true; continue; }
            if (a == QLatin1String("--app-id") && i + 1 < args.size()) { appId = args.at(++i); continue; }
            if (a.startsWith(QLatin1String("--app-id="))) { appId = a.mid(9); continue; }
            if (a.startsWith(QLatin1Char('-'))) {
                std::fprintf(stderr, "keyloop: unknown option %s\n\n%s", qPrintable(a), qPrintable(mainHelp()));
                return ExitUsage;
            }
            commandName = a;
            continue;
        }
        rest << a;
    }
    if (commandName.isEmpty()) {
        std::fputs(qPrintable(mainHelp()), stderr);
        return ExitUsage;
    }
    std::unique_ptr<Command> command = makeCommand(commandName);
    if (!command) {
        std::fprintf(stderr, "keyloop: unknown command \"%s\"\n\n%s", qPrintable(commandName), qPrintable(mainHelp()));
        return ExitUsage;
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(command->summary());
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption helpOption({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    parser.addOption(helpOption);
    parser.addOption({{QStringLiteral("v"), QStringLiteral("verbose")}, QStringLiteral("Debug logging (keyloop.*); never prints secrets.")});
    parser.addOption({QStringLiteral("app-id"), QStringLiteral("Application id: keychain service, lock and index (KEYLOOP_APP_ID)."), QStringLiteral("ID")});
    command->addOptions(parser);
    if (!parser.parse(rest)) {
        std::fprintf(stderr, "keyloop %s: %s\n", qPrintable(commandName), qPrintable(parser.errorText()));
        return ExitUsage;
    }
    if (parser.isSet(helpOption)) {
        QString help = parser.helpText();
        // QCommandLineParser names argv[0]; show the command as users type it.
        const QString positional = command->positionalSyntax();
        help = QStringLiteral("Usage: keyloop %1 [options]%2").arg(commandName, positional.isEmpty() ? QString() : QLatin1Char(' ') + positional)
            + help.mid(help.indexOf(QLatin1Char('\n')));
        std::fputs(qPrintable(help), stdout);
        const QString epilogue = command->helpEpilogue();
        if (!epilogue.isEmpty())
            std::printf("\n%s", qPrintable(epilogue));
        std::printf("\n%s", exitCodeTable());
        return ExitOk;
    }
    if (!parser.positionalArguments().isEmpty() && command->positionalSyntax().isEmpty()) {
        std::fprintf(stderr, "keyloop %s: unexpected argument \"%s\"\n", qPrintable(commandName),
                     qPrintable(parser.positionalArguments().constFirst()));
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("app-id")))
        appId = parser.value(QStringLiteral("app-id"));
    if (verbose || parser.isSet(QStringLiteral("verbose")))
        QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*.debug=true"));
    QCoreApplication::setOrganizationDomain(appId);
    // Provider and API traffic follow the system's proxy settings (http_proxy/https_proxy/no_proxy on
    // Linux). The SDK itself uses whatever the app's QNetworkAccessManager is configured with, and
    // its loopback listener never uses a proxy.
    QNetworkProxyFactory::setUseSystemConfiguration(true);

    // Ctrl-C / SIGTERM cancel cleanly (exit code 130) through a self-pipe — but a refresh whose
    // rotated tokens are being written to the keychain finishes that write first (bounded): the
    // provider has already retired the old refresh token, so exiting now would lose the session.
    if (::pipe(g_signalPipe) == 0) {
        auto *notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, [&command, notifier] {
            char c;
            [[maybe_unused]] const auto n = ::read(g_signalPipe[0], &c, 1);
            static bool cancelling = false;
            if (cancelling)
                return;
            cancelling = true;
            if (!command->isSaving()) {
                std::fputs("\nkeyloop: cancelled\n", stderr);
                QCoreApplication::exit(ExitCancelled);
                return;
            }
            notifier->setEnabled(false);
            std::fputs("\nkeyloop: cancelled; finishing saving the session first\n", stderr);
            QObject::connect(command.get(), &Command::savingFinished, qApp, [] { QCoreApplication::exit(ExitCancelled); });
            QTimer::singleShot(std::chrono::seconds(10), qApp, [] { QCoreApplication::exit(ExitCancelled); });
        });
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
    }

    command->setParser(&parser);
    command->setAppId(appId);
    int exitCode = ExitOk;
    QObject::connect(command.get(), &Command::finished, &app, [&exitCode](int code) {
        exitCode = code;
        QCoreApplication::exit(code);
    }, Qt::QueuedConnection);
    QMetaObject::invokeMethod(command.get(), [&command] { command->start(); }, Qt::QueuedConnection);
    const int rc = app.exec(); // the CLI's one top-level event loop (not nested)
    return rc == ExitCancelled ? ExitCancelled : exitCode;
}
