// SPDX-License-Identifier: MIT
// keyloop-demo: the composition root. Reads the profiles (the devstack's devstack.json and a
// profiles file), makes the main window, and optionally runs the tour (demotour.h).
#include "demotour.h"
#include "eventlog.h"
#include "mainwindow.h"
#include "profile.h"

#include <keyloop/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QStandardPaths>
#include <QtWidgets/QApplication>

#include <cstdio>

int main(int argc, char **argv)
{
    QGuiApplication::setHighDpiScaleFactorRoundingPolicy(Qt::HighDpiScaleFactorRoundingPolicy::PassThrough);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Keyloop"));
    QApplication::setOrganizationDomain(QStringLiteral("keyloop.org"));
    QApplication::setApplicationName(QStringLiteral("keyloop-demo"));
    QApplication::setApplicationDisplayName(QStringLiteral("Keyloop Demo"));
    QApplication::setApplicationVersion(QStringLiteral(KEYLOOP_VERSION_STRING));
    QApplication::setDesktopFileName(QStringLiteral("keyloop-demo"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Keyloop's demo: sign in with OpenID Connect in the system browser, call protected APIs with tokens "
        "that refresh themselves, sign out. See docs/demo-app.md."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption devstack(QStringLiteral("devstack"),
        QStringLiteral("The local devstack's devstack.json (default: $KEYLOOP_DEVSTACK_JSON). Its profile is used at once."),
        QStringLiteral("path"));
    const QCommandLineOption profiles(QStringLiteral("profiles"),
        QStringLiteral("A profiles file (JSON; default: $XDG_CONFIG_HOME/keyloop-demo/profiles.json when it exists)."),
        QStringLiteral("path"));
    const QCommandLineOption profile(QStringLiteral("profile"), QStringLiteral("Start with this profile."), QStringLiteral("name"));
    const QCommandLineOption appId(QStringLiteral("app-id"),
        QStringLiteral("Keychain service and lock name (default: $KEYLOOP_APP_ID or org.keyloop.demo)."), QStringLiteral("id"));
    const QCommandLineOption tour(QStringLiteral("tour"),
        QStringLiteral("Drive the window by itself and print what it shows: 'full' (sign in, call, wait for a "
                       "refresh, sign out) or 'restore'. Exit 0 when every step worked."), QStringLiteral("kind"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("With --tour full: save a screenshot here."),
                                        QStringLiteral("png"));
    const QCommandLineOption verbose(QStringLiteral("verbose"), QStringLiteral("Also write the SDK's events to stderr."));
    const QCommandLineOption noSettings(QStringLiteral("no-settings"), QStringLiteral("Neither read nor write QSettings."));
    parser.addOptions({devstack, profiles, profile, appId, tour, screenshot, verbose, noSettings});
    parser.process(app);

    EventLog::installMessageHandler(parser.isSet(verbose));

    MainWindow::Options options;
    options.rememberInSettings = !parser.isSet(noSettings);
    options.appId = parser.value(appId);
    if (options.appId.isEmpty())
        options.appId = qEnvironmentVariable("KEYLOOP_APP_ID", QStringLiteral("org.keyloop.demo"));

    const QString devstackJson = parser.isSet(devstack) ? parser.value(devstack) : qEnvironmentVariable("KEYLOOP_DEVSTACK_JSON");
    if (!devstackJson.isEmpty()) {
        Keyloop::Error error;
        const DemoProfile p = DemoProfile::fromDevstack(devstackJson, &error);
        if (error) {
            std::fprintf(stderr, "keyloop-demo: %s\n", qPrintable(error.message()));
            return 2;
        }
        options.profiles.append(p);
        options.initialProfile = p.name;
        // The same provider and API with tokens bound to this device's key (DPoP, RFC 9449).
        DemoProfile bound = p;
        bound.name = QStringLiteral("Local devstack, tokens bound to this device (DPoP)");
        bound.client.setDpopEnabled(true);
        options.profiles.append(bound);
    }
    QString profilesFile = parser.value(profiles);
    if (profilesFile.isEmpty()) {
        const QString user = QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
                                 .filePath(QStringLiteral("keyloop-demo/profiles.json"));
        if (QFileInfo::exists(user))
            profilesFile = user;
    }
    if (!profilesFile.isEmpty()) {
        Keyloop::Error error;
        options.profiles.append(DemoProfile::fromFile(profilesFile, &error));
        if (error) {
            std::fprintf(stderr, "keyloop-demo: %s\n", qPrintable(error.message()));
            return 2;
        }
    }
    if (parser.isSet(profile))
        options.initialProfile = parser.value(profile);

    MainWindow window(options);
    window.show();

    std::unique_ptr<DemoTour> demoTour;
    if (parser.isSet(tour)) {
        const QString kind = parser.value(tour);
        if (kind != QLatin1String("full") && kind != QLatin1String("restore")) {
            std::fprintf(stderr, "keyloop-demo: --tour is 'full' or 'restore'\n");
            return 2;
        }
        demoTour = std::make_unique<DemoTour>(&window, kind == QLatin1String("full") ? DemoTour::Kind::Full : DemoTour::Kind::Restore,
                                              parser.value(screenshot));
        demoTour->start();
    }
    return app.exec();
}
