// SPDX-License-Identifier: MIT
// Session benchmark.
//
//   bench_session [--runs N]        driver: seeds a stored session, then measures
//     session.cold_start   process start → Session::restore() from the keychain → fresh access
//                          token (no refresh), against a process that only reads one keychain item
//     session.fresh_token_in_process   hand-out of an already-fresh token (µs, no keychain read)
//   bench_session cold|baseline|seed|clean    the child modes the driver runs
//
// Environment: a D-Bus session bus with an unlocked secret service (the test sandbox), and the
// keychain service name in KEYLOOP_BENCH_SERVICE (default $KEYLOOP_TEST_SERVICE, else
// "org.keyloop.bench"). Prints only timings, never a token.
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>

#include <qt6keychain/keychain.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace Keyloop;

namespace {

QString service()
{
    QString s = qEnvironmentVariable("KEYLOOP_BENCH_SERVICE");
    if (s.isEmpty())
        s = qEnvironmentVariable("KEYLOOP_TEST_SERVICE");
    return s.isEmpty() ? QStringLiteral("org.keyloop.bench") : s;
}

const QString kIssuer = QStringLiteral("https://issuer.bench.invalid");
const QString kClientId = QStringLiteral("bench-client");
const QString kBaselineKey = QStringLiteral("bench-baseline-item");

ClientConfiguration client()
{
    ClientConfiguration c;
    c.setIssuer(QUrl(kIssuer));
    c.setClientId(kClientId);
    return c;
}

SessionRecord syntheticRecord()
{
    SessionRecord r;
    r.setIssuer(kIssuer);
    r.setClientId(kClientId);
    r.setSubject(QStringLiteral("bench"));
    r.setRefreshToken(QByteArray(64, 'r'));
    SessionAccessToken at;
    at.token = QByteArray(900, 'a'); // a JWT-sized access token
    at.issuedAt = QDateTime::currentDateTimeUtc();
    at.expiresAt = at.issuedAt.addSecs(3600);
    r.setAccessToken(QString(), at);
    r.setIdToken(QByteArray(800, 'i'));
    return r;
}

int fail(const char *what)
{
    std::fprintf(stderr, "bench_session: %s\n", what);
    return 1;
}

int seed(QCoreApplication &app)
{
    auto *store = new KeychainTokenStore(service(), &app);
    TokenStoreJob *job = store->write(TokenStore::keyFor(kIssuer, kClientId, QString()), syntheticRecord());
    QObject::connect(job, &Job::finished, &app, [&app, job] {
        if (job->error()) {
            std::fprintf(stderr, "bench_session: seeding failed: %s\n", qPrintable(job->error().toString()));
            QCoreApplication::exit(1);
            return;
        }
        auto *w = new QKeychain::WritePasswordJob(service(), &app);
        w->setInsecureFallback(false);
        w->setKey(kBaselineKey);
        w->setBinaryData(QByteArray(64, 'b'));
        QObject::connect(w, &QKeychain::Job::finished, &app, [w] { QCoreApplication::exit(w->error() ? 1 : 0); });
        w->start();
    });
    job->start();
    return app.exec();
}

int clean(QCoreApplication &app)
{
    auto *store = new KeychainTokenStore(service(), &app);
    TokenStoreJob *job = store->remove(TokenStore::keyFor(kIssuer, kClientId, QString()));
    QObject::connect(job, &Job::finished, &app, [&app] {
        auto *d = new QKeychain::DeletePasswordJob(service(), &app);
        d->setKey(kBaselineKey);
        QObject::connect(d, &QKeychain::Job::finished, &app, [] { QCoreApplication::exit(0); });
        d->start();
    });
    job->start();
    return app.exec();
}

// A process that only reads one keychain item.
int baseline(QCoreApplication &app)
{
    auto *job = new QKeychain::ReadPasswordJob(service(), &app);
    job->setInsecureFallback(false);
    job->setKey(kBaselineKey);
    QObject::connect(job, &QKeychain::Job::finished, &app, [job] { QCoreApplication::exit(job->error() ? 1 : 0); });
    job->start();
    return app.exec();
}

// Cold start: restore → fresh token (no refresh). With \a handOuts > 0, also measures the
// in-process hand-out of the fresh token and prints the median in µs.
int cold(QCoreApplication &app, int handOuts)
{
    auto *nam = new QNetworkAccessManager(&app);
    auto *store = new KeychainTokenStore(service(), &app);
    auto *session = new Session(client(), ProviderConfiguration(), store, nam, &app);
    SessionJob *job = session->restore();
    QObject::connect(job, &Job::finished, &app, [&app, session, handOuts, job] {
        if (job->error()) {
            std::fprintf(stderr, "bench_session: restore failed: %s\n", qPrintable(job->error().toString()));
            QCoreApplication::exit(1);
            return;
        }
        session->freshAccessToken(QString(), &app, [&app, session, handOuts](const QByteArray &token, const Error &e) {
            if (e || token.isEmpty()) {
                QCoreApplication::exit(1);
                return;
            }
            if (handOuts <= 0) {
                QCoreApplication::exit(0);
                return;
            }
            // In-process hand-out: each call waits for its (queued) callback.
            auto samples = std::make_shared<std::vector<qint64>>();
            auto timer = std::make_shared<QElapsedTimer>();
            auto next = std::make_shared<std::function<void()>>();
            *next = [&app, session, handOuts, samples, timer, next] {
                timer->start();
                session->freshAccessToken(QString(), &app, [handOuts, samples, timer, next](const QByteArray &t, const Error &err) {
                    samples->push_back(timer->nsecsElapsed());
                    if (err || t.isEmpty()) {
                        QCoreApplication::exit(1);
                        return;
                    }
                    if (int(samples->size()) < handOuts) {
                        (*next)();
                        return;
                    }
                    std::sort(samples->begin(), samples->end());
                    const double median = double((*samples)[samples->size() / 2]) / 1000.0;
                    const double p99 = double((*samples)[samples->size() * 99 / 100]) / 1000.0;
                    std::printf("session.fresh_token_in_process median=%.1fus p99=%.1fus samples=%d\n", median, p99, handOuts);
                    std::fflush(stdout);
                    *next = nullptr; // break the cycle
                    QCoreApplication::exit(0);
                });
            };
            (*next)();
        });
    });
    job->start();
    return app.exec();
}

double medianMs(std::vector<qint64> ns)
{
    std::sort(ns.begin(), ns.end());
    return double(ns[ns.size() / 2]) / 1e6;
}

// Runs this executable in \a mode; returns the wall time from start to exit in ns, or -1.
qint64 timeChild(const QString &mode)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedChannels);
    QElapsedTimer t;
    t.start();
    p.start(QCoreApplication::applicationFilePath(), {mode});
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return -1;
    return t.nsecsElapsed();
}

int driver(int runs)
{
    if (timeChild(QStringLiteral("seed")) < 0)
        return fail("cannot seed the keychain (is a secret service running? see the header comment)");
    // Warm-up (page cache, keyring daemon).
    timeChild(QStringLiteral("cold"));
    timeChild(QStringLiteral("baseline"));
    std::vector<qint64> keyloop, base;
    for (int i = 0; i < runs; ++i) {
        const qint64 k = timeChild(QStringLiteral("cold"));
        const qint64 b = timeChild(QStringLiteral("baseline"));
        if (k < 0 || b < 0) {
            timeChild(QStringLiteral("clean"));
            return fail("a child run failed");
        }
        keyloop.push_back(k);
        base.push_back(b);
    }
    const double km = medianMs(keyloop);
    const double bm = medianMs(base);
    std::printf("session.cold_start keyloop=%.1fms baseline=%.1fms ratio=%.2f (target <= 1.3) runs=%d\n", km, bm, km / bm, runs);
    std::fflush(stdout);
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedChannels);
    p.start(QCoreApplication::applicationFilePath(), {QStringLiteral("inprocess")});
    const bool ok = p.waitForFinished(60000) && p.exitCode() == 0;
    timeChild(QStringLiteral("clean"));
    return ok ? 0 : fail("in-process measurement failed");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const QString mode = args.value(1);
    if (mode == QLatin1String("seed"))
        return seed(app);
    if (mode == QLatin1String("clean"))
        return clean(app);
    if (mode == QLatin1String("baseline"))
        return baseline(app);
    if (mode == QLatin1String("cold"))
        return cold(app, 0);
    if (mode == QLatin1String("inprocess"))
        return cold(app, 10000);
    int runs = 15;
    if (mode == QLatin1String("--runs"))
        runs = std::max(1, args.value(2).toInt());
    return driver(runs);
}
