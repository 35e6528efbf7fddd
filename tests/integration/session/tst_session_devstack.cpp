// SPDX-License-Identifier: MIT
// Session against the real devstack (oidc-provider with rotating refresh tokens that revoke the
// grant on reuse, 2-second access tokens) and the sandbox's real gnome-keyring.
#include <keyloop/authorizationrequest.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>
#include <keyloop/tokenclient.h>

#include "store/processlock_p.h"
#include "testsupport.h"

#include <QtCore/QJsonDocument>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtCore/QProcess>
#include <QtCore/QUrlQuery>
#include <QtTest/QtTest>

#include <atomic>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {

// The wall clock moved by a settable offset: lets a test "wait" for a 2 s token to go stale.
class OffsetClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now() + offset; }
    std::chrono::milliseconds offset{0};
};

// A fault injector: the sandbox keychain, whose writes can be made to fail.
class FailingStore : public TokenStore
{
public:
    explicit FailingStore(const QString &service) : inner(service) {}
    QString appId() const override { return inner.appId(); }
    bool failWrites = false;
    int writes = 0;

protected:
    void startJob(TokenStoreJob *job) override
    {
        TokenStoreJob *innerJob = nullptr;
        switch (job->operation()) {
        case TokenStoreJob::Operation::Write:
            ++writes;
            if (failWrites) {
                finishJob(job, Error(Error::Code::StorageFailed, QStringLiteral("injected write failure")));
                return;
            }
            innerJob = inner.write(job->key(), job->record());
            break;
        case TokenStoreJob::Operation::Read:
            innerJob = inner.read(job->key());
            break;
        case TokenStoreJob::Operation::Remove:
            innerJob = inner.remove(job->key());
            break;
        case TokenStoreJob::Operation::Probe:
            innerJob = inner.probe();
            break;
        }
        connect(innerJob, &Job::finished, job, [job, innerJob] { finishJob(job, innerJob->error(), innerJob->record()); });
        innerJob->start();
    }

private:
    KeychainTokenStore inner;
};

struct Result
{
    QByteArray token;
    Error error;
    bool called = false;
};

} // namespace

class TestSessionDevstack : public QObject
{
    Q_OBJECT
    KeyloopTest::Devstack m_devstack;
    QNetworkAccessManager m_nam;
    ClientConfiguration m_client;
    ProviderConfiguration m_provider;
    OffsetClock m_clock;

    QString service() const { return qEnvironmentVariable("KEYLOOP_TEST_SERVICE"); }

    QJsonObject admin(const QByteArray &verb, const QString &path)
    {
        QUrl url = m_devstack.admin;
        url.setPath(path);
        QNetworkRequest request(url);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        QNetworkReply *reply = m_nam.sendCustomRequest(request, verb, verb == "GET" ? QByteArray() : QByteArray("{}"));
        QSignalSpy spy(reply, &QNetworkReply::finished);
        if (!spy.wait(10000))
            return {};
        const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
        reply->deleteLater();
        return o;
    }
    int refreshCount() { return admin("GET", QStringLiteral("/counters")).value(QStringLiteral("refresh")).toInt(-1); }
    int revocationCount() { return admin("GET", QStringLiteral("/counters")).value(QStringLiteral("revocation")).toInt(-1); }

    // POSTs a refresh grant with \a refreshToken to the token endpoint itself (not through the
    // SDK); returns the OAuth error code of the answer, "" when it succeeded, or "HTTP n".
    QString refreshError(const QByteArray &refreshToken)
    {
        QNetworkRequest request(m_provider.tokenEndpoint());
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(m_devstack.caCertificates());
        request.setSslConfiguration(tls);
        const QByteArray form = "grant_type=refresh_token&refresh_token=" + refreshToken.toPercentEncoding()
            + "&client_id=" + m_devstack.publicClientId.toUtf8().toPercentEncoding();
        std::unique_ptr<QNetworkReply> reply(m_nam.post(request, form));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        if (!reply->isFinished() && !finished.wait(10000))
            return QStringLiteral("timeout");
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
        if (status == 200)
            return QString();
        return body.contains(QStringLiteral("error")) ? body.value(QStringLiteral("error")).toString()
                                                      : QStringLiteral("HTTP %1").arg(status);
    }

    // A real sign-in, driven directly (authorization code + PKCE): discovery, our own loopback
    // listener, the devstack's scripted user agent as the browser, then the code exchange.
    // (Independent of SignIn, so that these tests exercise only Session and the store.)
    bool signIn(TokenResponse *response, QJsonObject *claims)
    {
        auto *discovery = new DiscoveryJob(&m_nam, m_client.issuer(), m_client.transport());
        QSignalSpy discovered(discovery, &Job::finished);
        discovery->start();
        if (!discovered.wait(10000) || discovery->error()) {
            qWarning() << "discovery failed:" << discovery->error();
            return false;
        }
        m_provider = discovery->configuration();

        QTcpServer server;
        if (!server.listen(QHostAddress::LocalHost, 0))
            return false;
        const QUrl redirectUri(QStringLiteral("http://127.0.0.1:%1%2").arg(server.serverPort()).arg(m_client.redirectPath()));
        Error error;
        const AuthorizationRequest request = AuthorizationRequest::create(m_client, m_provider, redirectUri, &error);
        if (error) {
            qWarning() << "authorization request:" << error;
            return false;
        }
        QProcess browser;
        browser.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        browser.start(QStringLiteral("node"), {KeyloopTest::sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs")),
                                               request.url().toString(QUrl::FullyEncoded)});
        QByteArray httpRequest;
        QTcpSocket *socket = nullptr;
        if (!QTest::qWaitFor([&] {
                if (!socket && server.hasPendingConnections())
                    socket = server.nextPendingConnection();
                if (socket && socket->bytesAvailable())
                    httpRequest += socket->readAll();
                return httpRequest.contains("\r\n\r\n");
            }, 30000)) {
            qWarning() << "no redirect arrived";
            return false;
        }
        socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        socket->flush();
        const QByteArray target = httpRequest.split(' ').value(1);
        const QUrlQuery query(QUrl(QString::fromLatin1(target)).query());
        const QByteArray code = query.queryItemValue(QStringLiteral("code"), QUrl::FullyDecoded).toLatin1();
        const QByteArray state = query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded).toLatin1();
        if (code.isEmpty() || state != request.state()) {
            qWarning() << "the redirect has no code or a wrong state";
            return false;
        }
        browser.waitForFinished(10000);

        TokenClient tokenClient(&m_nam, m_client.transport());
        tokenClient.setClock(&m_clock);
        TokenJob *exchange = tokenClient.exchangeCode(m_provider, m_client, request, code);
        exchange->setAutoDelete(false);
        const std::unique_ptr<TokenJob> owner(exchange);
        QSignalSpy exchanged(exchange, &Job::finished);
        exchange->start();
        if (!exchanged.wait(10000) || exchange->error()) {
            qWarning() << "code exchange failed:" << exchange->error();
            return false;
        }
        *response = exchange->response();
        // The test takes the ID token's claims from its payload (validation is jose's business).
        const QByteArray payload = QByteArray::fromBase64(response->idToken().split('.').value(1),
                                                          QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
        *claims = QJsonDocument::fromJson(payload).object();
        return !claims->isEmpty() && response->hasRefreshToken();
    }

    Session *newSession(TokenStore *store, QObject *parent)
    {
        auto *s = new Session(m_client, m_provider, store, &m_nam, parent);
        s->setClock(&m_clock);
        s->setAccount(QStringLiteral("alice"));
        return s;
    }

    static Error runJob(SessionJob *job)
    {
        job->setAutoDelete(false);
        QSignalSpy spy(job, &Job::finished);
        job->start();
        const Error e = spy.wait(20000) ? job->error() : Error(Error::Code::Timeout, QStringLiteral("session job hung"));
        delete job;
        return e;
    }

    // A signed-in, stored session.
    Session *signedInSession(TokenStore *store, QObject *parent)
    {
        TokenResponse response;
        QJsonObject claims;
        if (!signIn(&response, &claims))
            return nullptr;
        Session *s = newSession(store, parent);
        const Error e = runJob(s->adoptSignIn(response, claims));
        if (e) {
            qWarning() << "adoptSignIn failed:" << e;
            return nullptr;
        }
        return s;
    }

    static Result fresh(Session *s, const QString &resource = QString())
    {
        Result r;
        QObject context;
        s->freshAccessToken(resource, &context, [&r](const QByteArray &token, const Error &e) {
            r.token = token;
            r.error = e;
            r.called = true;
        });
        if (!QTest::qWaitFor([&] { return r.called; }, 30000))
            r.error = Error(Error::Code::Timeout, QStringLiteral("freshAccessToken never called back"));
        return r;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_devstack = KeyloopTest::devstack();
        QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
        QVERIFY(!service().isEmpty());
        m_client.setIssuer(m_devstack.issuer);
        m_client.setClientId(m_devstack.publicClientId);
        m_client.setScopes({QStringLiteral("openid"), QStringLiteral("offline_access"), QStringLiteral("profile")});
        TransportOptions transport;
        transport.setExtraCaCertificates(m_devstack.caCertificates());
        m_client.setTransport(transport);
    }

    void init()
    {
        m_clock.offset = 0ms;
        admin("POST", QStringLiteral("/counters/reset"));
    }

    void freshTokenNeedsNoRefresh()
    {
        KeychainTokenStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        QVERIFY(s->isPersistent());
        const int before = refreshCount();
        const Result r = fresh(s.get());
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(!r.token.isEmpty());
        QCOMPARE(refreshCount(), before);
        QVERIFY(!runJob(s->signOut()));
    }

    void hundredConcurrentCallersShareOneRefresh()
    {
        KeychainTokenStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        const QByteArray first = s->record().accessToken(QString()).token;
        m_clock.offset = 5s; // the 2 s token is now expired
        const int before = refreshCount();
        QObject context;
        QList<Result> results(100);
        int done = 0;
        for (int i = 0; i < 100; ++i) {
            s->freshAccessToken(QString(), &context, [&results, &done, i](const QByteArray &token, const Error &e) {
                results[i].token = token;
                results[i].error = e;
                results[i].called = true;
                ++done;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 100, 30000);
        for (const Result &r : std::as_const(results)) {
            QVERIFY2(!r.error, qPrintable(r.error.toString()));
            QVERIFY(r.token == results.first().token);
        }
        QVERIFY(results.first().token != first);
        QCOMPARE(refreshCount() - before, 1);
        QVERIFY(!runJob(s->signOut()));
    }

    void rotationIsPersistedAcrossRestarts()
    {
        KeychainTokenStore store(service());
        QByteArray firstRefreshToken;
        {
            QScopedPointer<Session> s(signedInSession(&store, nullptr));
            QVERIFY(s);
            firstRefreshToken = s->record().refreshToken();
        }
        const int before = refreshCount();
        for (int i = 1; i <= 4; ++i) {
            // A new "process": a new Session restoring from the keychain, later on the clock.
            m_clock.offset = std::chrono::seconds(5 * i);
            QScopedPointer<Session> s(newSession(&store, nullptr));
            QSignalSpy signInRequired(s.get(), &Session::signInRequired);
            const Error restored = runJob(s->restore());
            QVERIFY2(!restored, qPrintable(restored.toString()));
            const Result r = fresh(s.get());
            QVERIFY2(!r.error, qPrintable(r.error.toString()));
            QVERIFY(!r.token.isEmpty());
            QCOMPARE(signInRequired.count(), 0);
            QCOMPARE(refreshCount() - before, i);
        }
        QScopedPointer<Session> last(newSession(&store, nullptr));
        QVERIFY(!runJob(last->restore()));
        QVERIFY(last->record().refreshToken() != firstRefreshToken); // rotated and saved
        QVERIFY(!runJob(last->signOut()));
    }

    void reusedRefreshTokenRequiresSignInAndRemovesSession()
    {
        KeychainTokenStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        const SessionRecord original = s->record();
        m_clock.offset = 5s;
        QVERIFY(!fresh(s.get()).error); // rotates: the original refresh token is now spent
        QVERIFY(s->record().refreshToken() != original.refreshToken());

        // Put the spent token back (as a buggy app would) and let another "process" use it:
        // oidc-provider answers invalid_grant and revokes the grant.
        TokenStoreJob *job = store.write(s->storeKey(), original);
        QSignalSpy written(job, &Job::finished);
        job->start();
        QVERIFY(written.wait(10000));
        m_clock.offset = 10s;
        QScopedPointer<Session> other(newSession(&store, nullptr));
        QVERIFY(!runJob(other->restore()));
        QSignalSpy signInRequired(other.get(), &Session::signInRequired);
        const Result r = fresh(other.get());
        QCOMPARE(r.error.code(), Error::Code::SignInRequired);
        QVERIFY(r.error.requiresSignIn());
        QVERIFY(r.token.isEmpty());
        QCOMPARE(signInRequired.count(), 1);
        QVERIFY(!other->isSignedIn());
        // The stored session is gone.
        QScopedPointer<Session> third(newSession(&store, nullptr));
        QCOMPARE(runJob(third->restore()).code(), Error::Code::NotFound);
    }

    // RFC 7009 at the real provider: sign-out revokes the refresh token — oidc-provider then
    // revokes the whole grant — and removes the stored session.
    void signOutRevokesTheGrantAtTheProvider()
    {
        KeychainTokenStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        QVERIFY(!m_provider.revocationEndpoint().isEmpty());
        const QByteArray refreshToken = s->record().refreshToken();
        QVERIFY(!refreshToken.isEmpty());
        const int before = revocationCount();
        QVERIFY(!runJob(s->signOut()));
        QVERIFY(revocationCount() > before);
        QCOMPARE(refreshError(refreshToken), QStringLiteral("invalid_grant"));
        QScopedPointer<Session> later(newSession(&store, nullptr));
        QCOMPARE(runJob(later->restore()).code(), Error::Code::NotFound);
    }

    // Another process rotated the refresh token after this one last read the store: the sign-out
    // re-reads it under the lock and revokes the current token, which no longer works afterwards.
    void signOutRevokesTheTokenAnotherProcessRotated()
    {
        KeychainTokenStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        QScopedPointer<Session> other(newSession(&store, nullptr)); // "another process"
        QVERIFY(!runJob(other->restore()));
        m_clock.offset = 5s;
        QVERIFY(!fresh(other.get()).error); // rotates and saves
        const QByteArray rotated = other->record().refreshToken();
        QVERIFY(rotated != s->record().refreshToken());
        QVERIFY(!runJob(s->signOut())); // s still holds the old, spent token in memory
        QCOMPARE(refreshError(rotated), QStringLiteral("invalid_grant"));
        QCOMPARE(runJob(other->restore()).code(), Error::Code::NotFound);
    }

    void saveFailureAfterRefreshKeepsTokensInMemory()
    {
        FailingStore store(service());
        QScopedPointer<Session> s(signedInSession(&store, nullptr));
        QVERIFY(s);
        store.failWrites = true;
        const int writesBefore = store.writes;
        QSignalSpy storageFailed(s.get(), &Session::storageFailed);
        m_clock.offset = 5s;
        const int before = refreshCount();
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("could not save the refreshed session")));
        const Result r = fresh(s.get());
        QVERIFY2(!r.error, qPrintable(r.error.toString()));
        QVERIFY(!r.token.isEmpty());
        QCOMPARE(storageFailed.count(), 1);
        QCOMPARE(storageFailed.first().first().value<Error>().code(), Error::Code::StorageFailed);
        QVERIFY(store.writes - writesBefore >= 2); // retried
        QVERIFY(!s->isPersistent());
        QCOMPARE(refreshCount() - before, 1);

        // The lock was released: another holder gets it at once.
        ProcessLock lock(ProcessLock::lockPath(service(), s->storeKey()));
        QSignalSpy acquired(&lock, &ProcessLock::acquired);
        lock.acquire(1s);
        QVERIFY(acquired.wait(2000));
        lock.release();

        // The new tokens are used from memory (no second refresh), and the rotated refresh
        // token still works for the next refresh.
        const Result again = fresh(s.get());
        QVERIFY(again.token == r.token);
        QCOMPARE(refreshCount() - before, 1);
        store.failWrites = false;
        m_clock.offset = 10s;
        const Result later = fresh(s.get());
        QVERIFY2(!later.error, qPrintable(later.error.toString()));
        QVERIFY(s->isPersistent());
        QVERIFY(!runJob(s->signOut()));
    }
};

QTEST_GUILESS_MAIN(TestSessionDevstack)
#include "tst_session_devstack.moc"
