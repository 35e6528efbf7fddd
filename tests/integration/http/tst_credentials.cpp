// SPDX-License-Identifier: MIT
// The other credentials apps mix in (issue 11), in the sandbox: ApiKeyCredential with the real
// keychain (gnome-keyring) against a loopback API of our own, and ClientCredentialsCredential
// with the devstack's confidential client `keyloop-service` against the devstack's API (2 s JWT
// access tokens bound to the API's resource indicator). The admin counters prove how many token
// requests each case cost.
#include <keyloop/apikeycredential.h>
#include <keyloop/clientcredentialscredential.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/secretjob.h>
#include <keyloop/tokenclient.h>

#include "../../unit/session/fakeprovider.h"
#include "testsupport.h"

#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;
using KeyloopSessionTest::FakeServer;
using KeyloopSessionTest::httpResponse;
using KeyloopSessionTest::Request;

namespace {

QByteArray header(const Request &request, const QByteArray &name)
{
    for (const auto &h : request.headers)
        if (h.first == name.toLower())
            return h.second;
    return QByteArray();
}

bool hasHeader(const Request &request, const QByteArray &name)
{
    for (const auto &h : request.headers)
        if (h.first == name.toLower())
            return true;
    return false;
}

// Runs a job to its end; false on timeout.
bool run(Job *job, Error *error)
{
    job->setAutoDelete(false);
    QSignalSpy finished(job, &Job::finished);
    job->start();
    const bool ok = finished.wait(15000);
    *error = job->error();
    delete job;
    return ok;
}

struct Outcome
{
    Error error;
    int status = 0;
    QJsonValue json;
};

Outcome wait(HttpReply *reply)
{
    Outcome o;
    bool done = false;
    QObject::connect(reply, &Job::finished, reply, [&, reply] {
        o.error = reply->error();
        o.status = reply->statusCode();
        o.json = reply->json();
        done = true;
    });
    if (!QTest::qWaitFor([&done] { return done; }, 30000))
        o.error = Error(Error::Code::Timeout, QStringLiteral("the reply never finished"));
    return o;
}

} // namespace

class tst_Credentials : public QObject
{
    Q_OBJECT

    QString m_service;
    QNetworkAccessManager m_nam;
    Devstack m_devstack;
    std::unique_ptr<Admin> m_admin;
    ProviderConfiguration m_provider;

    // --- API key fixtures: a loopback API that records what it got.
    std::unique_ptr<FakeServer> m_api;
    std::unique_ptr<HttpClient> m_http;

    static TransportOptions loopbackOptions()
    {
        TransportOptions o;
        o.setAllowInsecureLoopbackForDevelopment(true);
        return o;
    }

    ClientConfiguration serviceClient() const
    {
        ClientConfiguration c;
        c.setIssuer(m_devstack.issuer);
        c.setClientId(m_devstack.serviceClientId);
        c.setClientAuthMethod(ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
        c.setScopes({QStringLiteral("api:read")});
        TransportOptions transport;
        transport.setExtraCaCertificates(m_devstack.caCertificates());
        c.setTransport(transport);
        return c;
    }

    QUrl devstackApi(const char *path) const
    {
        QUrl url = m_devstack.api;
        url.setPath(QString::fromLatin1(path));
        return url;
    }

    int counter(const char *name) const { return m_admin->counter(QString::fromLatin1(name)); }

private Q_SLOTS:
    void initTestCase()
    {
        m_service = qEnvironmentVariable("KEYLOOP_TEST_SERVICE");
        QVERIFY2(!m_service.isEmpty(), "run inside the sandbox (KEYLOOP_TEST_SERVICE)");
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        QVERIFY(!m_devstack.serviceClientSecret.isEmpty());
        m_admin = std::make_unique<Admin>(m_devstack.admin);
        auto *discovery = new DiscoveryJob(&m_nam, m_devstack.issuer, serviceClient().transport());
        QSignalSpy discovered(discovery, &Job::finished);
        discovery->start();
        QVERIFY(discovered.wait(10000));
        QVERIFY2(!discovery->error(), qPrintable(discovery->error().toString()));
        m_provider = discovery->configuration();
    }

    void init()
    {
        m_api = std::make_unique<FakeServer>();
        QVERIFY(m_api->listen());
        for (const QByteArray &path : {QByteArrayLiteral("/v1/items"), QByteArrayLiteral("/other")})
            m_api->setHandler(path, [](const Request &, QTcpSocket *socket) { FakeServer::reply(socket, httpResponse(200, "{}")); });
        m_http = std::make_unique<HttpClient>(&m_nam, loopbackOptions());
    }

    void cleanup()
    {
        m_http.reset();
        m_api.reset();
    }

    // ---------------------------------------------------------------- API key

    void apiKeyGoesOnlyToItsLocationInItsHeader()
    {
        ApiKeyCredential key(m_service, QStringLiteral("bound"));
        Error error;
        QVERIFY(run(key.store("k-123.abc_XYZ"), &error));
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(!m_http->addCredential(&key, {m_api->url(QStringLiteral("/v1"))}));

        QVERIFY(!wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))))).error);
        QVERIFY(!wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/other"))))).error);
        QCOMPARE(m_api->count("/v1/items"), 1);
        QVERIFY(header(m_api->requests("/v1/items").constFirst(), "X-Api-Key") == "k-123.abc_XYZ");
        QVERIFY(!hasHeader(m_api->requests("/v1/items").constFirst(), "Authorization"));
        QCOMPARE(m_api->count("/other"), 1);
        QVERIFY(!hasHeader(m_api->requests("/other").constFirst(), "X-Api-Key"));
        QVERIFY(!m_api->requests("/v1/items").constFirst().target.contains("k-123")); // never in the URL

        QVERIFY(run(key.remove(), &error));
        QVERIFY(!error);
    }

    void aKeyStoredByAnotherInstanceServesConcurrentRequests()
    {
        {
            ApiKeyCredential writer(m_service, QStringLiteral("shared"));
            Error error;
            QVERIFY(run(writer.store("from-another-process"), &error));
            QVERIFY(!error);
        }
        // A new credential (a new process, say) finds the key in the keychain.
        ApiKeyCredential key(m_service, QStringLiteral("shared"));
        key.setHeaderName("Authorization");
        key.setScheme("Token");
        QVERIFY(!m_http->addCredential(&key, {m_api->url(QStringLiteral("/v1"))}));
        int done = 0;
        int ok = 0;
        for (int i = 0; i < 10; ++i) {
            HttpReply *reply = m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))));
            connect(reply, &Job::finished, this, [&, reply] {
                ok += reply->error() ? 0 : 1;
                ++done;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 10, 15000);
        QCOMPARE(ok, 10);
        for (const Request &r : m_api->requests("/v1/items"))
            QVERIFY(header(r, "Authorization") == "Token from-another-process");
        Error error;
        QVERIFY(run(key.remove(), &error));
        QVERIFY(!error);
    }

    void aMissingApiKeyFailsTheRequestWithoutSendingIt()
    {
        ApiKeyCredential key(m_service, QStringLiteral("never-stored"));
        QVERIFY(!m_http->addCredential(&key, {m_api->url(QStringLiteral("/v1"))}));
        const Outcome o = wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items")))));
        QCOMPARE(o.error.code(), Error::Code::NotFound);
        QCOMPARE(m_api->count("/v1/items"), 0);
    }

    void aRemovedApiKeyIsNoLongerSent()
    {
        ApiKeyCredential key(m_service, QStringLiteral("removed"));
        Error error;
        QVERIFY(run(key.store("to-be-removed"), &error));
        QVERIFY(!m_http->addCredential(&key, {m_api->url(QStringLiteral("/v1"))}));
        QVERIFY(!wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))))).error);
        QVERIFY(run(key.remove(), &error));
        QVERIFY(!error);
        QCOMPARE(wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))))).error.code(), Error::Code::NotFound);
        QCOMPARE(m_api->count("/v1/items"), 1);
        // And it is gone from the keychain, not only from memory.
        ApiKeyCredential fresh(m_service, QStringLiteral("removed"));
        QVERIFY(!m_http->addCredential(&fresh, {m_api->url(QStringLiteral("/v1"))}));
        QCOMPARE(wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))))).error.code(), Error::Code::NotFound);
    }

    void invalidApiKeysAreRefused_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("header injection") << QByteArray("abc\r\nX-Admin: 1");
        QTest::newRow("space") << QByteArray("abc def");
        QTest::newRow("non-ASCII") << QByteArray("cl\xc3\xa9");
        QTest::newRow("too long") << QByteArray(4097, 'k');
    }

    void invalidApiKeysAreRefused()
    {
        QFETCH(QByteArray, key);
        QVERIFY(!ApiKeyCredential::isValidKey(key));
        ApiKeyCredential credential(m_service, QStringLiteral("invalid"));
        Error error;
        QVERIFY(run(credential.store(key), &error));
        QCOMPARE(error.code(), Error::Code::InvalidConfiguration);
    }

    void aRejectedApiKeyIsReadAgainFromTheKeychain()
    {
        // The API accepts only the rotated key; another process stored it after we loaded ours.
        m_api->setHandler("/v1/items", [](const Request &r, QTcpSocket *socket) {
            FakeServer::reply(socket, header(r, "X-Api-Key") == "rotated" ? httpResponse(200, "{}")
                                                                          : httpResponse(401, QByteArray(), "application/json",
                                                                                         {"WWW-Authenticate: ApiKey"}));
        });
        ApiKeyCredential key(m_service, QStringLiteral("rotating"));
        Error error;
        QVERIFY(run(key.store("original"), &error));
        QVERIFY(!m_http->addCredential(&key, {m_api->url(QStringLiteral("/v1"))}));
        {
            ApiKeyCredential other(m_service, QStringLiteral("rotating"));
            QVERIFY(run(other.store("rotated"), &error));
            QVERIFY(!error);
        }
        const Outcome o = wait(m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items")))));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(m_api->count("/v1/items"), 2); // the 401, then the replay with the key read again
        QVERIFY(run(key.remove(), &error));
    }

    void aWaitingRequestIsCancelledWhenTheApiKeyCredentialDies()
    {
        auto *key = new ApiKeyCredential(m_service, QStringLiteral("dying"));
        QVERIFY(!m_http->addCredential(key, {m_api->url(QStringLiteral("/v1"))}));
        HttpReply *reply = m_http->get(QNetworkRequest(m_api->url(QStringLiteral("/v1/items"))));
        Outcome o;
        bool done = false;
        connect(reply, &Job::finished, this, [&, reply] {
            o.error = reply->error();
            done = true;
        });
        // Posted after the reply's start: when it runs, the reply has asked the credential,
        // which is now reading the keychain.
        bool asked = false;
        QMetaObject::invokeMethod(this, [&asked] { asked = true; }, Qt::QueuedConnection);
        QTRY_VERIFY(asked);
        delete key;
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        QCOMPARE(o.error.code(), Error::Code::Cancelled);
        QCOMPARE(m_api->count("/v1/items"), 0);
    }

    // ------------------------------------------------------ client credentials

    void clientCredentialsCallTheApiAsTheClient()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        Error error;
        QVERIFY(run(service.storeClientSecret(m_devstack.serviceClientSecret.toUtf8()), &error));
        QVERIFY2(!error, qPrintable(error.toString()));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));

        const Outcome o = wait(http.get(QNetworkRequest(devstackApi("/api/me"))));
        QVERIFY2(!o.error, qPrintable(o.error.toString()));
        QCOMPARE(o.json.toObject().value(QStringLiteral("client_id")).toString(), m_devstack.serviceClientId);
        QCOMPARE(counter("token"), 1);
        // A fresh token costs nothing.
        QVERIFY(!wait(http.get(QNetworkRequest(devstackApi("/api/items")))).error);
        QCOMPARE(counter("token"), 1);
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    // RFC 9449 with the client credentials grant: the credential's own key (in memory) is proved
    // on the token request and on every API request; the API sees a DPoP-bound token.
    void clientCredentialsWithDpop()
    {
        ClientConfiguration config = serviceClient();
        config.setDpopEnabled(true);
        TokenClient tokens(&m_nam, config.transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, config, m_devstack.apiResource);
        Error error;
        QVERIFY(run(service.storeClientSecret(m_devstack.serviceClientSecret.toUtf8()), &error));
        QVERIFY2(!error, qPrintable(error.toString()));
        HttpClient http(&m_nam, config.transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));

        const Outcome me = wait(http.get(QNetworkRequest(devstackApi("/api/me"))));
        QVERIFY2(!me.error, qPrintable(me.error.toString()));
        QCOMPARE(me.json.toObject().value(QStringLiteral("token_type")).toString(), QStringLiteral("DPoP"));
        const QString jkt = me.json.toObject().value(QStringLiteral("jkt")).toString();
        QVERIFY(!jkt.isEmpty());
        QVERIFY(!wait(http.get(QNetworkRequest(devstackApi("/api/items")))).error);
        QCOMPARE(counter("token"), 1);
        QCOMPARE(counter("apiDpop"), 2);
        QCOMPARE(counter("apiDpopRejected"), 0);
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    void manyWaitingRequestsShareOneTokenRequest()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        service.setProactiveRefreshEnabled(false);
        Error error;
        QVERIFY(run(service.storeClientSecret(m_devstack.serviceClientSecret.toUtf8()), &error));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));

        const auto burst = [&] {
            int ok = 0;
            int done = 0;
            for (int i = 0; i < 20; ++i) {
                HttpReply *reply = http.get(QNetworkRequest(devstackApi("/api/me")));
                connect(reply, &Job::finished, this, [&, reply] {
                    ok += reply->error() ? 0 : 1;
                    ++done;
                });
            }
            QTRY_COMPARE_WITH_TIMEOUT(done, 20, 30000);
            QCOMPARE(ok, 20);
        };
        const QDateTime start = QDateTime::currentDateTimeUtc();
        burst(); // no token yet
        QCOMPARE(counter("token"), 1);
        // The devstack's tokens live 2 s; wait on the wall clock until the cached one has expired.
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > start.addMSecs(2200), 10000);
        burst(); // a stale token: one token request again
        QCOMPARE(counter("token"), 2);
        QCOMPARE(counter("api"), 40);
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    void theTokenIsRefreshedBeforeItExpiresWhileInUse()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        Error error;
        QVERIFY(run(service.storeClientSecret(m_devstack.serviceClientSecret.toUtf8()), &error));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(!wait(http.get(QNetworkRequest(devstackApi("/api/me")))).error);
        QVERIFY(service.nextRefresh().isValid());
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));
        // Nobody waits: the background refresh brings a new token before the old one is stale.
        QTRY_VERIFY_WITH_TIMEOUT(counter("token") >= 1, 5000);
        QVERIFY(!wait(http.get(QNetworkRequest(devstackApi("/api/me")))).error);
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    void aRejectedTokenCostsOneTokenRequestAndOneReplay()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        service.setProactiveRefreshEnabled(false);
        Error error;
        QVERIFY(run(service.storeClientSecret(m_devstack.serviceClientSecret.toUtf8()), &error));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(!wait(http.get(QNetworkRequest(devstackApi("/api/me")))).error);
        QVERIFY(m_admin->rotateKeys()); // the API stops accepting the unexpired token
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));
        int ok = 0;
        int done = 0;
        for (int i = 0; i < 10; ++i) {
            HttpReply *reply = http.get(QNetworkRequest(devstackApi("/api/me")));
            connect(reply, &Job::finished, this, [&, reply] {
                ok += reply->error() ? 0 : 1;
                ++done;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 10, 30000);
        QCOMPARE(ok, 10);
        QCOMPARE(counter("token"), 1); // only the first rejection dropped the token
        QCOMPARE(counter("api"), 20);  // each request: the rejection and one replay
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    void withoutAProvisionedSecretNothingIsRequested()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        Error error;
        QVERIFY(run(service.removeClientSecret(), &error));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));
        QCOMPARE(wait(http.get(QNetworkRequest(devstackApi("/api/me")))).error.code(), Error::Code::NotFound);
        QCOMPARE(counter("token"), 0);
        QCOMPARE(counter("api"), 0);
    }

    void aWrongSecretIsAClientAuthenticationFailure()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientCredentialsCredential service(m_service, &tokens, m_provider, serviceClient(), m_devstack.apiResource);
        Error error;
        QVERIFY(run(service.storeClientSecret("not-the-secret"), &error));
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        const Outcome o = wait(http.get(QNetworkRequest(devstackApi("/api/me"))));
        QCOMPARE(o.error.code(), Error::Code::ClientAuthenticationFailed);
        QVERIFY(!o.error.message().contains(QStringLiteral("not-the-secret")));
        QVERIFY(run(service.removeClientSecret(), &error));
    }

    void aPublicClientCannotUseClientCredentials()
    {
        TokenClient tokens(&m_nam, serviceClient().transport());
        ClientConfiguration publicClient = serviceClient();
        publicClient.setClientAuthMethod(ClientConfiguration::ClientAuthMethod::None);
        ClientCredentialsCredential service(m_service, &tokens, m_provider, publicClient, m_devstack.apiResource);
        HttpClient http(&m_nam, serviceClient().transport());
        QVERIFY(!http.addCredential(&service, {devstackApi("/api")}));
        QCOMPARE(wait(http.get(QNetworkRequest(devstackApi("/api/me")))).error.code(), Error::Code::InvalidConfiguration);
    }
};

QTEST_GUILESS_MAIN(tst_Credentials)
#include "tst_credentials.moc"
