// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/browserlauncher.h>
#include <keyloop/gui/guiglobal.h>

namespace Keyloop {

/*!
 * \brief Opens the URL with QDesktopServices::openUrl (the desktop's default browser).
 *
 * Needs a QGuiApplication (or QApplication): under a plain QCoreApplication it returns
 * Error::Code::BrowserLaunchFailed without trying, because QDesktopServices cannot work
 * there. Also fails when QDesktopServices reports failure (no handler, or a QPA platform such
 * as offscreen/minimal that cannot open URLs). Only absolute http(s) URLs are opened.
 *
 * \code
 * Keyloop::DesktopServicesBrowserLauncher launcher;
 * signIn->setBrowserLauncher(&launcher);
 * \endcode
 */
class KEYLOOP_GUI_EXPORT DesktopServicesBrowserLauncher : public BrowserLauncher
{
public:
    DesktopServicesBrowserLauncher();
    ~DesktopServicesBrowserLauncher() override;
    /// Calls QDesktopServices::openUrl(\a url). BrowserLaunchFailed without a QGuiApplication,
    /// for a URL that is not absolute http(s), or when QDesktopServices reports failure.
    Error openUrl(const QUrl &url) override;
};

} // namespace Keyloop
