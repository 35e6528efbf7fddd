// SPDX-License-Identifier: MIT
// Test helper: runs one KeychainTokenStore operation in a fresh process (so it can be given
// another D-Bus session bus) and prints "result=<Error code name>".
//   keyloop_store_tool probe|write|read SERVICE KEY   (write stores $KEYLOOP_TOOL_TOKEN as refresh token)
// $KEYLOOP_TOOL_MAX_ITEM_SIZE sets KeychainTokenStore::setMaxItemSize(); in test builds
// $KEYLOOP_TEST_KILL_AT kills the process at a crash point (store/testhooks_p.h).
#include <keyloop/keychaintokenstore.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>

#include <cstdio>

using namespace Keyloop;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() != 4) {
        std::fprintf(stderr, "usage: keyloop_store_tool probe|write|read SERVICE KEY\n");
        return 2;
    }
    KeychainTokenStore store(args.at(2));
    if (qEnvironmentVariableIsSet("KEYLOOP_TOOL_MAX_ITEM_SIZE"))
        store.setMaxItemSize(qEnvironmentVariableIntValue("KEYLOOP_TOOL_MAX_ITEM_SIZE"));
    TokenStoreJob *job = nullptr;
    if (args.at(1) == QLatin1String("probe")) {
        job = store.probe();
    } else if (args.at(1) == QLatin1String("write")) {
        SessionRecord r;
        r.setIssuer(QStringLiteral("https://issuer.test"));
        r.setClientId(QStringLiteral("client"));
        r.setRefreshToken(qgetenv("KEYLOOP_TOOL_TOKEN"));
        SessionAccessToken at;
        at.token = qgetenv("KEYLOOP_TOOL_TOKEN") + "-at";
        r.setAccessToken(QString(), at);
        job = store.write(args.at(3), r);
    } else {
        job = store.read(args.at(3));
    }
    QObject::connect(job, &Job::finished, &app, [job] {
        std::printf("result=%s\n", qPrintable(Error::codeName(job->error().code())));
        std::fflush(stdout);
        QCoreApplication::exit(0);
    });
    job->start();
    QTimer::singleShot(20000, &app, [] {
        std::printf("result=Hang\n");
        QCoreApplication::exit(1);
    });
    return app.exec();
}
