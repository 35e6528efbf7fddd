// SPDX-License-Identifier: MIT
#include <keyloop/gui/desktopservicesbrowserlauncher.h>

#include <QtCore/QCoreApplication>
#include <QtGui/QDesktopServices>
#include <QtGui/QGuiApplication>

namespace Keyloop {

DesktopServicesBrowserLauncher::DesktopServicesBrowserLauncher() = default;
DesktopServicesBrowserLauncher::~DesktopServicesBrowserLauncher() = default;

Error DesktopServicesBrowserLauncher::openUrl(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.isRelative() || (scheme != QLatin1String("https") && scheme != QLatin1String("http"))
        || url.host().isEmpty()) {
        return Error(Error::Code::BrowserLaunchFailed, QStringLiteral("only absolute http and https URLs are opened"));
    }
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("QDesktopServices needs a QGuiApplication; use SystemBrowserLauncher "
                                    "in a non-GUI program"));
    }
    // These platform plugins cannot open URLs, and Qt then logs a warning that contains the whole
    // URL (state, nonce, PKCE challenge): refuse before handing it over.
    const QString platform = QGuiApplication::platformName();
    if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal")
        || platform == QLatin1String("minimalegl")) {
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("the \"%1\" Qt platform cannot open a browser; use SystemBrowserLauncher")
                         .arg(platform));
    }
    // Returns once the opener has been spawned (xdg-open on X11, ShellExecute, LaunchServices).
    if (!QDesktopServices::openUrl(url)) {
        return Error(Error::Code::BrowserLaunchFailed,
                     QStringLiteral("QDesktopServices could not open the sign-in URL (no handler for http(s), "
                                    "or a platform plugin that cannot open URLs)"));
    }
    return Error();
}

} // namespace Keyloop
