// SPDX-License-Identifier: MIT
#include <keyloop/discoveryjob.h>

#include "testhttpserver.h"

#include <QtTest/QtTest>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>

using namespace Keyloop;
using namespace KeyloopTest;

namespace {

const qint64 kNow = 1700000000;

class FixedClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override
    {
        return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
    }
};

QByteArray document(const QString &issuer)
{
    return QJsonDocument(QJsonObject{
                             {QStringLiteral("issuer"), issuer},
                             {QStringLiteral("authorization_endpoint"), issuer + QStringLiteral("/auth")},
                             {QStringLiteral("token_endpoint"), issuer + QStringLiteral("/token")},
                         })
        .toJson(QJsonDocument::Compact);
}

TransportOptions loopbackOptions()
{
    TransportOptions options;
    options.setAllowInsecureLoopbackForDevelopment(true);
    return options;
}

struct Outcome
{
    bool done = false;
    int count = 0;
    Error error;
    ProviderConfiguration configuration;
};

std::shared_ptr<Outcome> run(DiscoveryJob *job)
{
    auto outcome = std::make_shared<Outcome>();
    QObject::connect(job, &Job::finished, job, [job, outcome] {
        ++outcome->count;
        outcome->done = true;
        outcome->error = job->error();
        outcome->configuration = job->configuration();
    });
    job->start();
    return outcome;
}

} // namespace

class tst_DiscoveryJob : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void usesOpenIdConfigurationFirst()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.url(QStringLiteral("/tenant"));
        server.setHandler([issuer](const HttpRequest &r) {
            if (r.target == "/tenant/.well-known/openid-configuration")
                return HttpResponse{200, document(issuer), {}, false, false};
            return HttpResponse{404, {}, {}, false, false};
        });
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(issuer), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QCOMPARE(outcome->configuration.tokenEndpoint(), QUrl(issuer + QStringLiteral("/token")));
        QCOMPARE(server.requests().size(), 1);
    }

    // The document's freshness (kept with a session: a restart uses it without discovery):
    // RFC 9111 caching headers, bounded to [5 min, 24 h]; 1 h without them.
    void freshnessFollowsTheCachingHeadersWithinBounds_data()
    {
        QTest::addColumn<QByteArray>("cacheControl");
        QTest::addColumn<QByteArray>("expires");
        QTest::addColumn<qint64>("freshForSeconds");
        const QDateTime now = QDateTime::fromSecsSinceEpoch(kNow, Qt::UTC);
        QTest::newRow("no headers: 1 h") << QByteArray() << QByteArray() << qint64(3600);
        QTest::newRow("max-age 7200") << QByteArray("public, max-age=7200") << QByteArray() << qint64(7200);
        QTest::newRow("max-age 10: at least 5 min") << QByteArray("max-age=10") << QByteArray() << qint64(300);
        QTest::newRow("max-age 1 year: at most 24 h") << QByteArray("max-age=31536000") << QByteArray() << qint64(86400);
        QTest::newRow("no-cache: 5 min") << QByteArray("no-cache") << QByteArray() << qint64(300);
        QTest::newRow("Expires in 2 h") << QByteArray() << now.addSecs(7200).toString(Qt::RFC2822Date).toLatin1() << qint64(7200);
        QTest::newRow("max-age wins over Expires") << QByteArray("max-age=1800")
                                                   << now.addSecs(7200).toString(Qt::RFC2822Date).toLatin1() << qint64(1800);
        QTest::newRow("invalid Expires: 5 min") << QByteArray() << QByteArray("soon") << qint64(300);
        QTest::newRow("no-store: stale at once") << QByteArray("no-store") << QByteArray() << qint64(0);
    }
    void freshnessFollowsTheCachingHeadersWithinBounds()
    {
        QFETCH(QByteArray, cacheControl);
        QFETCH(QByteArray, expires);
        QFETCH(qint64, freshForSeconds);
        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.url(QStringLiteral("/tenant"));
        server.setHandler([issuer, cacheControl, expires](const HttpRequest &) {
            HttpResponse response{200, document(issuer), {{"Content-Type", "application/json"}}, false, false};
            if (!cacheControl.isEmpty())
                response.headers.append({"Cache-Control", cacheControl});
            if (!expires.isEmpty())
                response.headers.append({"Expires", expires});
            return response;
        });
        QNetworkAccessManager nam;
        FixedClock clock;
        auto *job = new DiscoveryJob(&nam, QUrl(issuer), loopbackOptions());
        job->setClock(&clock);
        QCOMPARE(job->clock(), &clock);
        auto outcome = run(job);
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        const QDateTime now = QDateTime::fromSecsSinceEpoch(kNow, Qt::UTC);
        QCOMPARE(outcome->configuration.expiresAt(), now.addSecs(freshForSeconds));
        QCOMPARE(outcome->configuration.isStale(now), freshForSeconds == 0);
        QVERIFY(outcome->configuration.isStale(now.addSecs(freshForSeconds)));
        // Not part of the document: a copy without it compares equal.
        ProviderConfiguration copy = outcome->configuration;
        copy.setExpiresAt(QDateTime());
        QVERIFY(copy == outcome->configuration);
        QVERIFY(!copy.isStale(now.addYears(10))); // set by hand: never stale
    }

    void trailingSlashIssuerIsAppendedCorrectly()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.url(QStringLiteral("/"));
        server.setHandler([issuer](const HttpRequest &r) {
            if (r.target == "/.well-known/openid-configuration")
                return HttpResponse{200, document(issuer), {}, false, false};
            return HttpResponse{404, {}, {}, false, false};
        });
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(issuer), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
    }

    void fallsBackToOAuthAuthorizationServer_data()
    {
        QTest::addColumn<int>("firstStatus");
        QTest::newRow("404") << 404;
        QTest::newRow("500") << 500;
        QTest::newRow("302") << 302;
    }
    void fallsBackToOAuthAuthorizationServer()
    {
        QFETCH(int, firstStatus);
        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.url(QStringLiteral("/tenant"));
        server.setHandler([issuer, firstStatus](const HttpRequest &r) {
            // RFC 8414 §3.1: the well-known part goes before the issuer's path.
            if (r.target == "/.well-known/oauth-authorization-server/tenant")
                return HttpResponse{200, document(issuer), {}, false, false};
            return HttpResponse{firstStatus, {}, {{"Location", "http://127.0.0.1:1/elsewhere"}}, false, false};
        });
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(issuer), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QVERIFY2(!outcome->error, qPrintable(outcome->error.toString()));
        QCOMPARE(outcome->configuration.authorizationEndpoint(), QUrl(issuer + QStringLiteral("/auth")));
        QCOMPARE(server.requests().size(), 2);
        QCOMPARE(server.requests().at(0).target, QByteArray("/tenant/.well-known/openid-configuration"));
        QCOMPARE(server.requests().at(1).target, QByteArray("/.well-known/oauth-authorization-server/tenant"));
        QCOMPARE(outcome->count, 1);
    }

    void issuerMismatchIsFinal()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.url(QStringLiteral("/tenant"));
        const QString other = server.url(QStringLiteral("/other"));
        server.setHandler([other](const HttpRequest &) { return HttpResponse{200, document(other), {}, false, false}; });
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(issuer), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::IssuerMismatch);
        QVERIFY(outcome->configuration.isNull());
        QCOMPARE(server.requests().size(), 1);
    }

    void reportsNotFoundAtBothLocations()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { return HttpResponse{404, "nope", {}, false, false}; });
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(server.url(QString())), loopbackOptions()));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::HttpError);
        QCOMPARE(outcome->error.httpStatus(), 404);
        QVERIFY(!outcome->error.isTransient());
        QCOMPARE(server.requests().size(), 2);
    }

    void rejectsInsecureIssuerWithoutRequest()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        QNetworkAccessManager nam;
        auto outcome = run(new DiscoveryJob(&nam, QUrl(server.url(QStringLiteral("/tenant"))), TransportOptions()));
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::InsecureEndpoint);
        QCOMPARE(server.requests().size(), 0);
    }

    void cancelFinishesWithCancelled()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const HttpRequest &) { HttpResponse r; r.hang = true; return r; });
        QNetworkAccessManager nam;
        auto *job = new DiscoveryJob(&nam, QUrl(server.url(QStringLiteral("/t"))), loopbackOptions());
        QPointer<DiscoveryJob> guard(job);
        auto outcome = run(job);
        QTRY_COMPARE(server.requests().size(), 1);
        job->cancel();
        QTRY_VERIFY(outcome->done);
        QCOMPARE(outcome->error.code(), Error::Code::Cancelled);
        QTRY_VERIFY(guard.isNull()); // auto-deleted
        QCOMPARE(outcome->count, 1);
    }
};

QTEST_GUILESS_MAIN(tst_DiscoveryJob)
#include "tst_discoveryjob.moc"
