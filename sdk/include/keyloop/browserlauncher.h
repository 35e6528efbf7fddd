// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <memory>

namespace Keyloop {

/*!
 * \brief Opens the authorization URL in the user's browser (RFC 8252 §4.1: an external user-agent).
 *
 * The extension point through which a sign-in opens the browser; inject your own to open a
 * specific browser, show a QR code, or drive a test browser. openUrl() must not block: it
 * returns once the launch has been started, and an Error (Error::Code::BrowserLaunchFailed)
 * only when it could not be started. The app always also gets the URL itself, so it can show
 * it for copying when no browser opens.
 *
 * Implementations must never log the URL: it carries state, nonce and the PKCE challenge.
 * The launchers in Keyloop only open absolute http and https URLs.
 */
class KEYLOOP_EXPORT BrowserLauncher
{
public:
    virtual ~BrowserLauncher();
    /// Starts opening \a url (an absolute http or https URL) and returns without waiting for
    /// the browser. A null Error when the launch was started; BrowserLaunchFailed otherwise.
    virtual Error openUrl(const QUrl &url) = 0;

protected:
    BrowserLauncher() = default;
    Q_DISABLE_COPY_MOVE(BrowserLauncher)
};

/*!
 * \brief The platform's URL opener, started with QProcess; works without a GUI application.
 *
 * - Linux/BSD: `xdg-open URL` (found on PATH).
 * - macOS: `/usr/bin/open URL`.
 * - Windows: `%SystemRoot%\System32\rundll32.exe url.dll,FileProtocolHandler URL`, which hands
 *   the URL to ShellExecute without a command interpreter. `cmd /c start` is not used: cmd
 *   would interpret the `&` between query parameters (and `^`, `|`, …) as shell syntax.
 *
 * The opener is started detached; a missing opener or a failed exec gives
 * Error::Code::BrowserLaunchFailed. Whether a browser then really appears cannot be observed.
 * For QDesktopServices, see Keyloop::Gui's DesktopServicesBrowserLauncher.
 */
class KEYLOOP_EXPORT SystemBrowserLauncher : public BrowserLauncher
{
public:
    /// The launcher for the platform Keyloop was built for.
    SystemBrowserLauncher();
    ~SystemBrowserLauncher() override;
    /// Starts the platform's opener with \a url. BrowserLaunchFailed for a URL that is not
    /// absolute http(s), or when the opener is missing or cannot be started.
    Error openUrl(const QUrl &url) override;
};

class CommandBrowserLauncherPrivate;

/*!
 * \brief Runs a program with the URL appended as its last argument.
 *
 * For `--browser-command`, a specific browser, or a scripted test browser. The command is
 * either a string split into words as a POSIX shell would split it — '…' and "…" quoting and
 * backslash escapes — but with no expansion at all: `$VAR`, `~`, globs, pipes and redirections
 * stay literal text, because no shell runs (on Windows: QProcess::splitCommand); or a program
 * and its arguments. A relative program name is looked up on PATH only. The URL is passed
 * fully encoded, as one argument, unmodified, after all other arguments.
 *
 * \code
 * Keyloop::CommandBrowserLauncher launcher(QStringLiteral("firefox --private-window"));
 * launcher.openUrl(url); // runs: firefox --private-window <url>
 * \endcode
 *
 * By default the process is started detached. With LaunchMode::Attached it is a child of the
 * launcher and finished() reports its exit code (useful for tests and scripted logins);
 * destroying the launcher then kills a still running process.
 */
class KEYLOOP_EXPORT CommandBrowserLauncher : public QObject, public BrowserLauncher
{
    Q_OBJECT
public:
    /// How openUrl() starts the program.
    enum class LaunchMode {
        Detached, ///< default: the program outlives the launcher
        Attached, ///< a child process; finished() is emitted when it exits
    };
    Q_ENUM(LaunchMode)

    /// \a command is split into words like a POSIX shell would, without expansions. An
    /// unterminated quote makes openUrl() fail.
    explicit CommandBrowserLauncher(const QString &command, QObject *parent = nullptr);
    /// Runs \a program with \a arguments, taken as they are (no splitting), then the URL.
    CommandBrowserLauncher(const QString &program, const QStringList &arguments, QObject *parent = nullptr);
    ~CommandBrowserLauncher() override;

    /// The program (the command's first word), before the PATH lookup; empty if none.
    QString program() const;
    /// The arguments put before the URL.
    QStringList arguments() const;

    /// Default LaunchMode::Detached.
    LaunchMode launchMode() const;
    /// Sets launchMode(); applies to the next openUrl().
    void setLaunchMode(LaunchMode mode);

    /// Fails with BrowserLaunchFailed when the program is empty or not an executable found on
    /// PATH, or (detached) when it cannot be executed.
    Error openUrl(const QUrl &url) override;

Q_SIGNALS:
    /// Attached mode only: the program exited with \a exitCode; -1 if it crashed or failed
    /// to start.
    void finished(int exitCode);

private:
    std::unique_ptr<CommandBrowserLauncherPrivate> d;
};

} // namespace Keyloop
