// SPDX-License-Identifier: MIT
// DPoP (RFC 9449) end to end against the sandbox's devstack: oidc-provider binds the tokens to the
// key of a real sign-in, the protected API verifies every proof (signature, htm, htu, iat, ath,
// jti replay, cnf.jkt), and the session lives in the sandbox's real gnome-keyring. Hostile
// counterparts are played with the same public API a stolen token would meet. Asserts on the
// devstack's counters and settings: SERIAL.
#include <keyloop/browserlauncher.h>
#include <keyloop/dpopkey.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>
#include <keyloop/sessioncredential.h>
#include <keyloop/signin.h>
#include <keyloop/userinfojob.h>

#include "devstackclient.h"
#include "testsupport.h"

#include <QtCore/QDir>
#include <QtCore/QDirIterator>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;

class tst_DpopDevstack : public QObject
{
    Q_OBJECT

    Devstack m_devstack;
    std::unique_ptr<Admin> m_admin;
    QNetworkAccessManager m_nam;
    std::unique_ptr<CommandBrowserLauncher> m_browser;
    std::unique_ptr<KeychainTokenStore> m_store;
    std::unique_ptr<Session> m_session;
    std::unique_ptr<SessionCredential> m_credential;
    std::unique_ptr<HttpClient> m_http;
    IdTokenClaims m_claims;
    ProviderConfiguration m_provider;

    ClientConfiguration client() const
    {
        ClientConfiguration c = publicClient(m_devstack,
            {QStringLiteral("openid"), QStringLiteral("offline_access"), QStringLiteral("api:read")});
        c.setResources({m_devstack.apiResource});
        c.setDpopEnabled(true);
        return c;
    }

    QUrl api(const char *path) const { return apiUrl(m_devstack, QString::fromLatin1(path)); }

    int counter(const char *name) const { return m_admin->counter(QString::fromLatin1(name)); }

    struct Outcome
    {
        Error error;
        int status = 0;
        QJsonObject json;
        QByteArray challenge;
    };

    static Outcome wait(HttpReply *reply)
    {
        Outcome o;
        bool done = false;
        QObject::connect(reply, &Job::finished, reply, [&, reply] {
            o.error = reply->error();
            o.status = reply->statusCode();
            o.json = reply->json().toObject();
            done = true;
        });
        if (!QTest::qWaitFor([&done] { return done; }, 30000))
            o.error = Error(Error::Code::Timeout, QStringLiteral("the reply never finished"));
        return o;
    }

    // A request made by hand, as a thief holding the token would: \a authorization and \a proof
    // as given, straight to the API.
    Outcome raw(const QUrl &url, const QByteArray &authorization, const QByteArray &proof)
    {
        QNetworkRequest request(url);
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(m_devstack.caCertificates());
        request.setSslConfiguration(tls);
        request.setRawHeader("Authorization", authorization);
        if (!proof.isEmpty())
            request.setRawHeader("DPoP", proof);
        std::unique_ptr<QNetworkReply> reply(m_nam.get(request));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        Outcome o;
        if (!reply->isFinished() && !finished.wait(10000)) {
            o.error = Error(Error::Code::Timeout, QStringLiteral("no answer"));
            return o;
        }
        o.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        o.json = QJsonDocument::fromJson(reply->readAll()).object();
        o.challenge = reply->rawHeader("WWW-Authenticate");
        return o;
    }

    QByteArray accessToken() const { return m_session->record().accessToken(m_devstack.apiResource).token; }

    // Waits (on the wall clock) until the API's 2 s token has expired.
    void waitForExpiry()
    {
        const QDateTime expires = m_session->record().accessToken(m_devstack.apiResource).expiresAt;
        QVERIFY(expires.isValid());
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > expires.addMSecs(100), 10000);
    }

    bool setRequireNonce(bool on)
    {
        bool ok = false;
        const QJsonObject answer = m_admin->post(QStringLiteral("/dpop"), {{QStringLiteral("requireNonce"), on}}, &ok);
        return ok && answer.value(QStringLiteral("requireNonce")).toBool() == on;
    }

    // A restarted app's HTTP side: a credential (no proactive refresh) and a client for the API.
    struct Restarted
    {
        Restarted(tst_DpopDevstack *test, Session *session)
            : credential(session, test->m_devstack.apiResource), http(&test->m_nam, test->client().transport())
        {
            credential.setProactiveRefreshEnabled(false);
            ready = !http.addCredential(&credential, {test->api("/api")});
        }
        SessionCredential credential;
        HttpClient http;
        bool ready = false;
    };

    std::unique_ptr<Session> restoredSession()
    {
        auto session = std::make_unique<Session>(client(), m_provider, m_store.get(), &m_nam);
        SessionJob *restore = session->restore();
        QSignalSpy restored(restore, &Job::finished);
        restore->start();
        if (!restored.wait(20000) || !session->isSignedIn())
            return nullptr;
        return session;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        m_admin = std::make_unique<Admin>(m_devstack.admin);
        m_browser = std::make_unique<CommandBrowserLauncher>(
            QStringLiteral("node"), QStringList{sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"))});
        m_store = std::make_unique<KeychainTokenStore>(qEnvironmentVariable("KEYLOOP_TEST_SERVICE"));
    }

    // A real sign-in with DPoP, adopted by a session that stores it in the keychain.
    void init()
    {
        QVERIFY(m_admin->reset());
        auto signIn = std::make_unique<SignIn>(client(), &m_nam);
        signIn->setAutoDelete(false);
        signIn->setBrowserLauncher(m_browser.get());
        QSignalSpy signedIn(signIn.get(), &Job::finished);
        signIn->start();
        QVERIFY(signedIn.wait(60000));
        QVERIFY2(!signIn->error(), qPrintable(signIn->error().toString()));
        // RFC 9449 §5: the provider bound the tokens to the sign-in's key.
        QCOMPARE(signIn->tokenResponse().tokenType(), QStringLiteral("DPoP"));
        QVERIFY(!signIn->tokenResponse().dpopKey().isNull());
        // RFC 9449 §10: the authorization request named the key's thumbprint.
        QVERIFY(signIn->authorizationUrl().toString(QUrl::FullyEncoded).contains(
            QStringLiteral("dpop_jkt=") + QString::fromLatin1(signIn->tokenResponse().dpopKey().thumbprint())));

        m_claims = signIn->idTokenClaims();
        m_provider = signIn->providerConfiguration();
        m_session = std::make_unique<Session>(client(), signIn->providerConfiguration(), m_store.get(), &m_nam);
        SessionJob *adopt = m_session->adoptSignIn(signIn->tokenResponse(), signIn->idTokenClaims(), signIn->resource());
        QSignalSpy adopted(adopt, &Job::finished);
        adopt->start();
        QVERIFY(adopted.wait(20000));
        QVERIFY2(!adopt->error(), qPrintable(adopt->error().toString()));
        QVERIFY(m_session->isPersistent());
        QCOMPARE(m_session->dpopKey(), signIn->tokenResponse().dpopKey());
        QCOMPARE(m_session->record().dpopKey(), signIn->tokenResponse().dpopKey().privateJwk());

        m_credential = std::make_unique<SessionCredential>(m_session.get(), m_devstack.apiResource);
        m_credential->setProactiveRefreshEnabled(false);
        m_http = std::make_unique<HttpClient>(&m_nam, client().transport());
        QVERIFY(!m_http->addCredential(m_credential.get(), {api("/api")}));
        QVERIFY(m_admin->post(QStringLiteral("/counters/reset")).contains(QStringLiteral("api")));
    }

    void cleanup()
    {
        setRequireNonce(false);
        if (m_session && m_session->isSignedIn()) {
            SessionJob *out = m_session->signOut();
            QSignalSpy done(out, &Job::finished);
            out->start();
            done.wait(20000);
        }
        m_http.reset();
        m_credential.reset();
        m_session.reset();
    }

    void apiRequestsCarryProofsOfTheSessionKey()
    {
        const Outcome me = wait(m_http->get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!me.error, qPrintable(me.error.toString()));
        QCOMPARE(me.json.value(QStringLiteral("token_type")).toString(), QStringLiteral("DPoP"));
        QCOMPARE(me.json.value(QStringLiteral("jkt")).toString().toLatin1(), m_session->dpopKey().thumbprint());
        // Every request a new proof (a replayed one would be refused by the API's jti cache).
        QVERIFY(!wait(m_http->get(QNetworkRequest(api("/api/items")))).error);
        QVERIFY(!wait(m_http->get(QNetworkRequest(api("/api/me")))).error);
        QCOMPARE(counter("apiDpop"), 3);
        QCOMPARE(counter("apiDpopRejected"), 0);
    }

    // A refresh (RFC 9449 §5: the refresh token is bound too) keeps the key, and the stored
    // record's key with it.
    void refreshStaysBoundToTheKey()
    {
        const DpopKey key = m_session->dpopKey();
        waitForExpiry();
        const Outcome me = wait(m_http->get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!me.error, qPrintable(me.error.toString()));
        QCOMPARE(counter("refresh"), 1);
        QCOMPARE(me.json.value(QStringLiteral("jkt")).toString().toLatin1(), key.thumbprint());
        QCOMPARE(m_session->record().accessToken(m_devstack.apiResource).tokenType, QStringLiteral("DPoP"));
        QCOMPARE(m_session->dpopKey(), key);
    }

    // RFC 9449 §8, §9: with nonces required at the provider and at the API, each answers
    // use_dpop_nonce once and the retry with its nonce succeeds. A restarted session's key has
    // no nonce yet (nonces are kept in memory only), so both servers ask.
    void serverNoncesAreAnsweredOnce()
    {
        QVERIFY(setRequireNonce(true));
        std::unique_ptr<Session> restarted = restoredSession();
        QVERIFY(restarted);
        Restarted app(this, restarted.get());
        QVERIFY(app.ready);
        waitForExpiry();
        const Outcome me = wait(app.http.get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!me.error, qPrintable(me.error.toString()));
        QCOMPARE(counter("refresh"), 2); // the refresh, then the same one with the provider's nonce
        QCOMPARE(counter("apiDpopNonceChallenges"), 1);
        QCOMPARE(counter("apiDpop"), 1);
        // Each server's nonce is remembered: the next requests need no second challenge.
        QVERIFY(!wait(app.http.get(QNetworkRequest(api("/api/items")))).error);
        QCOMPARE(counter("apiDpopNonceChallenges"), 1);
        QCOMPARE(counter("apiDpop"), 2);
    }

    void hostileCounterpartsAreRefused()
    {
        const QByteArray token = accessToken();
        QVERIFY(!token.isEmpty());
        const QByteArray dpop = "DPoP " + token;
        const DpopKey key = m_session->dpopKey();
        const QDateTime now = QDateTime::currentDateTimeUtc();

        // A proof used twice: the API remembers its jti.
        const QByteArray proof = key.createProof("GET", api("/api/me"), now, token);
        QCOMPARE(raw(api("/api/me"), dpop, proof).status, 200);
        const Outcome replay = raw(api("/api/me"), dpop, proof);
        QCOMPARE(replay.status, 401);
        QVERIFY2(replay.challenge.contains("replayed jti"), replay.challenge.constData());

        // A proof for another URL or another method.
        const Outcome htu = raw(api("/api/me"), dpop, key.createProof("GET", api("/api/items"), now, token));
        QCOMPARE(htu.status, 401);
        QVERIFY2(htu.challenge.contains("htu mismatch"), htu.challenge.constData());
        const Outcome htm = raw(api("/api/me"), dpop, key.createProof("POST", api("/api/me"), now, token));
        QCOMPARE(htm.status, 401);
        QVERIFY2(htm.challenge.contains("htm mismatch"), htm.challenge.constData());

        // The token with a proof of another key: what a thief with a copy of the token can do.
        const Outcome otherKey = raw(api("/api/me"), dpop, DpopKey::generate().createProof("GET", api("/api/me"), now, token));
        QCOMPARE(otherKey.status, 401);
        QVERIFY2(otherKey.challenge.contains("cnf.jkt"), otherKey.challenge.constData());

        // The token as a plain Bearer token (RFC 9449 §7.2).
        const Outcome bearer = raw(api("/api/me"), "Bearer " + token, QByteArray());
        QCOMPARE(bearer.status, 401);
        QVERIFY2(bearer.challenge.contains("presented as Bearer"), bearer.challenge.constData());

        // A proof for another token (ath).
        const Outcome ath = raw(api("/api/me"), dpop, key.createProof("GET", api("/api/me"), now, token + "x"));
        QCOMPARE(ath.status, 401);
        QVERIFY2(ath.challenge.contains("ath mismatch"), ath.challenge.constData());

        QCOMPARE(counter("apiDpopRejected"), 6);
        // The SDK's own requests still work after all that.
        QVERIFY(!wait(m_http->get(QNetworkRequest(api("/api/me")))).error);
    }

    // UserInfo is a protected resource too (RFC 9449 §7): the provider's own token, bound to the
    // key, works with a proof and not as Bearer.
    void userInfoWithTheBoundProviderToken()
    {
        QByteArray token;
        Error error;
        bool done = false;
        m_session->freshAccessToken(QString(), this, [&](const QByteArray &t, const Error &e) {
            token = t;
            error = e;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 20000);
        QVERIFY2(!error, qPrintable(error.toString()));
        QCOMPARE(m_session->record().accessToken(QString()).tokenType, QStringLiteral("DPoP"));
        const IdTokenClaims claims = m_claims;
        const ProviderConfiguration provider = m_provider;
        QVERIFY(!provider.userInfoEndpoint().isEmpty());

        auto *bound = new UserInfoJob(&m_nam, provider, client().transport(), token, claims, this);
        bound->setAutoDelete(false);
        bound->setDpopKey(m_session->dpopKey());
        QSignalSpy boundDone(bound, &Job::finished);
        bound->start();
        QVERIFY(boundDone.wait(10000));
        QVERIFY2(!bound->error(), qPrintable(bound->error().toString()));
        QCOMPARE(bound->claims().value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
        delete bound;

        auto *asBearer = new UserInfoJob(&m_nam, provider, client().transport(), token, claims, this);
        asBearer->setAutoDelete(false);
        QSignalSpy bearerDone(asBearer, &Job::finished);
        asBearer->start();
        QVERIFY(bearerDone.wait(10000));
        QVERIFY(asBearer->error());
        delete asBearer;
    }

    // The key lives in the keychain with the session: a restarted app (a new Session restoring
    // the stored record) proves the same key, and its refresh is accepted.
    void keySurvivesARestart()
    {
        const QByteArray thumbprint = m_session->dpopKey().thumbprint();
        std::unique_ptr<Session> restarted = restoredSession();
        QVERIFY(restarted);
        QCOMPARE(restarted->dpopKey().thumbprint(), thumbprint);
        Restarted app(this, restarted.get());
        QVERIFY(app.ready);
        waitForExpiry();
        const Outcome me = wait(app.http.get(QNetworkRequest(api("/api/me"))));
        QVERIFY2(!me.error, qPrintable(me.error.toString()));
        QCOMPARE(counter("refresh"), 1);
        QCOMPARE(me.json.value(QStringLiteral("jkt")).toString().toLatin1(), thumbprint);
    }

    // Sign-out deletes the record, and the key with it; nothing of the key is in any file: not
    // in HOME, the XDG directories or TMPDIR (the keychain's own database aside).
    void noPrivateKeyMaterialInFiles()
    {
        const QJsonObject jwk = m_session->dpopKey().privateJwk();
        const QByteArray d64 = jwk.value(QStringLiteral("d")).toString().toLatin1();
        const QByteArray dRaw = QByteArray::fromBase64(d64, QByteArray::Base64UrlEncoding);
        QCOMPARE(dRaw.size(), 32);
        QVERIFY(!wait(m_http->get(QNetworkRequest(api("/api/me")))).error);

        QStringList roots;
        for (const char *var : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
                                "XDG_RUNTIME_DIR", "TMPDIR"}) {
            const QString dir = qEnvironmentVariable(var);
            if (!dir.isEmpty() && QDir(dir).exists())
                roots.append(QDir(dir).canonicalPath());
        }
        roots.append(QDir::tempPath());
        QVERIFY(roots.size() >= 3);
        // gnome-keyring's own database: the OS keychain, where the key belongs (it is encrypted
        // there unless the keyring has an empty password, like the sandbox's).
        const QString keyrings = QDir(qEnvironmentVariable("XDG_DATA_HOME")).canonicalPath() + QStringLiteral("/keyrings");
        // The scanner must be able to fail: a planted copy of the key is found first.
        const QString canary = QDir(QDir::tempPath()).filePath(QStringLiteral("canary.jwk"));
        {
            QFile f(canary);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QJsonDocument(jwk).toJson());
        }
        QStringList found;
        const auto scan = [&] {
            found.clear();
            for (const QString &root : std::as_const(roots)) {
                QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
                while (it.hasNext()) {
                    const QString path = it.next();
                    if (!keyrings.isEmpty() && path.startsWith(keyrings + QLatin1Char('/')))
                        continue;
                    QFile f(path);
                    if (f.size() > 64 * 1024 * 1024 || !f.open(QIODevice::ReadOnly))
                        continue;
                    const QByteArray content = f.readAll();
                    if (content.contains(d64) || content.contains(dRaw))
                        found.append(path);
                }
            }
        };
        scan();
        QVERIFY2(found.contains(QFileInfo(canary).canonicalFilePath()) || found.contains(canary), qPrintable(found.join(u' ')));
        QVERIFY(QFile::remove(canary));
        scan();
        QVERIFY2(found.isEmpty(), qPrintable(QStringLiteral("the private key is in ") + found.join(u' ')));

        // Sign-out deletes the record with the key: a restart finds nothing.
        SessionJob *out = m_session->signOut();
        QSignalSpy done(out, &Job::finished);
        out->start();
        QVERIFY(done.wait(20000));
        QVERIFY(m_session->dpopKey().isNull());
        auto after = std::make_unique<Session>(client(), m_provider, m_store.get(), &m_nam);
        SessionJob *restore = after->restore();
        QSignalSpy restored(restore, &Job::finished);
        restore->start();
        QVERIFY(restored.wait(20000));
        QVERIFY(!after->isSignedIn());
        QVERIFY(after->record().dpopKey().isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_DpopDevstack)
#include "tst_dpop_devstack.moc"
