// SPDX-License-Identifier: MIT
// HttpClient benchmark (issue 11 "Performance"). Everything on loopback, in one process: a
// keep-alive HTTP/1.1 server of our own on its own thread (an API answering "{}" and a token
// endpoint), and the clients on the main thread.
//
//   client.overhead        N sequential authenticated GETs through HttpClient + SessionCredential
//                          (fresh token) against the same N through a bare QNetworkAccessManager
//                          that sets a fixed Authorization header; the sides alternate request
//                          by request; medians of the per-request latencies.
//   client.overhead_peer   the same N through Qt NetworkAuth 6.4's QOAuth2AuthorizationCodeFlow::get()
//                          with a token set by hand (a benchmark-only dependency).
//   client.refresh_storm   1,000 concurrent GETs while the access token is expired (one refresh
//                          must serve them all) against the same 1,000 with a fresh token.
//
// Both sides of a figure are interleaved (request by request for the overhead, round by round
// for the storm, first one then the other first), so both see the same machine load; each
// figure is a median. Prints only timings.
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessioncredential.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtNetworkAuth/QOAuth2AuthorizationCodeFlow>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

using namespace Keyloop;

namespace {

// --- The loopback server: keep-alive HTTP/1.1, GETs answered "{}", POST /token a token response.
class LoopbackServer : public QTcpServer
{
public:
    std::atomic<int> tokenRequests{0};

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        socket->setSocketDescriptor(descriptor);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            for (;;) {
                const qsizetype end = buffer->indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                qsizetype length = 0;
                const qsizetype cl = buffer->left(end).toLower().indexOf("content-length:");
                if (cl >= 0)
                    length = buffer->mid(cl + 15, buffer->indexOf("\r\n", cl) - cl - 15).trimmed().toLongLong();
                if (buffer->size() < end + 4 + length)
                    return;
                const bool token = buffer->startsWith("POST /token ");
                buffer->remove(0, end + 4 + length);
                QByteArray body = QByteArrayLiteral("{}");
                if (token) {
                    ++tokenRequests;
                    body = QByteArrayLiteral("{\"access_token\":\"") + QByteArray(900, 'n') +
                           QByteArrayLiteral("\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"refresh_token\":\"") +
                           QByteArray(64, 'R') + QByteArrayLiteral("\"}");
                }
                socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: " +
                              QByteArray::number(body.size()) + "\r\n\r\n" + body);
            }
        });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
};

const QByteArray kToken(900, 'a'); // a JWT-sized access token

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Runs the event loop until \a done() holds.
void spin(const std::function<bool()> &done)
{
    while (!done())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
}

class Bench
{
public:
    Bench(quint16 port, LoopbackServer *server) : m_server(server)
    {
        m_base = QStringLiteral("http://127.0.0.1:%1").arg(port);
        m_transport.setAllowInsecureLoopbackForDevelopment(true);
        m_client.setIssuer(QUrl(m_base));
        m_client.setClientId(QStringLiteral("bench-client"));
        m_client.setTransport(m_transport);
        m_provider.setIssuer(QUrl(m_base));
        m_provider.setTokenEndpoint(QUrl(m_base + QStringLiteral("/token")));
    }

    QUrl url(const QString &path) const { return QUrl(m_base + path); }

    // A session restored from memory with an access token that is fresh or already expired.
    std::unique_ptr<Session> session(bool fresh, MemoryTokenStore *store, bool dpop = false)
    {
        SessionRecord r;
        r.setIssuer(m_base);
        r.setClientId(m_client.clientId());
        r.setSubject(QStringLiteral("bench"));
        r.setRefreshToken(QByteArray(64, 'r'));
        SessionAccessToken at;
        at.token = kToken;
        at.issuedAt = QDateTime::currentDateTimeUtc().addSecs(fresh ? 0 : -7200);
        at.expiresAt = at.issuedAt.addSecs(3600);
        if (dpop) {
            // Bound to a key (RFC 9449): every request gets a new ES256 proof with ath.
            at.tokenType = QStringLiteral("DPoP");
            r.setDpopKey(DpopKey::generate().privateJwk());
        }
        r.setAccessToken(QString(), at);
        r.setIdToken(QByteArray(800, 'i'));
        const QString key = TokenStore::keyFor(r.issuer(), r.clientId(), QString());
        TokenStoreJob *write = store->write(key, r);
        bool written = false;
        QObject::connect(write, &Job::finished, write, [&written] { written = true; });
        write->start();
        spin([&] { return written; });
        auto s = std::make_unique<Session>(m_client, m_provider, store, &m_nam);
        SessionJob *restore = s->restore();
        bool restored = false;
        QObject::connect(restore, &Job::finished, restore, [&restored, restore] {
            if (restore->error())
                std::fprintf(stderr, "bench_httpclient: restore failed: %s\n", qPrintable(restore->error().toString()));
            restored = true;
        });
        restore->start();
        spin([&] { return restored; });
        return s;
    }

    // N sequential requests, alternating between the sides (a, b, c, a, b, c … with the order
    // rotated every request), each timed on its own: the latency of every request of each side,
    // in µs. Alternating request by request means both sides see the same machine load; the
    // median over all requests then ignores the odd scheduling spike.
    using One = std::function<void(std::function<void()>)>;
    std::vector<std::vector<double>> alternating(int n, const std::vector<One> &sides)
    {
        std::vector<std::vector<double>> latencies(sides.size());
        const int total = n * int(sides.size());
        int done = 0;
        QElapsedTimer timer;
        std::function<void()> next = [&] {
            if (done >= total)
                return;
            const int round = done / int(sides.size());
            const size_t side = size_t(done + round) % sides.size();
            timer.start();
            sides[side]([&, side] {
                latencies[side].push_back(double(timer.nsecsElapsed()) / 1000.0);
                ++done;
                next();
            });
        };
        next();
        spin([&] { return done >= total; });
        return latencies;
    }

    // One GET through \a http (Keyloop's side of an overhead figure).
    static One keyloopGet(HttpClient *http, const QUrl &api, const char *what)
    {
        return [http, api, what](std::function<void()> next) {
            HttpReply *reply = http->get(QNetworkRequest(api));
            QObject::connect(reply, &Job::finished, reply, [reply, next, what] {
                if (reply->error())
                    std::fprintf(stderr, "bench_httpclient: %s request failed\n", what);
                next();
            });
        };
    }

    // One GET through the bare manager with a fixed Authorization header (the baseline).
    One qnamGet(const QUrl &api, const QByteArray &authorization)
    {
        return [this, api, authorization](std::function<void()> next) {
            QNetworkRequest request(api);
            request.setRawHeader("Authorization", authorization);
            QNetworkReply *reply = m_nam.get(request);
            QObject::connect(reply, &QNetworkReply::finished, reply, [reply, next] {
                reply->readAll();
                reply->deleteLater();
                next();
            });
        };
    }

    void overhead(int n, int rounds)
    {
        MemoryTokenStore store(QStringLiteral("org.keyloop.bench"));
        std::unique_ptr<Session> s = session(true, &store);
        SessionCredential credential(s.get(), QString());
        credential.setProactiveRefreshEnabled(false);
        HttpClient http(&m_nam, m_transport);
        if (http.addCredential(&credential, {url(QStringLiteral("/api"))}))
            std::fprintf(stderr, "bench_httpclient: addCredential failed\n");
        QOAuth2AuthorizationCodeFlow peer(&m_nam);
        peer.setToken(QString::fromLatin1(kToken));
        const QUrl api = url(QStringLiteral("/api/items"));
        const QByteArray authorization = "Bearer " + kToken;

        const One keyloop = keyloopGet(&http, api, "keyloop");
        const One qnam = qnamGet(api, authorization);
        const One networkAuth = [&](std::function<void()> next) {
            QNetworkReply *reply = peer.get(api);
            QObject::connect(reply, &QNetworkReply::finished, reply, [reply, next] {
                reply->readAll();
                reply->deleteLater();
                next();
            });
        };
        // Warm-up: connections open, code paths paged in.
        alternating(50, {keyloop, qnam, networkAuth});
        std::vector<double> k, q, p;
        for (int round = 0; round < rounds; ++round) {
            const auto l = alternating(n, {keyloop, qnam, networkAuth});
            k.insert(k.end(), l[0].begin(), l[0].end());
            q.insert(q.end(), l[1].begin(), l[1].end());
            p.insert(p.end(), l[2].begin(), l[2].end());
        }
        const double km = median(k), qm = median(q), pm = median(p);
        std::printf("client.overhead keyloop=%.1fus qnam=%.1fus ratio=%.3f (target <= 1.05)\n", km, qm, km / qm);
        std::printf("client.overhead_peer qtnetworkauth=%.1fus qnam=%.1fus ratio=%.3f\n", pm, qm, pm / qm);
    }

    // The same N sequential GETs with a DPoP-bound token (a new ES256 proof per request, RFC 9449
    // §7.1) against the bare manager with its fixed Bearer header: what binding costs a caller.
    void overheadDpop(int n, int rounds)
    {
        MemoryTokenStore store(QStringLiteral("org.keyloop.bench.dpop"));
        std::unique_ptr<Session> s = session(true, &store, true);
        SessionCredential credential(s.get(), QString());
        credential.setProactiveRefreshEnabled(false);
        HttpClient http(&m_nam, m_transport);
        if (http.addCredential(&credential, {url(QStringLiteral("/api"))}))
            std::fprintf(stderr, "bench_httpclient: addCredential failed\n");
        const QUrl api = url(QStringLiteral("/api/items"));
        const QByteArray authorization = "Bearer " + kToken;
        const One keyloop = keyloopGet(&http, api, "keyloop DPoP");
        const One qnam = qnamGet(api, authorization);
        alternating(50, {keyloop, qnam});
        std::vector<double> k, q;
        for (int round = 0; round < rounds; ++round) {
            const auto l = alternating(n, {keyloop, qnam});
            k.insert(k.end(), l[0].begin(), l[0].end());
            q.insert(q.end(), l[1].begin(), l[1].end());
        }
        const double km = median(k), qm = median(q);
        std::printf("client.overhead_dpop keyloop=%.1fus qnam=%.1fus ratio=%.3f\n", km, qm, km / qm);
    }

    // 1,000 concurrent GETs; ms until the last finished. Returns the token requests it cost.
    double burst(bool fresh, int n, int *refreshes)
    {
        MemoryTokenStore store(QStringLiteral("org.keyloop.bench"));
        std::unique_ptr<Session> s = session(fresh, &store);
        SessionCredential credential(s.get(), QString());
        credential.setProactiveRefreshEnabled(false);
        HttpClient http(&m_nam, m_transport);
        if (http.addCredential(&credential, {url(QStringLiteral("/api"))}))
            std::fprintf(stderr, "bench_httpclient: addCredential failed\n");
        const int before = m_server->tokenRequests.load();
        const QUrl api = url(QStringLiteral("/api/items"));
        int done = 0;
        int failed = 0;
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < n; ++i) {
            HttpReply *reply = http.get(QNetworkRequest(api));
            QObject::connect(reply, &Job::finished, reply, [&done, &failed, reply] {
                failed += reply->error() ? 1 : 0;
                ++done;
            });
        }
        spin([&] { return done >= n; });
        const double ms = double(timer.nsecsElapsed()) / 1e6;
        if (failed)
            std::fprintf(stderr, "bench_httpclient: %d of %d storm requests failed\n", failed, n);
        *refreshes = m_server->tokenRequests.load() - before;
        return ms;
    }

    void refreshStorm(int n, int rounds)
    {
        int ignored = 0;
        burst(true, n, &ignored); // warm-up
        std::vector<double> storm, fresh;
        int maxRefreshes = 0;
        for (int round = 0; round < rounds; ++round) {
            int refreshes = 0;
            if (round % 2 == 0) {
                storm.push_back(burst(false, n, &refreshes));
                fresh.push_back(burst(true, n, &ignored));
            } else {
                fresh.push_back(burst(true, n, &ignored));
                storm.push_back(burst(false, n, &refreshes));
            }
            maxRefreshes = std::max(maxRefreshes, refreshes);
        }
        const double sm = median(storm), fm = median(fresh);
        std::printf("client.refresh_storm requests=%d refreshes=%d storm=%.1fms fresh=%.1fms ratio=%.2f (target refreshes=1, ratio <= 1.2)\n",
                    n, maxRefreshes, sm, fm, sm / fm);
    }

private:
    LoopbackServer *m_server;
    QString m_base;
    TransportOptions m_transport;
    ClientConfiguration m_client;
    ProviderConfiguration m_provider;
    QNetworkAccessManager m_nam;
};

int argument(const QStringList &args, const QString &name, int fallback)
{
    for (const QString &a : args)
        if (a.startsWith(name + QLatin1Char('=')))
            return a.mid(name.size() + 1).toInt();
    return fallback;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int rounds = std::max(5, argument(args, QStringLiteral("--rounds"), 7));
    const int n = std::max(10, argument(args, QStringLiteral("--requests"), 300));

    QThread serverThread;
    auto *server = new LoopbackServer;
    server->moveToThread(&serverThread);
    serverThread.start();
    quint16 port = 0;
    QMetaObject::invokeMethod(server, [server, &port] {
        if (server->listen(QHostAddress::LocalHost, 0))
            port = server->serverPort();
    }, Qt::BlockingQueuedConnection);
    if (!port) {
        std::fprintf(stderr, "bench_httpclient: cannot listen on loopback\n");
        return 1;
    }
    {
        Bench bench(port, server);
        bench.overhead(n, rounds);
        bench.overheadDpop(n, rounds);
        bench.refreshStorm(1000, rounds);
    }
    QMetaObject::invokeMethod(server, [server] { delete server; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();
    return 0;
}
