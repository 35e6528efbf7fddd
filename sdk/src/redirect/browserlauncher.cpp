// SPDX-License-Identifier: MIT
#include <keyloop/browserlauncher.h>

#include "core/logging_p.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QPointer>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>

#include <optional>
#include <utility>

namespace Keyloop {

namespace {

// Only absolute http(s) URLs are handed to a program: nothing that an opener could take for
// an option ("-…") or a local file or another scheme handler.
Error checkUrl(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.isRelative() || (scheme != QLatin1String("https") && scheme != QLatin1String("http"))
        || url.host().isEmpty()) {
        return Error(Error::Code::BrowserLaunchFailed, QStringLiteral("only absolute http and https URLs are opened"));
    }
    return Error();
}

// The program as an absolute path: relative names are looked up on PATH only, never in
// the current directory.
QString resolveProgram(const QString &program)
{
    if (program.isEmpty())
        return QString();
    if (program.contains(u'/') || program.contains(QDir::separator())) {
        const QFileInfo info(program);
        return info.isFile() && info.isExecutable() ? info.absoluteFilePath() : QString();
    }
    return QStandardPaths::findExecutable(program);
}

Error startDetached(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProgram(program);
    process.setArguments(arguments);
    process.setStandardInputFile(QProcess::nullDevice());
    qint64 pid = 0;
    if (!process.startDetached(&pid)) {
        qCDebug(lcRedirect) << "browser launch failed: cannot start" << QFileInfo(program).fileName();
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("cannot start the browser program \"%1\"").arg(QFileInfo(program).fileName()));
    }
    qCDebug(lcRedirect) << "browser launched with" << QFileInfo(program).fileName();
    return Error();
}

#if !defined(Q_OS_WIN)
// Splits like a POSIX shell splits words (POSIX.1-2017 XCU §2.2 quoting, §2.6.5 field
// splitting), without any expansion: '…' is literal, "…" is literal except for \ before
// $ ` " \ and newline, a backslash outside quotes escapes the next character, and unquoted
// blanks separate words. $VAR, ~, globs, pipes and redirections are kept as literal text: no
// shell ever runs. Returns std::nullopt for an unterminated quote or a trailing backslash.
std::optional<QStringList> splitShellWords(const QString &command)
{
    QStringList words;
    QString word;
    bool inWord = false;
    for (qsizetype i = 0; i < command.size(); ++i) {
        const QChar c = command.at(i);
        if (c == u' ' || c == u'\t' || c == u'\n') {
            if (inWord)
                words.append(std::exchange(word, QString()));
            inWord = false;
        } else if (c == u'\'') {
            const qsizetype end = command.indexOf(u'\'', i + 1);
            if (end < 0)
                return std::nullopt;
            word += command.mid(i + 1, end - i - 1);
            i = end;
            inWord = true;
        } else if (c == u'"') {
            inWord = true;
            for (++i;; ++i) {
                if (i >= command.size())
                    return std::nullopt;
                const QChar d = command.at(i);
                if (d == u'"')
                    break;
                if (d == u'\\' && i + 1 < command.size() && command.at(i + 1) == u'\n') {
                    ++i; // line continuation
                } else if (d == u'\\' && i + 1 < command.size()
                           && QStringView(u"$`\"\\").contains(command.at(i + 1))) {
                    word += command.at(++i);
                } else {
                    word += d;
                }
            }
        } else if (c == u'\\') {
            if (i + 1 >= command.size())
                return std::nullopt;
            if (command.at(i + 1) == u'\n') {
                ++i; // line continuation
                continue;
            }
            word += command.at(++i);
            inWord = true;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (inWord)
        words.append(word);
    return words;
}
#endif

} // namespace

BrowserLauncher::~BrowserLauncher() = default;

SystemBrowserLauncher::SystemBrowserLauncher() = default;
SystemBrowserLauncher::~SystemBrowserLauncher() = default;

Error SystemBrowserLauncher::openUrl(const QUrl &url)
{
    if (Error error = checkUrl(url))
        return error;
    const QString encoded = QString::fromLatin1(url.toEncoded(QUrl::FullyEncoded));
#if defined(Q_OS_WIN)
    // ShellExecute through url.dll, with no command interpreter in between (see header).
    const QString systemRoot = qEnvironmentVariable("SystemRoot", QStringLiteral("C:\\Windows"));
    const QString program = systemRoot + QStringLiteral("\\System32\\rundll32.exe");
    return startDetached(program, {QStringLiteral("url.dll,FileProtocolHandler"), encoded});
#elif defined(Q_OS_MACOS)
    return startDetached(QStringLiteral("/usr/bin/open"), {encoded});
#else
    const QString program = QStandardPaths::findExecutable(QStringLiteral("xdg-open"));
    if (program.isEmpty()) {
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("xdg-open was not found on PATH; open the sign-in URL by hand"));
    }
    return startDetached(program, {encoded});
#endif
}

class CommandBrowserLauncherPrivate
{
public:
    QString program;
    QStringList arguments;
    CommandBrowserLauncher::LaunchMode mode = CommandBrowserLauncher::LaunchMode::Detached;
    bool invalidCommand = false;
};

CommandBrowserLauncher::CommandBrowserLauncher(const QString &command, QObject *parent)
    : QObject(parent), d(std::make_unique<CommandBrowserLauncherPrivate>())
{
#if defined(Q_OS_WIN)
    // Windows programs parse their own command line (CommandLineToArgvW rules).
    std::optional<QStringList> parts = QProcess::splitCommand(command);
#else
    std::optional<QStringList> parts = splitShellWords(command);
#endif
    if (!parts) {
        d->invalidCommand = true;
        return;
    }
    if (!parts->isEmpty())
        d->program = parts->takeFirst();
    d->arguments = *parts;
}

CommandBrowserLauncher::CommandBrowserLauncher(const QString &program, const QStringList &arguments, QObject *parent)
    : QObject(parent), d(std::make_unique<CommandBrowserLauncherPrivate>())
{
    d->program = program;
    d->arguments = arguments;
}

CommandBrowserLauncher::~CommandBrowserLauncher() = default;

QString CommandBrowserLauncher::program() const { return d->program; }
QStringList CommandBrowserLauncher::arguments() const { return d->arguments; }
CommandBrowserLauncher::LaunchMode CommandBrowserLauncher::launchMode() const { return d->mode; }
void CommandBrowserLauncher::setLaunchMode(LaunchMode mode) { d->mode = mode; }

Error CommandBrowserLauncher::openUrl(const QUrl &url)
{
    if (Error error = checkUrl(url))
        return error;
    if (d->invalidCommand) {
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("the browser command has an unterminated quote or a trailing backslash"));
    }
    const QString program = resolveProgram(d->program);
    if (program.isEmpty()) {
        return Error(Error::Code::BrowserLaunchFailed,
                     d->program.isEmpty() ? QStringLiteral("the browser command is empty")
                                          : QStringLiteral("the browser program \"%1\" was not found or is not executable")
                                                .arg(QFileInfo(d->program).fileName()));
    }
    // The URL is the last argument, fully encoded, as one argument: no shell sees it.
    const QStringList arguments = d->arguments + QStringList{QString::fromLatin1(url.toEncoded(QUrl::FullyEncoded))};
    if (d->mode == LaunchMode::Detached)
        return startDetached(program, arguments);

    auto *process = new QProcess(this);
    process->setProgram(program);
    process->setArguments(arguments);
    process->setStandardInputFile(QProcess::nullDevice());
    process->setProcessChannelMode(QProcess::ForwardedChannels);
    connect(process, &QProcess::finished, this, [this, process](int exitCode, QProcess::ExitStatus status) {
        process->deleteLater();
        Q_EMIT finished(status == QProcess::NormalExit ? exitCode : -1);
    });
    connect(process, &QProcess::errorOccurred, this, [this, process](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return; // Crashed is followed by finished()
        qCDebug(lcRedirect) << "browser command failed to start";
        process->deleteLater();
        Q_EMIT finished(-1);
    });
    process->start();
    qCDebug(lcRedirect) << "browser command started:" << QFileInfo(program).fileName();
    return Error();
}

} // namespace Keyloop
