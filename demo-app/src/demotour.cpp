// SPDX-License-Identifier: MIT
#include "demotour.h"

#include "apipanel.h"
#include "banner.h"
#include "eventlog.h"
#include "mainwindow.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtGui/QPixmap>
#include <QtWidgets/QAbstractButton>

#include <cstdio>

using Keyloop::Client;

DemoTour::DemoTour(MainWindow *window, Kind kind, const QString &screenshotPath, QObject *parent)
    : QObject(parent), m_window(window), m_kind(kind), m_screenshot(screenshotPath)
{
    m_timer.setInterval(50); // checks the window's state; the event loop keeps running
    connect(&m_timer, &QTimer::timeout, this, &DemoTour::poll);
    connect(m_window->apiPanel(), &ApiPanel::answered, this, [this] { ++m_answers; });
    connect(m_window->eventLog(), &EventLog::added, this, [this](const QString &line) {
        if (line.contains(QLatin1String("tokens refreshed and saved")))
            m_refreshed = true;
    });
}

void DemoTour::start()
{
    QTimer::singleShot(0, this, [this] {
        waitFor(QStringLiteral("restore"), 30000, [this] {
            const Client *c = m_window->client();
            return (c && (c->state() == Client::State::SignedIn || c->state() == Client::State::SignInRequired))
                || !m_window->banner()->isHidden();
        }, [this] { afterRestore(); });
    });
}

void DemoTour::afterRestore()
{
    show(QStringLiteral("after the restore from the keychain"));
    if (!m_window->banner()->isHidden())
        return finish(1, QStringLiteral("the window shows an error"));
    const bool signedIn = m_window->client()->state() == Client::State::SignedIn;
    if (m_kind == Kind::Restore)
        return finish(signedIn ? 0 : 3, signedIn ? QStringLiteral("restored without the browser")
                                                 : QStringLiteral("sign-in required"));
    const auto afterSignIn = [this] {
        show(QStringLiteral("signed in"));
        callApi(0, [this] {
            std::printf("[demo] waiting for the SDK to refresh the access token by itself…\n");
            std::fflush(stdout);
            waitFor(QStringLiteral("a background refresh"), 120000, [this] { return m_refreshed; }, [this] {
                show(QStringLiteral("the SDK refreshed the tokens in the background and saved them"));
                callApi(1, [this] {
                    if (!m_screenshot.isEmpty()) {
                        QDir().mkpath(QFileInfo(m_screenshot).absolutePath());
                        if (m_window->grab().save(m_screenshot))
                            std::printf("[demo] screenshot: %s\n", qPrintable(QDir::toNativeSeparators(m_screenshot)));
                    }
                    click(QStringLiteral("signOutButton"));
                    waitFor(QStringLiteral("sign-out"), 30000, [this] {
                        return m_window->client()->state() == Client::State::SignInRequired;
                    }, [this] {
                        show(QStringLiteral("signed out (tokens revoked at the provider, removed from the keychain)"));
                        signInWithDeviceCode();
                    });
                });
            });
        });
    };
    if (signedIn)
        return afterSignIn();
    click(QStringLiteral("signInButton"));
    std::printf("[demo] signing in: the system browser opens the provider's page…\n");
    std::fflush(stdout);
    waitFor(QStringLiteral("sign-in"), 120000, [this] {
        return m_window->client()->state() == Client::State::SignedIn || !m_window->banner()->isHidden();
    }, [this, afterSignIn] {
        if (!m_window->banner()->isHidden())
            return finish(1, QStringLiteral("the sign-in failed"));
        afterSignIn();
    });
}

// RFC 8628: the code, the address and the QR code in the window; "the other device" is the
// program named by KEYLOOP_DEMO_DEVICE_APPROVER (the devstack's scripted-device.mjs in
// ./scripts/demo), run with the address and the code. Without it the tour ends here.
void DemoTour::signInWithDeviceCode()
{
    const QStringList approver = QProcess::splitCommand(qEnvironmentVariable("KEYLOOP_DEMO_DEVICE_APPROVER"));
    if (approver.isEmpty())
        return finish(0, QStringLiteral("every step worked"));
    click(QStringLiteral("deviceSignInButton"));
    waitFor(QStringLiteral("the device code"), 30000, [this] {
        return !m_window->client()->userCode().isEmpty() || !m_window->banner()->isHidden();
    }, [this, approver] {
        if (!m_window->banner()->isHidden())
            return finish(1, QStringLiteral("the device sign-in failed"));
        show(QStringLiteral("signing in with a code on another device"));
        std::printf("[demo] approving the code on \"another device\" (%s)…\n",
                    qPrintable(QFileInfo(approver.value(approver.size() > 1 ? 1 : 0)).fileName()));
        std::fflush(stdout);
        auto *device = new QProcess(this);
        device->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        connect(device, &QProcess::finished, device, &QObject::deleteLater);
        device->start(approver.first(), approver.mid(1) << m_window->client()->verificationUri().toString(QUrl::FullyEncoded)
                                                        << m_window->client()->userCode());
        waitFor(QStringLiteral("the device sign-in"), 60000, [this] {
            return m_window->client()->state() == Client::State::SignedIn || !m_window->banner()->isHidden();
        }, [this] {
            if (!m_window->banner()->isHidden())
                return finish(1, QStringLiteral("the device sign-in failed"));
            show(QStringLiteral("signed in with the code"));
            click(QStringLiteral("signOutButton"));
            waitFor(QStringLiteral("sign-out"), 30000, [this] {
                return m_window->client()->state() == Client::State::SignInRequired;
            }, [this] {
                show(QStringLiteral("signed out again"));
                signInBoundToTheDevice();
            });
        });
    });
}

// RFC 9449: the same provider and API with a profile that binds the tokens to a key made for the
// session (kept with it in the keychain); every API call carries a proof. Only when the window
// has such a profile (the devstack's second one).
void DemoTour::signInBoundToTheDevice()
{
    const QList<DemoProfile> profiles = m_window->profiles();
    int bound = -1;
    for (int i = 0; i < profiles.size() && bound < 0; ++i) {
        if (profiles.at(i).client.isDpopEnabled() && profiles.at(i).missing().isEmpty())
            bound = i;
    }
    if (bound < 0)
        return finish(0, QStringLiteral("every step worked"));
    m_window->useProfile(bound);
    waitFor(QStringLiteral("the DPoP profile"), 30000, [this] {
        const Client *c = m_window->client();
        return (c && (c->state() == Client::State::SignInRequired || c->state() == Client::State::SignedIn))
            || !m_window->banner()->isHidden();
    }, [this] {
        if (!m_window->banner()->isHidden())
            return finish(1, QStringLiteral("the DPoP profile shows an error"));
        std::printf("[demo] signing in again, with tokens bound to this device's key (DPoP)…\n");
        std::fflush(stdout);
        if (m_window->client()->state() != Client::State::SignedIn)
            click(QStringLiteral("signInButton"));
        waitFor(QStringLiteral("the DPoP sign-in"), 120000, [this] {
            return m_window->client()->state() == Client::State::SignedIn || !m_window->banner()->isHidden();
        }, [this] {
            if (!m_window->banner()->isHidden())
                return finish(1, QStringLiteral("the DPoP sign-in failed"));
            callApi(0, [this] {
                show(QStringLiteral("signed in with DPoP: the API saw a proof of this device's key"));
                click(QStringLiteral("signOutButton"));
                waitFor(QStringLiteral("sign-out"), 30000, [this] {
                    return m_window->client()->state() == Client::State::SignInRequired;
                }, [this] {
                    show(QStringLiteral("signed out (the key was deleted with the session)"));
                    finish(0, QStringLiteral("every step worked"));
                });
            });
        });
    });
}

void DemoTour::callApi(int endpoint, std::function<void()> then)
{
    const int before = m_answers;
    click(QStringLiteral("endpointButton%1").arg(endpoint));
    waitFor(QStringLiteral("the API's answer"), 30000, [this, before] { return m_answers > before; }, [this, then] {
        show(QStringLiteral("called the API"));
        then();
    });
}

void DemoTour::waitFor(const QString &name, int timeoutMs, std::function<bool()> done, std::function<void()> then)
{
    m_step = Step{name, std::move(done), timeoutMs, std::move(then)};
    m_elapsed.start();
    m_timer.start();
}

void DemoTour::poll()
{
    if (m_step.done && m_step.done()) {
        m_timer.stop();
        const auto then = std::exchange(m_step.then, nullptr);
        m_step.done = nullptr;
        then();
        return;
    }
    if (m_elapsed.elapsed() > m_step.timeoutMs)
        finish(1, QStringLiteral("timed out waiting for %1").arg(m_step.name));
}

void DemoTour::show(const QString &what)
{
    std::printf("[demo] %s — the window shows:\n", qPrintable(what));
    for (const QString &line : m_window->describe().split(QLatin1Char('\n')))
        std::printf("         %s\n", qPrintable(line));
    std::fflush(stdout);
}

void DemoTour::click(const QString &objectName)
{
    auto *button = m_window->findChild<QAbstractButton *>(objectName);
    std::printf("[demo] click: %s\n", button ? qPrintable(button->text().remove(QLatin1Char('&'))) : qPrintable(objectName));
    std::fflush(stdout);
    if (button)
        button->click();
}

void DemoTour::finish(int code, const QString &why)
{
    m_timer.stop();
    if (code != 0 && code != 3)
        show(QStringLiteral("stopped: ") + why);
    std::printf("[demo] %s\n", qPrintable(why));
    std::fflush(stdout);
    QCoreApplication::exit(code);
}
