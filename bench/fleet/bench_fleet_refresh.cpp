// SPDX-License-Identifier: MIT
// Fleet refresh simulation (issue 16): how hard do 100,000 installed clients hit their provider's
// token endpoint, with the SDK's own background-refresh scheduling?
//
//   bench_fleet_refresh [--clients=N] [--seed=S] [--csv=FILE]
//
// Prints one line:
//   fleet.refresh clients=100000 peak=P mean=M ratio=R recovery_ratio=Q nojitter_ratio=N
// and exits 1 when a target is missed (ratio <= 1.5, recovery_ratio <= 3, nojitter_ratio >= 3).
// Writes the requests per 10-second bucket of both runs as CSV to FILE (default:
// $KEYLOOP_BENCH_OUT, else $KEYLOOP_BINARY_DIR/fleet-refresh.csv, else ./fleet-refresh.csv);
// bench/fleet/plot.gp draws it (./scripts/bench does).
//
// The model (docs/fleet-refresh.md):
// - Every client does what SessionCredential does (sdk/src/http/sessioncredential.cpp): after each
//   token, and after each failed background refresh, it asks RefreshSchedule::next() — the SDK's
//   real function, called here — when to refresh, with the token's issue and expiry times, the
//   session's lead time (Session::refreshLeadTime(), read from a real Session: its default), a
//   uniform random number from a seeded PRNG (SessionCredential::setRandomSource()), the number of
//   background refreshes that failed in a row and the last Retry-After. When the time comes it
//   refreshes: Session::accessTokenValidFor() with the validity the token has left at that time
//   always makes one token request (the schedule never plans one before half the lifetime).
// - Time is simulated: an event queue of next-refresh times, no timers, no network. Tokens live
//   one hour (expires_in=3600).
// - The mass start: at t = 0 every client signs in (one token request each, all in the first
//   bucket: the worst case — every token of the fleet issued at the same instant).
// - The outage: from 6 h to 6 h 10 min the token endpoint answers 503 with Retry-After: 60. Such a
//   request counts, fails (transient, Error::retryAfter() = 60 s) and the client reschedules with
//   failures + 1, as SessionCredential::backgroundRefreshFailed's path does.
// - Only background refreshes: the apps make no API calls that would refresh in the foreground.
// - Counted: token-endpoint requests in 10-second buckets. Steady state [2 h, 6 h), recovery
//   [6 h 10 min, 7 h). ratio = steady peak / steady mean; recovery_ratio = recovery peak /
//   steady mean; nojitter_ratio = the steady ratio of the same run for clients without jitter
//   (RefreshSchedule::setJitterFraction(0) and a constant random source, 1.0: no jitter in the
//   backoff either — both through the public API).
#include <keyloop/memorytokenstore.h>
#include <keyloop/refreshschedule.h>
#include <keyloop/session.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtNetwork/QNetworkAccessManager>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <queue>
#include <random>
#include <vector>

using namespace Keyloop;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kHour = 3600 * kSecond;
constexpr qint64 kTokenLifetime = kHour;
constexpr qint64 kEnd = 12 * kHour;
constexpr qint64 kOutageStart = 6 * kHour;
constexpr qint64 kOutageEnd = 6 * kHour + 10 * 60 * kSecond;
constexpr milliseconds kOutageRetryAfter = 60s;
constexpr qint64 kBucket = 10 * kSecond;
constexpr qint64 kSteadyStart = 2 * kHour, kSteadyEnd = 6 * kHour;
constexpr qint64 kRecoveryStart = kOutageEnd, kRecoveryEnd = 7 * kHour;

constexpr double kTargetRatio = 1.5;
constexpr double kTargetRecoveryRatio = 3.0;
constexpr double kTargetNoJitterRatio = 3.0;

struct Client
{
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    int failures = 0;
    milliseconds retryAfter{0};
};

struct Figures
{
    double peak = 0, mean = 0, recoveryPeak = 0;
    qint64 requests = 0;
};

// One run: every client from t = 0 to 12 h. Returns the requests per bucket.
std::vector<qint64> simulate(int clients, const RefreshSchedule &schedule, milliseconds leadTime,
                             const std::function<double()> &random)
{
    // The simulated clock's epoch; RefreshSchedule works on QDateTime, as SessionCredential does.
    const QDateTime epoch(QDate(2030, 1, 1), QTime(0, 0), Qt::UTC);
    std::vector<qint64> buckets(size_t(kEnd / kBucket), 0);
    std::vector<Client> fleet(static_cast<size_t>(clients));
    using Event = std::pair<qint64, int>; // (time, client)
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue;

    const auto plan = [&](int i, qint64 now) {
        const Client &c = fleet[size_t(i)];
        const QDateTime next = schedule.next(epoch.addMSecs(c.issuedAt), epoch.addMSecs(c.expiresAt), epoch.addMSecs(now),
                                             leadTime, random(), c.failures, c.retryAfter);
        if (next.isValid())
            queue.push({epoch.msecsTo(next), i});
    };
    const auto request = [&](int i, qint64 now) {
        buckets[size_t(now / kBucket)]++;
        Client &c = fleet[size_t(i)];
        if (now >= kOutageStart && now < kOutageEnd) {
            // 503 + Retry-After: 60: transient; SessionCredential counts the failure and keeps
            // the server's Retry-After for the next schedule.
            ++c.failures;
            c.retryAfter = kOutageRetryAfter;
        } else {
            c = Client{now, now + kTokenLifetime, 0, milliseconds(0)};
        }
        plan(i, now);
    };

    for (int i = 0; i < clients; ++i)
        request(i, 0); // the mass start: every client signs in at t = 0
    while (!queue.empty()) {
        const auto [when, i] = queue.top();
        queue.pop();
        if (when >= kEnd)
            continue;
        request(i, when);
    }
    return buckets;
}

Figures figures(const std::vector<qint64> &buckets)
{
    Figures f;
    qint64 sum = 0;
    for (qint64 b = kSteadyStart / kBucket; b < kSteadyEnd / kBucket; ++b) {
        f.peak = std::max(f.peak, double(buckets[size_t(b)]));
        sum += buckets[size_t(b)];
    }
    f.mean = double(sum) / double((kSteadyEnd - kSteadyStart) / kBucket);
    for (qint64 b = kRecoveryStart / kBucket; b < kRecoveryEnd / kBucket; ++b)
        f.recoveryPeak = std::max(f.recoveryPeak, double(buckets[size_t(b)]));
    for (qint64 n : buckets)
        f.requests += n;
    return f;
}

QString csvPath(const QString &given)
{
    if (!given.isEmpty())
        return given;
    const QString out = qEnvironmentVariable("KEYLOOP_BENCH_OUT");
    if (!out.isEmpty())
        return out;
    const QString binaryDir = qEnvironmentVariable("KEYLOOP_BINARY_DIR");
    return QDir(binaryDir.isEmpty() ? QDir::currentPath() : binaryDir).filePath(QStringLiteral("fleet-refresh.csv"));
}

bool writeCsv(const QString &path, const std::vector<qint64> &jitter, const std::vector<qint64> &noJitter)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        return false;
    QByteArray out = "seconds,jitter,nojitter\n";
    for (size_t b = 0; b < jitter.size(); ++b)
        out += QByteArray::number(qint64(b) * kBucket / kSecond) + ',' + QByteArray::number(jitter[b]) + ','
            + QByteArray::number(noJitter[b]) + '\n';
    return file.write(out) == out.size() && file.flush();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int clients = 100000;
    quint64 seed = 16;
    QString csv;
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg.startsWith("--clients="))
            clients = std::max(1, arg.mid(10).toInt());
        else if (arg.startsWith("--seed="))
            seed = arg.mid(7).toULongLong();
        else if (arg.startsWith("--csv="))
            csv = QString::fromLocal8Bit(arg.mid(6));
        else {
            std::fprintf(stderr, "usage: bench_fleet_refresh [--clients=N] [--seed=S] [--csv=FILE]\n");
            return 2;
        }
    }

    // The lead time as Session applies it: a real Session's default (the cap at half the
    // lifetime is applied by RefreshSchedule itself, as by the session).
    QNetworkAccessManager nam;
    MemoryTokenStore store(QStringLiteral("org.keyloop.bench.fleet"));
    ClientConfiguration client;
    client.setIssuer(QUrl(QStringLiteral("https://issuer.fleet.invalid")));
    client.setClientId(QStringLiteral("fleet"));
    const Session session(client, ProviderConfiguration(), &store, &nam);
    const milliseconds leadTime = std::chrono::duration_cast<milliseconds>(session.refreshLeadTime());

    QElapsedTimer timer;
    timer.start();
    std::mt19937_64 prng(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const RefreshSchedule jittered; // the defaults SessionCredential uses
    const std::vector<qint64> withJitter = simulate(clients, jittered, leadTime, [&] { return uniform(prng); });

    RefreshSchedule plain;
    plain.setJitterFraction(0.0);
    const std::vector<qint64> withoutJitter = simulate(clients, plain, leadTime, [] { return 1.0; });

    const Figures j = figures(withJitter);
    const Figures n = figures(withoutJitter);
    const double ratio = j.peak / j.mean;
    const double recoveryRatio = j.recoveryPeak / j.mean;
    const double noJitterRatio = n.peak / n.mean;
    std::printf("fleet.refresh clients=%d peak=%.0f mean=%.1f ratio=%.2f recovery_ratio=%.2f nojitter_ratio=%.2f\n",
                clients, j.peak, j.mean, ratio, recoveryRatio, noJitterRatio);

    const QString path = csvPath(csv);
    if (!writeCsv(path, withJitter, withoutJitter)) {
        std::fprintf(stderr, "bench_fleet_refresh: cannot write %s\n", qPrintable(path));
        return 1;
    }
    std::fprintf(stderr,
                 "bench_fleet_refresh: %lld token requests with jitter, %lld without, in %.1f s; series in %s\n",
                 j.requests, n.requests, double(timer.elapsed()) / 1000.0, qPrintable(path));
    bool ok = true;
    if (!(ratio <= kTargetRatio)) {
        std::fprintf(stderr, "bench_fleet_refresh: ratio %.2f misses the target <= %.1f\n", ratio, kTargetRatio);
        ok = false;
    }
    if (!(recoveryRatio <= kTargetRecoveryRatio)) {
        std::fprintf(stderr, "bench_fleet_refresh: recovery_ratio %.2f misses the target <= %.1f\n", recoveryRatio,
                     kTargetRecoveryRatio);
        ok = false;
    }
    if (!(noJitterRatio >= kTargetNoJitterRatio)) {
        std::fprintf(stderr, "bench_fleet_refresh: nojitter_ratio %.2f misses the target >= %.1f\n", noJitterRatio,
                     kTargetNoJitterRatio);
        ok = false;
    }
    return ok ? 0 : 1;
}
