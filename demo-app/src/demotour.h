// SPDX-License-Identifier: MIT
// The tour: the app driving its own window, click by click, as a user would — for
// ./scripts/demo on a machine without a display (under Xvfb, with headless Chromium as the
// system browser) and for the end-to-end test's "restart". It prints what the window shows
// at each step and exits with 0 when every step worked.
//
//   full     restore; sign in (unless restored); call the API; wait for a background refresh;
//            call again; screenshot; sign out; then, with KEYLOOP_DEMO_DEVICE_APPROVER set (a
//            command that approves a device code, given the address and the code), sign in
//            with a code on another device (RFC 8628) and sign out again
//   restore  restore only; exit 0 when signed in, 3 when sign-in is required, 1 on a banner
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTimer>

#include <functional>

class MainWindow;

class DemoTour : public QObject
{
    Q_OBJECT
public:
    enum class Kind { Full, Restore };
    DemoTour(MainWindow *window, Kind kind, const QString &screenshotPath, QObject *parent = nullptr);

    /// Begins on the next event-loop turn; ends with QCoreApplication::exit(code).
    void start();

private:
    struct Step
    {
        QString name;
        std::function<bool()> done;
        int timeoutMs;
        std::function<void()> then;
    };
    void waitFor(const QString &name, int timeoutMs, std::function<bool()> done, std::function<void()> then);
    void poll();
    void show(const QString &what);
    void click(const QString &objectName);
    void finish(int code, const QString &why);
    void afterRestore();
    void signInWithDeviceCode();
    void signInBoundToTheDevice();
    void callApi(int endpoint, std::function<void()> then);

    MainWindow *m_window;
    Kind m_kind;
    QString m_screenshot;
    QTimer m_timer;
    QElapsedTimer m_elapsed;
    Step m_step;
    int m_answers = 0;
    bool m_refreshed = false;
};
