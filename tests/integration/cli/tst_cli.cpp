// SPDX-License-Identifier: MIT
// The keyloop CLI against the real devstack (2 s access tokens) and the sandbox's gnome-keyring.
// Every process is a real `keyloop`; several of them run at once for the cross-process cases.
#include <keyloop/dpopkey.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/tokenstore.h>

#include "fakeprovider.h"
#include "testsupport.h"

#include <QtCore/QDirIterator>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonArray>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QScopeGuard>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QTcpServer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace Keyloop;
using namespace KeyloopTest;

namespace {

// What a terminal could act on: C0 controls (ESC, BEL, CR, LF …), DEL, C1 controls (the 8-bit
// CSI U+009B), bidi overrides and line separators. \a allowNewlines: the output's own line ends.
bool hasTerminalControls(const QByteArray &utf8, bool allowNewlines)
{
    for (const char c : utf8) {
        const auto b = static_cast<unsigned char>(c);
        if ((b < 0x20 && !(allowNewlines && b == '\n')) || b == 0x7f)
            return true;
    }
    for (const QChar c : QString::fromUtf8(utf8)) {
        const char16_t v = c.unicode();
        if ((v >= 0x80 && v <= 0x9f) || (v >= 0x202a && v <= 0x202e) || v == 0x2028 || v == 0x2029)
            return true;
    }
    return false;
}

struct Run
{
    int exitCode = -1;
    bool crashed = false;
    QByteArray out;
    QByteArray err;
};

// The claims of a JWT, read without any check (the CLI's session validated it).
QJsonObject jwtPayload(const QByteArray &jwt)
{
    const QList<QByteArray> parts = jwt.split('.');
    if (parts.size() != 3)
        return {};
    return QJsonDocument::fromJson(QByteArray::fromBase64(parts.at(1), QByteArray::Base64UrlEncoding
                                                                           | QByteArray::OmitTrailingEquals))
        .object();
}

QJsonObject jsonLine(const QByteArray &out)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &error);
    return error.error == QJsonParseError::NoError ? doc.object() : QJsonObject();
}

// The region between two "# [name]" lines of a recipe file under examples/snippets/ — the text
// docs/cli.md shows (check-doc-snippets.sh keeps the two identical).
QString recipe(const QString &file, const QString &name)
{
    QFile f(sourcePath(QStringLiteral("examples/snippets/") + file));
    if (!f.open(QIODevice::ReadOnly))
        return QString();
    const QString marker = QStringLiteral("# [%1]").arg(name);
    QStringList lines;
    bool inside = false;
    int markers = 0;
    for (const QString &line : QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'))) {
        if (line.trimmed() == marker) {
            inside = !inside;
            ++markers;
            continue;
        }
        if (inside)
            lines << line;
    }
    return markers == 2 ? lines.join(QLatin1Char('\n')) + QLatin1Char('\n') : QString();
}

// A stand-in for a Kubernetes API server: https on loopback with the devstack's leaf certificate,
// answers every request with a small JSON body and remembers each Authorization header.
class FakeKubeApi : public QObject
{
public:
    bool listen(const QString &certFile, const QString &keyFile)
    {
        QFile cert(certFile);
        QFile key(keyFile);
        if (!cert.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly))
            return false;
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(QSslCertificate(cert.readAll(), QSsl::Pem));
        tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Rsa, QSsl::Pem));
        if (tls.privateKey().isNull()) {
            key.seek(0);
            tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem));
        }
        m_server.setSslConfiguration(tls);
        connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                serve(socket);
        });
        return !tls.privateKey().isNull() && m_server.listen(QHostAddress::LocalHost);
    }
    quint16 port() const { return m_server.serverPort(); }
    QList<QByteArray> authorizations;

private:
    void serve(QTcpSocket *socket)
    {
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QIODevice::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            if (!buffer->contains("\r\n\r\n"))
                return;
            for (const QByteArray &line : buffer->split('\n')) {
                if (line.toLower().startsWith("authorization:"))
                    authorizations << line.mid(14).trimmed();
            }
            buffer->clear();
            const QByteArray body = "{\"major\":\"1\",\"minor\":\"30\",\"gitVersion\":\"v1.30.0\"}";
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        });
    }
    QSslServer m_server;
};

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void helpDocumentsCommandsAndExitCodes();
    void usageErrorsExitWithTwo();
    void tokenWithoutSessionAsksToSignIn();
    void unreachableProviderExitsWithNetworkCode();
    void unfinishedBrowserSignInTimesOutWithAuthorizationCode();
    void busyFixedPortIsAConfigurationError();
    void loginStoresTheSessionAndTokenPrintsOnlyTheToken();
    void refreshTokenIsInTheKeychainAndInNoFile();
    void noSecretServiceFailsWithStorageCodeAndWritesNothing();
    void noStoreKeepsNothing();
    void rotatedRefreshTokensArePersistedAcrossProcesses();
    void fiveConcurrentProcessesRefreshExactlyOnce();
    void crashBetweenReceivingAndSavingNeverCorrupts_data();
    void crashBetweenReceivingAndSavingNeverCorrupts();
    void logoutRevokesTheGrantThenRemovesTheSession();
    void logoutEndSessionEndsTheProviderSessionInTheBrowser();
    void logoutWithAFailingRevocationStillRemovesTheSession_data();
    void logoutWithAFailingRevocationStillRemovesTheSession();
    void loginWithAResourceNeedsNoRefresh();
    void loginParGivesTheBrowserOnlyClientIdAndRequestUri();
    void loginParWithoutAnEndpointIsAConfigurationError();
    void logoutWaitsForARefreshInAnotherProcess();
    void logoutReportsABusySessionAndDeletesNothing();
    void interruptDuringTheSaveKeepsTheRotatedToken();
    void verboseLoggingNeverPrintsSecrets();
    void providerTextReachesTheTerminalOnlyPrintable();
    void clientSecretFileAuthenticatesTheRefresh();
    void clientSecretFileProblemsAreUsageErrors();
    void callUsageErrorsComeBeforeTheKeychain();
    void callPrintsTheBodyAndNeverTheToken();
    void callKeepsWorkingAcrossTokenExpiry();
    void callReplaysOnceWhenTheApiRejectsTheToken();
    void callExitsSixOnHttpErrors();
    void callSendsTheTokenOnlyToSecureUrls();
    void tokenOutputOptionsAreCheckedBeforeTheKeychain();
    void tokenJsonDescribesTheTokenItPrints();
    void execCredentialCarriesTheIdTokenForKubectl();
    void execCredentialRefreshesAnIdTokenAboutToExpire();
    void execCredentialRefusesKeyBoundSessions();
    void kubectlSendsTheIdTokenOfTheExecCredential();
    void recipesHandTheTokenOverOffTheCommandLine();
    void dpopLoginBindsTheTokensToOneKeyAcrossProcesses();

private:
    QProcess *startCli(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment());
    Run finish(QProcess *process, int timeoutMs = 60000);
    Run cli(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment(), int timeoutMs = 60000);
    void login(const QStringList &extra = {});
    // Signs in, then starts `keyloop token` once the access token is stale, paused after the
    // refresh response (holding the account lock, nothing saved yet); deleting \a pauseFile
    // lets it go on. Null if it never got there.
    QProcess *loginThenPauseARefresh(const QString &pauseFile);
    void waitUntilAccessTokenIsStale();
    int apiStatus(const QByteArray &token);
    // POSTs a refresh grant with \a refreshToken to the devstack's token endpoint itself; returns
    // the OAuth error code of the answer, "" when the refresh succeeded, or "HTTP n".
    QString refreshError(const QByteArray &refreshToken);
    QString apiUrl(const QString &path) const;
    SessionRecord storedRecord(Error *error = nullptr);
    bool writeStoredRecord(const SessionRecord &record);
    // Environment for programs that run keyloop from PATH (recipes, kubectl): the built CLI first.
    QProcessEnvironment toolEnvironment() const;
    Run runTool(const QString &program, const QStringList &args, const QProcessEnvironment &env,
                const QByteArray &input = QByteArray(), const QString &workingDirectory = QString());

    Devstack m_devstack;
    QString m_appId;
    QString m_scripted;
    QNetworkAccessManager m_nam;
    QDateTime m_lastTokenAt;
};

void tst_Cli::initTestCase()
{
    m_devstack = devstack();
    QVERIFY2(m_devstack.isValid(), "KEYLOOP_DEVSTACK_JSON must name the sandbox's devstack");
    m_scripted = QStringLiteral("node ") + sourcePath(QStringLiteral("demo-app/devstack/scripted-login.mjs"));
    QVERIFY(QFile::exists(QStringLiteral(KEYLOOP_CLI_PATH)));
}

void tst_Cli::init()
{
    // A fresh keychain service (and so lock and index) per test function.
    static int counter = 0;
    m_appId = qEnvironmentVariable("KEYLOOP_TEST_SERVICE") + QStringLiteral(".%1").arg(++counter);
}

QProcess *tst_Cli::startCli(const QStringList &args, const QProcessEnvironment &extra)
{
    auto *process = new QProcess(this);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEYLOOP_APP_ID"), m_appId);
    for (const QString &key : extra.keys())
        env.insert(key, extra.value(key));
    process->setProcessEnvironment(env);
    process->start(QStringLiteral(KEYLOOP_CLI_PATH), args);
    return process;
}

Run tst_Cli::finish(QProcess *process, int timeoutMs)
{
    Run run;
    if (process->state() != QProcess::NotRunning) {
        QSignalSpy finished(process, &QProcess::finished);
        if (!finished.wait(timeoutMs)) {
            process->kill();
            QSignalSpy killed(process, &QProcess::finished);
            killed.wait(5000);
        }
    }
    run.crashed = process->exitStatus() == QProcess::CrashExit;
    run.exitCode = process->exitCode();
    run.out = process->readAllStandardOutput();
    run.err = process->readAllStandardError();
    process->deleteLater();
    return run;
}

Run tst_Cli::cli(const QStringList &args, const QProcessEnvironment &env, int timeoutMs)
{
    return finish(startCli(args, env), timeoutMs);
}

void tst_Cli::login(const QStringList &extra)
{
    const Run run = cli(QStringList{QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                                    QStringLiteral("--client-id"), m_devstack.publicClientId,
                                    QStringLiteral("--ca-file"), m_devstack.caFile,
                                    QStringLiteral("--scope"), QStringLiteral("openid profile email offline_access api:read"),
                                    QStringLiteral("--resource"), m_devstack.apiResource,
                                    QStringLiteral("--browser-command"), m_scripted}
                        + extra);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    // With the API's resource at the code exchange, oidc-provider puts the profile claims in the
    // ID token (the access token is not for its UserInfo): "Alice Example (sub alice)".
    QVERIFY2(run.out.contains("Signed in as ") && run.out.contains("(sub alice) at "), run.out.constData());
    QVERIFY(run.out.contains("Session stored in the OS keychain"));
    m_lastTokenAt = QDateTime::currentDateTimeUtc();
}

void tst_Cli::waitUntilAccessTokenIsStale()
{
    // 2 s tokens: the refresh lead time is capped at half the lifetime, so a token is stale after
    // about 1 s. Wait for the wall clock (the thing being tested), not a fixed sleep.
    const QDateTime staleAt = m_lastTokenAt.addMSecs(1500);
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() >= staleAt, 10000);
}

int tst_Cli::apiStatus(const QByteArray &token)
{
    QUrl url = m_devstack.api;
    url.setPath(QStringLiteral("/api/me"));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + token);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.addCaCertificates(m_devstack.caCertificates());
    request.setSslConfiguration(tls);
    std::unique_ptr<QNetworkReply> reply(m_nam.get(request));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(10000))
        return -1;
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QString tst_Cli::refreshError(const QByteArray &refreshToken)
{
    QUrl url = m_devstack.issuer;
    url.setPath(url.path() + QStringLiteral("/token"));
    QNetworkRequest request(url);
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

SessionRecord tst_Cli::storedRecord(Error *error)
{
    KeychainTokenStore store(m_appId);
    TokenStoreJob *job = store.read(TokenStore::keyFor(m_devstack.issuer.toString(), m_devstack.publicClientId, QString()));
    QSignalSpy finished(job, &Job::finished);
    SessionRecord record;
    Error e;
    connect(job, &Job::finished, this, [&, job] { record = job->record(); e = job->error(); });
    job->start();
    if (!finished.wait(10000))
        e = Error(Error::Code::Timeout, QStringLiteral("keychain read timed out"));
    if (error)
        *error = e;
    return record;
}

bool tst_Cli::writeStoredRecord(const SessionRecord &record)
{
    KeychainTokenStore store(m_appId);
    TokenStoreJob *job = store.write(TokenStore::keyFor(m_devstack.issuer.toString(), m_devstack.publicClientId, QString()),
                                     record);
    QSignalSpy finished(job, &Job::finished);
    Error e(Error::Code::Timeout, QStringLiteral("keychain write timed out"));
    connect(job, &Job::finished, this, [&e, job] { e = job->error(); });
    job->start();
    return finished.wait(10000) && !e;
}

QProcessEnvironment tst_Cli::toolEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEYLOOP_APP_ID"), m_appId);
    env.insert(QStringLiteral("PATH"), QFileInfo(QStringLiteral(KEYLOOP_CLI_PATH)).absolutePath() + QLatin1Char(':')
                                           + env.value(QStringLiteral("PATH")));
    return env;
}

Run tst_Cli::runTool(const QString &program, const QStringList &args, const QProcessEnvironment &env,
                     const QByteArray &input, const QString &workingDirectory)
{
    auto *process = new QProcess(this);
    process->setProcessEnvironment(env);
    if (!workingDirectory.isEmpty())
        process->setWorkingDirectory(workingDirectory);
    process->start(program, args);
    process->waitForStarted(10000);
    process->write(input);
    process->closeWriteChannel();
    return finish(process);
}

void tst_Cli::helpDocumentsCommandsAndExitCodes()
{
    const Run main = cli({QStringLiteral("--help")});
    QCOMPARE(main.exitCode, 0);
    for (const char *word : {"login", "token", "call", "status", "logout", "--app-id", "130", "storage"})
        QVERIFY2(main.out.contains(word), word);
    for (const char *command : {"login", "token", "call", "status", "logout"}) {
        const Run run = cli({QString::fromLatin1(command), QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.startsWith(QByteArray("Usage: keyloop ") + command));
        QVERIFY(run.out.contains("Exit codes"));
    }
    const Run login = cli({QStringLiteral("login"), QStringLiteral("--help")});
    for (const char *option : {"--issuer", "--client-id", "--client-secret", "--scope", "--resource", "--account",
                               "--redirect-host", "--port", "--browser-command", "--ca-file", "--timeout",
                               "--allow-insecure-loopback", "--no-store", "--par", "RFC 9126"})
        QVERIFY2(login.out.contains(option), option);
    const Run logout = cli({QStringLiteral("logout"), QStringLiteral("--help")});
    for (const char *option : {"--end-session", "--redirect-host", "--port", "--browser-command", "--timeout",
                               "post_logout_redirect_uri"})
        QVERIFY2(logout.out.contains(option), option);
    const Run token = cli({QStringLiteral("token"), QStringLiteral("--help")});
    for (const char *text : {"--json", "--exec-credential", "token_type", "expires_at", "ExecCredential",
                             "client.authentication.k8s.io/v1", "interactiveMode: Never", "DPoP"})
        QVERIFY2(token.out.contains(text), text);
    const Run call = cli({QStringLiteral("call"), QStringLiteral("--help")});
    QVERIFY(call.out.startsWith("Usage: keyloop call [options] URL"));
    for (const char *option : {"-X", "-H", "-d", "@FILE", "--resource", "--account", "--allow-insecure-loopback"})
        QVERIFY2(call.out.contains(option), option);
    // No help suggests putting a token on a command line.
    for (const char *command : {"token", "call"})
        QVERIFY(!cli({QString::fromLatin1(command), QStringLiteral("--help")}).out.contains("$(keyloop token)"));
}

void tst_Cli::usageErrorsExitWithTwo()
{
    QCOMPARE(cli({QStringLiteral("frobnicate")}).exitCode, 2);
    QCOMPARE(cli({}).exitCode, 2);
    QCOMPARE(cli({QStringLiteral("login"), QStringLiteral("--no-such-flag")}).exitCode, 2);
    const Run noIssuer = cli({QStringLiteral("login"), QStringLiteral("--client-id"), QStringLiteral("x")});
    QCOMPARE(noIssuer.exitCode, 2);
    QVERIFY(noIssuer.err.contains("issuer"));
    QCOMPARE(cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                  QStringLiteral("--client-id"), QStringLiteral("x"), QStringLiteral("--port"), QStringLiteral("70000")})
                 .exitCode, 2);
    // token has no --scope (it was accepted and ignored): the scopes are those granted at login.
    const Run tokenScope = cli({QStringLiteral("token"), QStringLiteral("--scope"), QStringLiteral("api:read")});
    QCOMPARE(tokenScope.exitCode, 2);
    QVERIFY(tokenScope.err.contains("scope"));
    QVERIFY(tokenScope.out.isEmpty());
    QVERIFY(!cli({QStringLiteral("token"), QStringLiteral("--help")}).out.contains("--scope"));
    // logout's browser options belong to --end-session.
    const Run stray = cli({QStringLiteral("logout"), QStringLiteral("--browser-command"), QStringLiteral("true")});
    QCOMPARE(stray.exitCode, 2);
    QVERIFY(stray.err.contains("--end-session"));
}

void tst_Cli::tokenWithoutSessionAsksToSignIn()
{
    const Run run = cli({QStringLiteral("token")});
    QCOMPARE(run.exitCode, 3);
    QVERIFY(run.out.isEmpty());
    QVERIFY(run.err.contains("keyloop login"));
}

void tst_Cli::unreachableProviderExitsWithNetworkCode()
{
    // Port 9 on loopback: nothing listens (connection refused).
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--issuer"), QStringLiteral("https://127.0.0.1:9"),
                         QStringLiteral("--client-id"), QStringLiteral("x"), QStringLiteral("--timeout"), QStringLiteral("20")});
    QCOMPARE(run.exitCode, 5);
}

void tst_Cli::unfinishedBrowserSignInTimesOutWithAuthorizationCode()
{
    // The "browser" opens nothing: the user never finishes, the login gives up after --timeout.
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                         QStringLiteral("--client-id"), m_devstack.publicClientId,
                         QStringLiteral("--ca-file"), m_devstack.caFile,
                         QStringLiteral("--browser-command"), QStringLiteral("true"),
                         QStringLiteral("--timeout"), QStringLiteral("1")});
    QCOMPARE(run.exitCode, 3);
    QVERIFY(run.err.contains("not completed"));
}

void tst_Cli::busyFixedPortIsAConfigurationError()
{
    QTcpServer busy;
    QVERIFY(busy.listen(QHostAddress::LocalHost));
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                         QStringLiteral("--client-id"), m_devstack.publicClientId,
                         QStringLiteral("--ca-file"), m_devstack.caFile,
                         QStringLiteral("--port"), QString::number(busy.serverPort()),
                         QStringLiteral("--browser-command"), m_scripted});
    QCOMPARE(run.exitCode, 2);
}

void tst_Cli::loginStoresTheSessionAndTokenPrintsOnlyTheToken()
{
    login();
    const Run token = cli({QStringLiteral("token")});
    QCOMPARE(token.exitCode, 0);
    QVERIFY(token.out.endsWith('\n'));
    QCOMPARE(token.out.count('\n'), 1);
    const QByteArray value = token.out.trimmed();
    QVERIFY(!value.isEmpty());
    QVERIFY(!value.contains(' '));
    QCOMPARE(apiStatus(value), 200); // a JWT for the API (RFC 8707 resource), accepted by it
    QVERIFY(token.err.isEmpty());

    const Run status = cli({QStringLiteral("status"), QStringLiteral("--json")});
    QCOMPARE(status.exitCode, 0);
    const QJsonArray sessions = QJsonDocument::fromJson(status.out).object().value(QStringLiteral("sessions")).toArray();
    QCOMPARE(sessions.size(), 1);
    QCOMPARE(sessions.at(0).toObject().value(QStringLiteral("subject")).toString(), QStringLiteral("alice"));
    QVERIFY(!status.out.contains(value));
}

void tst_Cli::refreshTokenIsInTheKeychainAndInNoFile()
{
    login();
    Error error;
    const SessionRecord record = storedRecord(&error);
    QVERIFY2(!error, qPrintable(error.toString()));
    const QByteArray refreshToken = record.refreshToken();
    QVERIFY(!refreshToken.isEmpty());

    int files = 0;
    for (const char *var : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"}) {
        const QString dir = qEnvironmentVariable(var);
        if (dir.isEmpty())
            continue;
        QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (!f.open(QIODevice::ReadOnly))
                continue;
            ++files;
            QVERIFY2(!f.readAll().contains(refreshToken), "the refresh token was found in a plain file");
        }
    }
    QVERIFY(files > 0); // the account index at least was looked at
}

void tst_Cli::noSecretServiceFailsWithStorageCodeAndWritesNothing()
{
    QStringList before;
    const QString home = qEnvironmentVariable("HOME");
    QDirIterator it(home, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        before << it.next();

    QProcessEnvironment env;
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/keyloop-no-bus"));
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                         QStringLiteral("--client-id"), m_devstack.publicClientId,
                         QStringLiteral("--ca-file"), m_devstack.caFile,
                         QStringLiteral("--browser-command"), m_scripted}, env);
    QCOMPARE(run.exitCode, 4);
    QVERIFY(run.err.contains("could not be stored"));
    QVERIFY(!run.out.contains("Session stored"));

    QStringList after;
    QDirIterator it2(home, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it2.hasNext())
        after << it2.next();
    QCOMPARE(after, before); // no plaintext fallback anywhere
}

void tst_Cli::noStoreKeepsNothing()
{
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                         QStringLiteral("--client-id"), m_devstack.publicClientId,
                         QStringLiteral("--ca-file"), m_devstack.caFile, QStringLiteral("--no-store"),
                         QStringLiteral("--browser-command"), m_scripted});
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.contains("not stored"));
    QCOMPARE(cli({QStringLiteral("token")}).exitCode, 3);
}

void tst_Cli::rotatedRefreshTokensArePersistedAcrossProcesses()
{
    Admin admin(m_devstack.admin);
    login();
    QByteArray previousRefresh = storedRecord().refreshToken();
    for (int i = 0; i < 3; ++i) {
        waitUntilAccessTokenIsStale();
        const int refreshes = admin.counter(QStringLiteral("refresh"));
        const Run run = cli({QStringLiteral("token")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        m_lastTokenAt = QDateTime::currentDateTimeUtc();
        QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
        QCOMPARE(apiStatus(run.out.trimmed()), 200);
        const QByteArray stored = storedRecord().refreshToken();
        QVERIFY(!stored.isEmpty());
        QVERIFY2(stored != previousRefresh, "the rotated refresh token was not saved");
        previousRefresh = stored;
    }
}

void tst_Cli::fiveConcurrentProcessesRefreshExactlyOnce()
{
    Admin admin(m_devstack.admin);
    login();
    // Spend the provider token once so that only the API token is left to refresh… then let it expire.
    QCOMPARE(cli({QStringLiteral("token")}).exitCode, 0);
    m_lastTokenAt = QDateTime::currentDateTimeUtc();
    waitUntilAccessTokenIsStale();

    const int refreshes = admin.counter(QStringLiteral("refresh"));
    QList<QProcess *> processes;
    for (int i = 0; i < 5; ++i)
        processes << startCli({QStringLiteral("token")});
    QList<Run> runs;
    for (QProcess *p : processes)
        runs << finish(p);
    for (const Run &run : runs) {
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(apiStatus(run.out.trimmed()), 200);
    }
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
}

void tst_Cli::crashBetweenReceivingAndSavingNeverCorrupts_data()
{
    QTest::addColumn<QString>("point");
    for (const char *point : {"after-refresh-response", "after-secondary-write", "after-main-write", "before-unlock"})
        QTest::newRow(point) << QString::fromLatin1(point);
}

void tst_Cli::crashBetweenReceivingAndSavingNeverCorrupts()
{
#ifndef KEYLOOP_TEST_HOOKS
    QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS (release build): no crash points");
#else
    QFETCH(QString, point);
    login();
    waitUntilAccessTokenIsStale();
    QProcessEnvironment env;
    env.insert(QStringLiteral("KEYLOOP_TEST_KILL_AT"), point);
    const Run killed = cli({QStringLiteral("token")}, env);
    QVERIFY2(killed.crashed, "the crash point was not reached");

    // Afterwards: either a working session, or a clean request to sign in again — never a corrupt
    // record (exit 3 with a storage error) or a stuck lock (a hang).
    const Run after = cli({QStringLiteral("token")}, QProcessEnvironment(), 30000);
    QVERIFY2(after.exitCode == 0 || after.exitCode == 3, after.err.constData());
    if (after.exitCode == 0)
        QCOMPARE(apiStatus(after.out.trimmed()), 200);
    else
        QVERIFY(after.err.contains("sign in again") || after.err.contains("keyloop login"));
#endif
}

// RFC 7009: logout revokes the refresh token (which ends the grant at oidc-provider) and the API's
// JWT access token (answered with unsupported_token_type: done), then removes the session.
void tst_Cli::logoutRevokesTheGrantThenRemovesTheSession()
{
    Admin admin(m_devstack.admin);
    login();
    const SessionRecord record = storedRecord();
    const QByteArray refreshToken = record.refreshToken();
    QVERIFY(!refreshToken.isEmpty());
    const int revocations = admin.counter(QStringLiteral("revocation"));

    const Run logout = cli({QStringLiteral("-v"), QStringLiteral("logout")});
    QVERIFY2(logout.exitCode == 0, logout.err.constData());
    QVERIFY2(logout.out.contains("revoked the tokens at the provider and removed the session"), logout.out.constData());
    QVERIFY(logout.err.contains("revocation request to")); // the debug log names events…
    QVERIFY2(!logout.err.contains(refreshToken), "the refresh token reached the debug log"); // …never values
    QVERIFY(!logout.err.contains(record.accessToken(m_devstack.apiResource).token));
    QVERIFY(admin.counter(QStringLiteral("revocation")) > revocations);
    // At the provider: the old refresh token is dead.
    QCOMPARE(refreshError(refreshToken), QStringLiteral("invalid_grant"));

    Error error;
    storedRecord(&error);
    QCOMPARE(error.code(), Error::Code::NotFound);
    QCOMPARE(cli({QStringLiteral("token")}).exitCode, 3);
    const Run status = cli({QStringLiteral("status"), QStringLiteral("--json")});
    QVERIFY(QJsonDocument::fromJson(status.out).object().value(QStringLiteral("sessions")).toArray().isEmpty());
}

// OpenID Connect RP-Initiated Logout: after the local sign-out, the browser (headless Chromium)
// opens the end_session_endpoint with the ID token as id_token_hint and comes back to the
// loopback post_logout_redirect_uri. The ID token is in no output, the -v debug log included.
void tst_Cli::logoutEndSessionEndsTheProviderSessionInTheBrowser()
{
    Admin admin(m_devstack.admin);
    login();
    const QByteArray idToken = storedRecord().idToken();
    QVERIFY(!idToken.isEmpty());
    const QJsonObject before = admin.counters();
    const QString chromium = QStringLiteral("node ") + sourcePath(QStringLiteral("demo-app/devstack/chromium-login.mjs"));
    const Run logout = cli({QStringLiteral("-v"), QStringLiteral("logout"), QStringLiteral("--end-session"),
                            QStringLiteral("--browser-command"), chromium},
                           QProcessEnvironment(), 120000);
    QVERIFY2(logout.exitCode == 0, logout.err.constData());
    QVERIFY2(logout.out.contains("revoked the tokens at the provider and removed the session"), logout.out.constData());
    QVERIFY2(logout.out.contains("Ended the session at the provider"), logout.out.constData());
    QVERIFY2(!(logout.out + logout.err).contains(idToken.left(40)), "the ID token reached the output");
    QVERIFY(!(logout.out + logout.err).contains("id_token_hint="));
    const QJsonObject after = admin.counters();
    QCOMPARE(after.value(QStringLiteral("endSession")).toInt(), before.value(QStringLiteral("endSession")).toInt() + 1);
    QCOMPARE(after.value(QStringLiteral("endSessionConfirmed")).toInt(),
             before.value(QStringLiteral("endSessionConfirmed")).toInt() + 1);
    Error error;
    storedRecord(&error);
    QCOMPARE(error.code(), Error::Code::NotFound);
}

// The provider cannot be told (503, a dropped connection): the session is removed on this device
// all the same, and logout says so with exit code 5. A fake provider on loopback plays the
// failing revocation endpoint, for a session stored as an app would (discovery finds the endpoint).
void tst_Cli::logoutWithAFailingRevocationStillRemovesTheSession_data()
{
    QTest::addColumn<bool>("drop");
    QTest::newRow("503") << false;
    QTest::newRow("connection dropped") << true;
}

void tst_Cli::logoutWithAFailingRevocationStillRemovesTheSession()
{
    QFETCH(bool, drop);
    using namespace KeyloopSessionTest;
    FakeServer provider;
    QVERIFY(provider.listen());
    const QString issuer = provider.url(QString()).toString();
    const QString clientId = QStringLiteral("installed-app");
    provider.setHandler("/.well-known/openid-configuration", [&](const Request &, QTcpSocket *socket) {
        const QJsonObject metadata{{QStringLiteral("issuer"), issuer},
                                   {QStringLiteral("authorization_endpoint"), issuer + QStringLiteral("/authorize")},
                                   {QStringLiteral("token_endpoint"), issuer + QStringLiteral("/token")},
                                   {QStringLiteral("revocation_endpoint"), issuer + QStringLiteral("/revoke")}};
        FakeServer::reply(socket, httpResponse(200, QJsonDocument(metadata).toJson(QJsonDocument::Compact)));
    });
    provider.setHandler("/revoke", [drop](const Request &, QTcpSocket *socket) {
        if (drop)
            socket->abort();
        else
            FakeServer::reply(socket, httpResponse(503, QByteArray(), "application/json", {"Retry-After: 120"}));
    });

    SessionRecord record;
    record.setIssuer(issuer);
    record.setClientId(clientId);
    record.setRefreshToken("rt-installed");
    record.setUpdatedAt(QDateTime::currentDateTimeUtc());
    KeychainTokenStore store(m_appId);
    TokenStoreJob *write = store.write(TokenStore::keyFor(issuer, clientId, QString()), record);
    QSignalSpy written(write, &Job::finished);
    Error writeError;
    connect(write, &Job::finished, this, [&, write] { writeError = write->error(); });
    write->start();
    QVERIFY(written.wait(10000));
    QVERIFY2(!writeError, qPrintable(writeError.toString()));

    const Run run = cli({QStringLiteral("logout"), QStringLiteral("--issuer"), issuer, QStringLiteral("--client-id"), clientId,
                         QStringLiteral("--allow-insecure-loopback")});
    QCOMPARE(run.exitCode, 5);
    QVERIFY2(run.err.contains("signed out on this device") && run.err.contains("stay valid until they expire"),
             run.err.constData());
    QVERIFY(!run.err.contains("rt-installed"));
    QVERIFY(run.out.isEmpty());
    QVERIFY(provider.count("/revoke") >= 1);
    QCOMPARE(provider.requests("/revoke").constFirst().field(QStringLiteral("token_type_hint")), QByteArray("refresh_token"));

    // Removed on this device.
    TokenStoreJob *read = store.read(TokenStore::keyFor(issuer, clientId, QString()));
    QSignalSpy readDone(read, &Job::finished);
    Error readError;
    connect(read, &Job::finished, this, [&, read] { readError = read->error(); });
    read->start();
    QVERIFY(readDone.wait(10000));
    QCOMPARE(readError.code(), Error::Code::NotFound);
}

// RFC 8707 §2.2: the code exchange asks for the first resource, so the API's token comes with
// the sign-in: no refresh afterwards, and the stored token is accepted by the API.
void tst_Cli::loginWithAResourceNeedsNoRefresh()
{
    Admin admin(m_devstack.admin);
    const int refreshes = admin.counter(QStringLiteral("refresh"));
    login();
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes);
    const SessionRecord record = storedRecord();
    const QByteArray apiToken = record.accessToken(m_devstack.apiResource).token;
    QVERIFY2(!apiToken.isEmpty(), "the sign-in stored no token for the API resource");
    QCOMPARE(apiStatus(apiToken), 200);
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes);
}

// RFC 9126: `login --par` pushes the request; the browser command gets the authorization endpoint
// with client_id and request_uri only, and the URL printed for copying is the start page.
void tst_Cli::loginParGivesTheBrowserOnlyClientIdAndRequestUri()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString urlFile = dir.filePath(QStringLiteral("browser-url"));
    // The "browser" writes down the URL it was given, then signs in with it (no shell runs for
    // --browser-command itself: sh is the program, the URL its last argument).
    const QString browser = QStringLiteral("sh -c 'printf %s \"$1\" > %1 && exec %2 \"$1\"' sh").arg(urlFile, m_scripted);
    const Run run = cli({QStringLiteral("-v"), QStringLiteral("login"), QStringLiteral("--par"),
                         QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                         QStringLiteral("--client-id"), m_devstack.publicClientId,
                         QStringLiteral("--ca-file"), m_devstack.caFile,
                         QStringLiteral("--scope"), QStringLiteral("openid profile offline_access api:read"),
                         QStringLiteral("--resource"), m_devstack.apiResource,
                         QStringLiteral("--browser-command"), browser});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY2(run.out.contains("Signed in as ") && run.out.contains("(sub alice) at "), run.out.constData());

    QFile file(urlFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QUrl opened = QUrl::fromEncoded(file.readAll());
    QVERIFY(opened.isValid());
    QCOMPARE(opened.scheme(), QStringLiteral("https"));
    QCOMPARE(opened.path(), QStringLiteral("/auth"));
    QStringList names;
    for (const auto &item : QUrlQuery(opened).queryItems())
        names << item.first;
    QCOMPARE(names, (QStringList{QStringLiteral("client_id"), QStringLiteral("request_uri")}));
    const QByteArray requestUri = QUrlQuery(opened).queryItemValue(QStringLiteral("request_uri"), QUrl::FullyDecoded).toUtf8();
    QVERIFY(requestUri.startsWith("urn:ietf:params:oauth:request_uri:"));

    // The URL to copy: the start page on the redirect listener, not the one-use request_uri.
    QVERIFY2(run.err.contains("If it does not open, visit:\n\n  http://127.0.0.1:"), run.err.constData());
    QVERIFY(run.err.contains("/start/"));
    QVERIFY2(!run.err.contains(requestUri), "the request_uri reached the terminal or the debug log");
    QVERIFY(!run.err.contains("code_challenge"));
    QVERIFY(run.err.contains("pushed authorization request")); // the debug log says it pushed

    // The session works like any other: the stored token is the API's.
    const QByteArray apiToken = storedRecord().accessToken(m_devstack.apiResource).token;
    QVERIFY(!apiToken.isEmpty());
    QCOMPARE(apiStatus(apiToken), 200);
}

// The devstack always offers PAR (oidc-provider 9): a provider without a
// pushed_authorization_request_endpoint is played by a fake on loopback, as above.
void tst_Cli::loginParWithoutAnEndpointIsAConfigurationError()
{
    using namespace KeyloopSessionTest;
    FakeServer provider;
    QVERIFY(provider.listen());
    const QString issuer = provider.url(QString()).toString();
    provider.setHandler("/.well-known/openid-configuration", [&](const Request &, QTcpSocket *socket) {
        const QJsonObject metadata{{QStringLiteral("issuer"), issuer},
                                   {QStringLiteral("authorization_endpoint"), issuer + QStringLiteral("/authorize")},
                                   {QStringLiteral("token_endpoint"), issuer + QStringLiteral("/token")}};
        FakeServer::reply(socket, httpResponse(200, QJsonDocument(metadata).toJson(QJsonDocument::Compact)));
    });
    const Run run = cli({QStringLiteral("login"), QStringLiteral("--par"), QStringLiteral("--issuer"), issuer,
                         QStringLiteral("--client-id"), QStringLiteral("installed-app"),
                         QStringLiteral("--allow-insecure-loopback"), QStringLiteral("--no-store"),
                         QStringLiteral("--browser-command"), m_scripted});
    QCOMPARE(run.exitCode, 2); // a configuration error
    QVERIFY2(run.err.contains("keyloop login: sign-in failed: pushed authorization requests are switched on for this "
                              "client, but the provider has no pushed_authorization_request_endpoint (RFC 9126 §5)"),
             run.err.constData());
    QVERIFY(!run.err.contains("Opening the browser")); // nothing was opened
    QVERIFY(run.out.isEmpty());
}

QProcess *tst_Cli::loginThenPauseARefresh(const QString &pauseFile)
{
    login();
    waitUntilAccessTokenIsStale();
    QFile file(pauseFile);
    if (!file.open(QIODevice::WriteOnly))
        return nullptr;
    file.close();
    QProcessEnvironment env;
    env.insert(QStringLiteral("KEYLOOP_TEST_PAUSE_AT"), QStringLiteral("after-refresh-response"));
    env.insert(QStringLiteral("KEYLOOP_TEST_PAUSE_FILE"), pauseFile);
    QProcess *token = startCli({QStringLiteral("token")}, env);
    if (!QTest::qWaitFor([&] { return QFile::exists(pauseFile + QStringLiteral(".paused")); }, 30000))
        return nullptr;
    return token;
}

// Sign-out against a refresh in another process (`keyloop token` from a script): the logout
// waits for the refresh's lock, then deletes; the refresh cannot write the session back.
void tst_Cli::logoutWaitsForARefreshInAnotherProcess()
{
#ifndef KEYLOOP_TEST_HOOKS
    QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS (release build): no pause points");
#else
    QTemporaryDir dir;
    const QString pauseFile = dir.filePath(QStringLiteral("pause"));
    QProcess *token = loginThenPauseARefresh(pauseFile);
    QVERIFY2(token, "the refresh never reached its pause point");

    QProcess *logout = startCli({QStringLiteral("-v"), QStringLiteral("logout")});
    QByteArray logoutErr;
    QVERIFY(QTest::qWaitFor([&] {
        logoutErr += logout->readAllStandardError();
        return logoutErr.contains("session lock held by another process; waiting");
    }, 30000));
    QVERIFY(QFile::remove(pauseFile)); // the refresh goes on: saves, releases the lock

    const Run tokenRun = finish(token);
    QVERIFY2(tokenRun.exitCode == 0, tokenRun.err.constData());
    const Run logoutRun = finish(logout);
    QVERIFY2(logoutRun.exitCode == 0, (logoutErr + logoutRun.err).constData());

    Error error;
    storedRecord(&error);
    QCOMPARE(error.code(), Error::Code::NotFound);
    QCOMPARE(cli({QStringLiteral("token")}).exitCode, 3);
    const Run status = cli({QStringLiteral("status"), QStringLiteral("--json")});
    QVERIFY(QJsonDocument::fromJson(status.out).object().value(QStringLiteral("sessions")).toArray().isEmpty());
#endif
}

void tst_Cli::logoutReportsABusySessionAndDeletesNothing()
{
#ifndef KEYLOOP_TEST_HOOKS
    QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS (release build): no pause points");
#else
    QTemporaryDir dir;
    const QString pauseFile = dir.filePath(QStringLiteral("pause"));
    QProcess *token = loginThenPauseARefresh(pauseFile);
    QVERIFY2(token, "the refresh never reached its pause point");

    QProcessEnvironment shortWait;
    shortWait.insert(QStringLiteral("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS"), QStringLiteral("500"));
    const Run busy = cli({QStringLiteral("logout")}, shortWait);
    QCOMPARE(busy.exitCode, 4);
    QVERIFY2(busy.err.contains("busy"), busy.err.constData());

    QVERIFY(QFile::remove(pauseFile));
    const Run tokenRun = finish(token);
    QVERIFY2(tokenRun.exitCode == 0, tokenRun.err.constData());
    Error error;
    QVERIFY(!storedRecord(&error).refreshToken().isEmpty()); // still there
    QVERIFY(!error);
    QCOMPARE(cli({QStringLiteral("logout")}).exitCode, 0); // tried again: removed
    storedRecord(&error);
    QCOMPARE(error.code(), Error::Code::NotFound);
#endif
}

// Ctrl-C (here SIGTERM) after the provider rotated the refresh token but before it is saved: the
// save finishes before the process exits, so the next run refreshes with the new token.
void tst_Cli::interruptDuringTheSaveKeepsTheRotatedToken()
{
#ifndef KEYLOOP_TEST_HOOKS
    QSKIP("the SDK was built without KEYLOOP_TEST_HOOKS (release build): no pause points");
#else
    QTemporaryDir dir;
    const QString pauseFile = dir.filePath(QStringLiteral("pause"));
    QProcess *token = loginThenPauseARefresh(pauseFile);
    QVERIFY2(token, "the refresh never reached its pause point");
    const QByteArray before = storedRecord().refreshToken(); // not rotated yet: nothing saved
    token->terminate();
    QVERIFY(QFile::remove(pauseFile));
    const Run run = finish(token);
    QCOMPARE(run.exitCode, 130);
    QVERIFY2(run.err.contains("finishing saving the session"), run.err.constData());

    const QByteArray after = storedRecord().refreshToken();
    QVERIFY(!after.isEmpty());
    QVERIFY2(after != before, "the rotated refresh token was lost");
    m_lastTokenAt = QDateTime::currentDateTimeUtc();
    waitUntilAccessTokenIsStale();
    const Run next = cli({QStringLiteral("token")});
    QVERIFY2(next.exitCode == 0, next.err.constData()); // the provider accepts the saved token
    QCOMPARE(apiStatus(next.out.trimmed()), 200);
#endif
}

void tst_Cli::verboseLoggingNeverPrintsSecrets()
{
    const Run login = cli({QStringLiteral("-v"), QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                           QStringLiteral("--client-id"), m_devstack.publicClientId,
                           QStringLiteral("--ca-file"), m_devstack.caFile,
                           QStringLiteral("--browser-command"), m_scripted});
    QVERIFY2(login.exitCode == 0, login.err.constData());
    QVERIFY(login.err.contains("keyloop.")); // debug categories are on
    m_lastTokenAt = QDateTime::currentDateTimeUtc();
    const QByteArray firstRefresh = storedRecord().refreshToken();
    QVERIFY(!firstRefresh.isEmpty());
    QVERIFY(!login.err.contains(firstRefresh) && !login.out.contains(firstRefresh));

    waitUntilAccessTokenIsStale();
    const Run token = cli({QStringLiteral("token"), QStringLiteral("--verbose")});
    QVERIFY2(token.exitCode == 0, token.err.constData());
    QVERIFY(token.err.contains("keyloop."));
    const QByteArray accessToken = token.out.trimmed();
    const SessionRecord after = storedRecord();
    QVERIFY(after.refreshToken() != firstRefresh); // a refresh (with rotation) did happen
    for (const QByteArray &secret : {accessToken, firstRefresh, after.refreshToken(), after.idToken()}) {
        QVERIFY(!secret.isEmpty());
        QVERIFY2(!token.err.contains(secret), "a secret reached the debug log");
    }
}

// The dev login makes the login name the ID token's sub, so a hostile subject can be typed in:
// escape sequences, a bell, an 8-bit CSI, a bidi override and a line break. login and status
// print them only as '?'; status --json keeps the exact value, escaped. (The devstack puts the
// profile claims in UserInfo, not in the ID token: display names are covered by tst_terminaltext.)
void tst_Cli::providerTextReachesTheTerminalOnlyPrintable()
{
    const QString user = QStringLiteral("eve\x1b[2J\x1b]0;pwned\x07\u009b31m\u202e\r\nroot");
    const QByteArray printedSub = "eve?[2J?]0;pwned??31m???root";
    QProcessEnvironment env;
    env.insert(QStringLiteral("KEYLOOP_TEST_USER"), user);
    const Run login = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                           QStringLiteral("--client-id"), m_devstack.publicClientId,
                           QStringLiteral("--ca-file"), m_devstack.caFile,
                           QStringLiteral("--browser-command"), m_scripted}, env);
    QVERIFY2(login.exitCode == 0, login.err.constData());
    QVERIFY2(!hasTerminalControls(login.out, true), login.out.constData());
    QVERIFY2(login.out.contains("Signed in as " + printedSub + " at "), login.out.constData());

    const Run status = cli({QStringLiteral("status")});
    QCOMPARE(status.exitCode, 0);
    QVERIFY2(!hasTerminalControls(status.out, true), status.out.constData());
    QVERIFY2(status.out.contains("- default account: " + printedSub + " at "), status.out.constData());

    const Run json = cli({QStringLiteral("status"), QStringLiteral("--json")});
    QCOMPARE(json.exitCode, 0);
    QVERIFY2(!hasTerminalControls(json.out, true), json.out.constData());
    const QJsonObject session = QJsonDocument::fromJson(json.out).object().value(QStringLiteral("sessions")).toArray().at(0).toObject();
    QCOMPARE(session.value(QStringLiteral("subject")).toString(), user); // the value itself is intact
}

// --client-secret-file: the secret reaches the token endpoint (RFC 6749 §2.3.1 Basic
// authentication), without its final line break, and never appears on a command line. The
// devstack has no installed-app client with a secret, so a fake provider on loopback plays one:
// a stored session for it (written here, as an app would) is refreshed by `keyloop token`.
void tst_Cli::clientSecretFileAuthenticatesTheRefresh()
{
    using namespace KeyloopSessionTest;
    FakeServer provider;
    QVERIFY(provider.listen());
    const QString issuer = provider.url(QString()).toString();
    const QString clientId = QStringLiteral("installed-app");
    provider.setHandler("/.well-known/openid-configuration", [&](const Request &, QTcpSocket *socket) {
        const QJsonObject metadata{{QStringLiteral("issuer"), issuer},
                                   {QStringLiteral("authorization_endpoint"), issuer + QStringLiteral("/authorize")},
                                   {QStringLiteral("token_endpoint"), issuer + QStringLiteral("/token")}};
        FakeServer::reply(socket, httpResponse(200, QJsonDocument(metadata).toJson(QJsonDocument::Compact)));
    });
    provider.setHandler("/token", [](const Request &, QTcpSocket *socket) {
        FakeServer::reply(socket, httpResponse(200, QByteArrayLiteral("{\"access_token\":\"at-refreshed\",\"token_type\":\"Bearer\",\"expires_in\":60}"),
                                               "application/json", {"Cache-Control: no-store"}));
    });

    SessionRecord record;
    record.setIssuer(issuer);
    record.setClientId(clientId);
    record.setRefreshToken("rt-installed");
    record.setAccessToken(QString(), SessionAccessToken{"at-stale", QDateTime::currentDateTimeUtc().addSecs(-120),
                                                        QDateTime::currentDateTimeUtc().addSecs(-60), {},
                                                        QStringLiteral("Bearer")});
    record.setUpdatedAt(QDateTime::currentDateTimeUtc());
    KeychainTokenStore store(m_appId);
    TokenStoreJob *write = store.write(TokenStore::keyFor(issuer, clientId, QString()), record);
    QSignalSpy written(write, &Job::finished);
    Error writeError;
    connect(write, &Job::finished, this, [&, write] { writeError = write->error(); });
    write->start();
    QVERIFY(written.wait(10000));
    QVERIFY2(!writeError, qPrintable(writeError.toString()));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile secretFile(dir.filePath(QStringLiteral("secret")));
    QVERIFY(secretFile.open(QIODevice::WriteOnly));
    secretFile.write("s3cr3t-from-a-file\n");
    secretFile.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    secretFile.close();

    const Run run = cli({QStringLiteral("token"), QStringLiteral("--issuer"), issuer, QStringLiteral("--client-id"), clientId,
                         QStringLiteral("--client-secret-file"), secretFile.fileName(),
                         QStringLiteral("--allow-insecure-loopback")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.out, QByteArray("at-refreshed\n"));
    const QList<Request> requests = provider.requests("/token");
    QCOMPARE(requests.size(), 1);
    QByteArray authorization;
    for (const auto &header : requests.constFirst().headers)
        if (header.first == "authorization")
            authorization = header.second;
    QCOMPARE(authorization, QByteArray("Basic " + QByteArray("installed-app:s3cr3t-from-a-file").toBase64()));
    QVERIFY(!run.err.contains("s3cr3t"));
}

void tst_Cli::clientSecretFileProblemsAreUsageErrors()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString empty = dir.filePath(QStringLiteral("empty"));
    const QString twoLines = dir.filePath(QStringLiteral("two-lines"));
    for (const auto &[path, content] : {std::pair{empty, QByteArray("\n")}, std::pair{twoLines, QByteArray("first-line-secret\nsecond\n")}}) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    const QStringList login{QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                            QStringLiteral("--client-id"), m_devstack.publicClientId,
                            QStringLiteral("--browser-command"), QStringLiteral("true"), QStringLiteral("--timeout"),
                            QStringLiteral("1")};
    const Run missing = cli(login + QStringList{QStringLiteral("--client-secret-file"), dir.filePath(QStringLiteral("none"))});
    QCOMPARE(missing.exitCode, 2);
    QVERIFY(missing.err.contains("cannot read the client secret file"));
    const Run emptyRun = cli(login + QStringList{QStringLiteral("--client-secret-file"), empty});
    QCOMPARE(emptyRun.exitCode, 2);
    QVERIFY(emptyRun.err.contains("is empty"));
    const Run twoLinesRun = cli(login + QStringList{QStringLiteral("--client-secret-file"), twoLines});
    QCOMPARE(twoLinesRun.exitCode, 2);
    QVERIFY(twoLinesRun.err.contains("on one line"));
    QVERIFY(!twoLinesRun.err.contains("first-line-secret")); // the file is named, its content never shown
    const Run both = cli(login + QStringList{QStringLiteral("--client-secret-file"), twoLines, QStringLiteral("--client-secret"),
                                             QStringLiteral("x")});
    QCOMPARE(both.exitCode, 2);
    QVERIFY(both.err.contains("not both"));

    for (const char *command : {"login", "token"}) {
        const Run help = cli({QString::fromLatin1(command), QStringLiteral("--help")});
        QVERIFY(help.out.contains("--client-secret-file"));
        QVERIFY(help.out.simplified().contains("Visible to other local users in the process list"));
    }
}

QString tst_Cli::apiUrl(const QString &path) const
{
    QUrl url = m_devstack.api;
    url.setPath(path);
    return url.toString();
}

void tst_Cli::callUsageErrorsComeBeforeTheKeychain()
{
    // No session is stored: each of these fails on the command line alone (exit 2), not with
    // "run keyloop login" (exit 3).
    const QString api = apiUrl(QStringLiteral("/api/me"));
    const QList<QStringList> usages = {
        {QStringLiteral("call")},
        {QStringLiteral("call"), QStringLiteral("/api/me")},
        {QStringLiteral("call"), api, api},
        {QStringLiteral("call"), QStringLiteral("-H"), QStringLiteral("Authorization: Bearer x"), api},
        {QStringLiteral("call"), QStringLiteral("-H"), QStringLiteral("no colon"), api},
        {QStringLiteral("call"), QStringLiteral("-d"), QStringLiteral("@/nonexistent/body.json"), api},
    };
    for (const QStringList &args : usages) {
        const Run run = cli(args);
        QVERIFY2(run.exitCode == 2, qPrintable(args.join(QLatin1Char(' ')) + QStringLiteral(": ") + QString::fromUtf8(run.err)));
        QVERIFY(run.out.isEmpty());
    }
    QCOMPARE(cli({QStringLiteral("call"), api}).exitCode, 3); // well-formed: then "sign in first"
}

void tst_Cli::callPrintsTheBodyAndNeverTheToken()
{
    login();
    Admin admin(m_devstack.admin);
    const int api = admin.counter(QStringLiteral("api"));
    const Run run = cli({QStringLiteral("-v"), QStringLiteral("call"), apiUrl(QStringLiteral("/api/me"))});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonObject me = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(me.value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
    QCOMPARE(me.value(QStringLiteral("client_id")).toString(), m_devstack.publicClientId);
    QCOMPARE(admin.counter(QStringLiteral("api")), api + 1);
    QVERIFY(run.err.contains("keyloop.http")); // debug logging was on
    const SessionRecord record = storedRecord();
    const QByteArray token = record.accessToken(m_devstack.apiResource).token;
    QVERIFY(!token.isEmpty());
    for (const QByteArray &secret : {token, record.refreshToken()})
        QVERIFY2(!run.out.contains(secret) && !run.err.contains(secret), "a secret was printed");
}

void tst_Cli::callKeepsWorkingAcrossTokenExpiry()
{
    login();
    Admin admin(m_devstack.admin);
    const int refreshes = admin.counter(QStringLiteral("refresh"));
    const int api = admin.counter(QStringLiteral("api"));
    const Run first = cli({QStringLiteral("call"), apiUrl(QStringLiteral("/api/items"))});
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QVERIFY(QJsonDocument::fromJson(first.out).object().contains(QStringLiteral("items")));
    waitUntilAccessTokenIsStale();
    const Run second = cli({QStringLiteral("call"), apiUrl(QStringLiteral("/api/items"))});
    QVERIFY2(second.exitCode == 0, second.err.constData());
    QCOMPARE(second.out, first.out);
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1); // refreshed before the call
    QCOMPARE(admin.counter(QStringLiteral("api")), api + 2);           // and never rejected
}

void tst_Cli::callReplaysOnceWhenTheApiRejectsTheToken()
{
    login();
    Admin admin(m_devstack.admin);
    // New signing keys: the stored (still unexpired) access token no longer verifies at the API.
    QVERIFY(admin.rotateKeys());
    const int refreshes = admin.counter(QStringLiteral("refresh"));
    const int api = admin.counter(QStringLiteral("api"));
    const Run run = cli({QStringLiteral("call"), apiUrl(QStringLiteral("/api/me"))});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(QJsonDocument::fromJson(run.out).object().value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
    QCOMPARE(admin.counter(QStringLiteral("api")), api + 2);           // a 401, then the replay
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1); // one fresh token
}

void tst_Cli::callExitsSixOnHttpErrors()
{
    login(); // scope api:read only
    Admin admin(m_devstack.admin);
    const int api = admin.counter(QStringLiteral("api"));
    const Run write = cli({QStringLiteral("call"), QStringLiteral("-H"), QStringLiteral("Content-Type: application/json"),
                           QStringLiteral("-d"), QStringLiteral("{\"name\":\"x\"}"), apiUrl(QStringLiteral("/api/items"))});
    QCOMPARE(write.exitCode, 6);
    QVERIFY2(write.err.contains("HTTP 403") && write.err.contains("api:write"), write.err.constData());
    QCOMPARE(QJsonDocument::fromJson(write.out).object().value(QStringLiteral("error")).toString(),
             QStringLiteral("insufficient_scope")); // the body still goes to stdout
    QCOMPARE(admin.counter(QStringLiteral("api")), api + 1);     // never replayed

    const Run missing = cli({QStringLiteral("call"), apiUrl(QStringLiteral("/api/nothing-here"))});
    QCOMPARE(missing.exitCode, 6);
    QVERIFY2(missing.err.contains("HTTP 404"), missing.err.constData());
    const Run method = cli({QStringLiteral("call"), QStringLiteral("-X"), QStringLiteral("DELETE"), apiUrl(QStringLiteral("/api/me"))});
    QCOMPARE(method.exitCode, 6);
}

void tst_Cli::callSendsTheTokenOnlyToSecureUrls()
{
    login();
    // Plain http to a public host: refused before anything is sent.
    const Run plain = cli({QStringLiteral("call"), QStringLiteral("http://api.example.com/items")});
    QCOMPARE(plain.exitCode, 2);
    QVERIFY2(plain.err.contains("https"), plain.err.constData());
    // Plain http to loopback: only with --allow-insecure-loopback on this command line — and
    // then the token goes to our own listener, which proves what it received: the header only.
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost));
    const QString local = QStringLiteral("http://127.0.0.1:%1/api/echo?q=1").arg(listener.serverPort());
    QCOMPARE(cli({QStringLiteral("call"), local}).exitCode, 2);
    QProcess *process = startCli({QStringLiteral("call"), QStringLiteral("--allow-insecure-loopback"), local});
    QByteArray request;
    QTcpSocket *socket = nullptr;
    QVERIFY(QTest::qWaitFor([&] {
        if (!socket && listener.hasPendingConnections())
            socket = listener.nextPendingConnection();
        if (socket && socket->bytesAvailable())
            request += socket->readAll();
        return request.contains("\r\n\r\n");
    }, 30000));
    socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\necho");
    socket->flush();
    const Run run = finish(process);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.out, QByteArray("echo"));
    const QByteArray token = storedRecord().accessToken(m_devstack.apiResource).token;
    const QByteArray requestLine = request.left(request.indexOf("\r\n"));
    QCOMPARE(requestLine, QByteArray("GET /api/echo?q=1 HTTP/1.1"));           // never in the URL
    QVERIFY(request.contains("\r\nAuthorization: Bearer " + token + "\r\n")); // only in the header
}


// ---- token --json and --exec-credential ---------------------------------------------------

void tst_Cli::tokenOutputOptionsAreCheckedBeforeTheKeychain()
{
    const Run both = cli({QStringLiteral("token"), QStringLiteral("--json"), QStringLiteral("--exec-credential")});
    QCOMPARE(both.exitCode, 2);
    QVERIFY(both.out.isEmpty());
    const Run resource = cli({QStringLiteral("token"), QStringLiteral("--exec-credential"), QStringLiteral("--resource"),
                              m_devstack.apiResource});
    QCOMPARE(resource.exitCode, 2);
    QVERIFY2(resource.err.contains("--resource"), resource.err.constData());
    // kubectl asks for the ExecCredential version its kubeconfig names; v1alpha1 left Kubernetes in 1.24.
    QProcessEnvironment alpha;
    alpha.insert(QStringLiteral("KUBERNETES_EXEC_INFO"),
                 QStringLiteral("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\",\"spec\":{}}"));
    const Run old = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")}, alpha);
    QCOMPARE(old.exitCode, 2);
    QVERIFY(old.out.isEmpty());
    QVERIFY2(old.err.contains("v1alpha1") && old.err.contains("client.authentication.k8s.io/v1beta1"), old.err.constData());
    // No session: exit 3, as for a plain `keyloop token`.
    for (const char *option : {"--json", "--exec-credential"}) {
        const Run none = cli({QStringLiteral("token"), QString::fromLatin1(option)});
        QCOMPARE(none.exitCode, 3);
        QVERIFY(none.out.isEmpty());
        QVERIFY(none.err.contains("keyloop login"));
    }
}

void tst_Cli::tokenJsonDescribesTheTokenItPrints()
{
    Admin admin(m_devstack.admin);
    login();
    const Run run = cli({QStringLiteral("token"), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.err.isEmpty());
    QCOMPARE(run.out.count('\n'), 1);
    QVERIFY(run.out.endsWith('\n'));
    const QJsonObject o = jsonLine(run.out);
    QCOMPARE(o.keys(), (QStringList{QStringLiteral("access_token"), QStringLiteral("expires_at"), QStringLiteral("expires_in"),
                                    QStringLiteral("resource"), QStringLiteral("token_type")}));
    const QByteArray token = o.value(QStringLiteral("access_token")).toString().toLatin1();
    QCOMPARE(apiStatus(token), 200);
    // What the session holds about that token, as the provider issued it.
    const SessionAccessToken held = storedRecord().accessToken(m_devstack.apiResource);
    QVERIFY(held.token == token);
    QCOMPARE(held.tokenType, QStringLiteral("Bearer"));
    QCOMPARE(o.value(QStringLiteral("token_type")).toString(), QStringLiteral("Bearer"));
    QCOMPARE(o.value(QStringLiteral("resource")).toString(), m_devstack.apiResource);
    const QString expiresAt = o.value(QStringLiteral("expires_at")).toString();
    QVERIFY2(expiresAt.endsWith(QLatin1Char('Z')), qPrintable(expiresAt)); // RFC 3339, UTC
    QCOMPARE(QDateTime::fromString(expiresAt, Qt::ISODate).toSecsSinceEpoch(), held.expiresAt.toSecsSinceEpoch());
    const qint64 expiresIn = o.value(QStringLiteral("expires_in")).toInteger(-1);
    QVERIFY2(expiresIn >= 0 && expiresIn <= 2, qPrintable(QString::number(expiresIn))); // 2-second tokens here

    // The refresh behaviour of `keyloop token`: a stale token is refreshed (and saved) first.
    m_lastTokenAt = QDateTime::currentDateTimeUtc();
    waitUntilAccessTokenIsStale();
    const int refreshes = admin.counter(QStringLiteral("refresh"));
    const Run again = cli({QStringLiteral("token"), QStringLiteral("--json")});
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
    const QByteArray refreshed = jsonLine(again.out).value(QStringLiteral("access_token")).toString().toLatin1();
    QVERIFY(!refreshed.isEmpty() && refreshed != token);
    QCOMPARE(apiStatus(refreshed), 200);
    QVERIFY(storedRecord().accessToken(m_devstack.apiResource).token == refreshed);
    QVERIFY(again.err.isEmpty());
}

void tst_Cli::execCredentialCarriesTheIdTokenForKubectl()
{
    Admin admin(m_devstack.admin);
    login();
    const QByteArray idToken = storedRecord().idToken();
    QVERIFY(!idToken.isEmpty());
    const int tokens = admin.counter(QStringLiteral("token"));

    const Run run = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.err.isEmpty());
    QCOMPARE(run.out.count('\n'), 1);
    const QJsonObject o = jsonLine(run.out);
    QCOMPARE(o.keys(), (QStringList{QStringLiteral("apiVersion"), QStringLiteral("kind"), QStringLiteral("status")}));
    QCOMPARE(o.value(QStringLiteral("apiVersion")).toString(), QStringLiteral("client.authentication.k8s.io/v1"));
    QCOMPARE(o.value(QStringLiteral("kind")).toString(), QStringLiteral("ExecCredential"));
    const QJsonObject status = o.value(QStringLiteral("status")).toObject();
    const QByteArray token = status.value(QStringLiteral("token")).toString().toLatin1();
    QVERIFY(token == idToken); // fresh (an hour): no refresh
    QCOMPARE(admin.counter(QStringLiteral("token")), tokens);

    // The ID token: a JWT for the client (what the API server's OIDC authenticator checks) whose exp
    // is the credential's expiry.
    const QJsonObject claims = jwtPayload(token);
    const QJsonValue aud = claims.value(QStringLiteral("aud"));
    QVERIFY(aud.toString() == m_devstack.publicClientId || aud.toArray().contains(m_devstack.publicClientId));
    QCOMPARE(claims.value(QStringLiteral("iss")).toString(), m_devstack.issuer.toString());
    QCOMPARE(claims.value(QStringLiteral("sub")).toString(), QStringLiteral("alice"));
    const QString expiration = status.value(QStringLiteral("expirationTimestamp")).toString();
    QVERIFY2(expiration.endsWith(QLatin1Char('Z')), qPrintable(expiration));
    QCOMPARE(QDateTime::fromString(expiration, Qt::ISODate).toSecsSinceEpoch(), claims.value(QStringLiteral("exp")).toInteger());

    // The version kubectl asks for in KUBERNETES_EXEC_INFO (kubectl accepts only that one).
    QProcessEnvironment beta;
    beta.insert(QStringLiteral("KUBERNETES_EXEC_INFO"),
                QStringLiteral("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
                               "\"spec\":{\"interactive\":false}}"));
    const Run older = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")}, beta);
    QVERIFY2(older.exitCode == 0, older.err.constData());
    QCOMPARE(jsonLine(older.out).value(QStringLiteral("apiVersion")).toString(),
             QStringLiteral("client.authentication.k8s.io/v1beta1"));
    QVERIFY(jsonLine(older.out).value(QStringLiteral("status")).toObject().value(QStringLiteral("token")).toString().toLatin1()
            == idToken);
}

// With 6-second ID tokens the lead time is 3 s: past it, --exec-credential refreshes first (without a
// resource), and the session validates and stores the new ID token before it is printed.
void tst_Cli::execCredentialRefreshesAnIdTokenAboutToExpire()
{
    Admin admin(m_devstack.admin);
    bool ok = false;
    admin.post(QStringLiteral("/id-token-ttl"), QJsonObject{{QStringLiteral("seconds"), 6}}, &ok);
    QVERIFY(ok);
    const auto restore = qScopeGuard([&admin] { admin.post(QStringLiteral("/id-token-ttl"), QJsonObject{{QStringLiteral("seconds"), 3600}}); });
    login();
    const QByteArray first = storedRecord().idToken();
    const QJsonObject firstClaims = jwtPayload(first);
    const qint64 iat = firstClaims.value(QStringLiteral("iat")).toInteger();
    QCOMPARE(firstClaims.value(QStringLiteral("exp")).toInteger() - iat, 6);
    // Stale once no more than half its lifetime is left: wait for the wall clock, not a fixed sleep.
    const QDateTime staleAt = QDateTime::fromSecsSinceEpoch(iat + 3, Qt::UTC).addMSecs(200);
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() >= staleAt, 10000);

    const int refreshes = admin.counter(QStringLiteral("refresh"));
    const Run run = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.err.isEmpty());
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
    const QJsonObject status = jsonLine(run.out).value(QStringLiteral("status")).toObject();
    const QByteArray token = status.value(QStringLiteral("token")).toString().toLatin1();
    QVERIFY(!token.isEmpty() && token != first);
    const QJsonObject claims = jwtPayload(token);
    QCOMPARE(claims.value(QStringLiteral("sub")), firstClaims.value(QStringLiteral("sub")));
    QCOMPARE(claims.value(QStringLiteral("aud")), firstClaims.value(QStringLiteral("aud")));
    QVERIFY(claims.value(QStringLiteral("exp")).toInteger() > firstClaims.value(QStringLiteral("exp")).toInteger());
    QCOMPARE(QDateTime::fromString(status.value(QStringLiteral("expirationTimestamp")).toString(), Qt::ISODate).toSecsSinceEpoch(),
             claims.value(QStringLiteral("exp")).toInteger());
    const SessionRecord stored = storedRecord();
    QVERIFY(stored.idToken() == token);
    QVERIFY(!stored.accessToken(QString()).isNull()); // the refresh asked for no resource: the provider's own token

    // Fresh again: the next run refreshes nothing.
    const Run again = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")});
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
    QVERIFY(jsonLine(again.out).value(QStringLiteral("status")).toObject().value(QStringLiteral("token")).toString().toLatin1()
            == token);
}

// A session whose tokens are bound to a key (DPoP, RFC 9449; stored with token_type "DPoP" once the
// SDK supports it): kubectl cannot prove possession, so --exec-credential refuses it, touching nothing.
void tst_Cli::execCredentialRefusesKeyBoundSessions()
{
    Admin admin(m_devstack.admin);
    login();
    Error error;
    SessionRecord record = storedRecord(&error);
    QVERIFY2(!error, qPrintable(error.toString()));
    SessionAccessToken api = record.accessToken(m_devstack.apiResource);
    QCOMPARE(api.tokenType, QStringLiteral("Bearer"));
    api.tokenType = QStringLiteral("dpop"); // token types compare case-insensitively (RFC 6749 §5.1)
    record.setAccessToken(m_devstack.apiResource, api);
    QVERIFY(writeStoredRecord(record));
    const int tokens = admin.counter(QStringLiteral("token"));

    const Run run = cli({QStringLiteral("token"), QStringLiteral("--exec-credential")});
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.contains("DPoP"), run.err.constData());
    QVERIFY(!run.err.contains(record.idToken()) && !run.err.contains(record.refreshToken()) && !run.err.contains(api.token));
    QCOMPARE(admin.counter(QStringLiteral("token")), tokens);
    QVERIFY(storedRecord().refreshToken() == record.refreshToken());
}

// kubectl itself (when installed) runs `keyloop token --exec-credential` from the kubeconfig of
// docs/cli.md and sends the ID token to the cluster — here a stand-in API server over https.
void tst_Cli::kubectlSendsTheIdTokenOfTheExecCredential()
{
    const QString kubectl = QStandardPaths::findExecutable(QStringLiteral("kubectl"));
    if (kubectl.isEmpty())
        QSKIP("kubectl is not installed (no Debian 12 package is recent enough to matter); the ExecCredential is "
              "checked by execCredentialCarriesTheIdTokenForKubectl");
    const QString certFile = m_devstack.raw.value(QStringLiteral("certFile")).toString();
    FakeKubeApi cluster;
    QVERIFY(cluster.listen(certFile, QFileInfo(certFile).dir().filePath(QStringLiteral("leaf-key.pem"))));
    login();
    const QByteArray idToken = storedRecord().idToken();

    QTemporaryDir dir;
    const QString users = recipe(QStringLiteral("cli-recipes.kubeconfig.yaml"), QStringLiteral("kubeconfig"));
    QVERIFY(!users.isEmpty());
    QFile config(dir.filePath(QStringLiteral("kubeconfig")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QStringLiteral("apiVersion: v1\nkind: Config\n"
                                "clusters:\n- name: test\n  cluster:\n    server: https://127.0.0.1:%1\n"
                                "    certificate-authority: %2\n"
                                "contexts:\n- name: test\n  context: {cluster: test, user: me}\n"
                                "current-context: test\n")
                     .arg(cluster.port())
                     .arg(m_devstack.caFile)
                     .toUtf8()
                 + users.toUtf8());
    config.close();
    QProcessEnvironment env = toolEnvironment();
    env.insert(QStringLiteral("KUBECONFIG"), config.fileName());
    const Run run = runTool(kubectl, {QStringLiteral("get"), QStringLiteral("--raw"), QStringLiteral("/version")}, env);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.out.contains("v1.30.0"));
    QVERIFY2(cluster.authorizations.contains("Bearer " + idToken), "kubectl did not send the ID token");
    QVERIFY(!run.err.contains(idToken));
}

// The recipes of docs/cli.md, as the guide shows them: curl reads the Authorization header from a
// pipe, git gets the token from a credential helper; no token is ever an argument of a process.
void tst_Cli::recipesHandTheTokenOverOffTheCommandLine()
{
    for (const char *tool : {"bash", "curl", "jq", "git", "sed"})
        QVERIFY2(!QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty(),
                 qPrintable(QStringLiteral("%1 is missing: scripts/lib/install-deps.sh --test").arg(QLatin1String(tool))));
    // POST /api/items needs api:write.
    const Run login = cli({QStringLiteral("login"), QStringLiteral("--issuer"), m_devstack.issuer.toString(),
                           QStringLiteral("--client-id"), m_devstack.publicClientId, QStringLiteral("--ca-file"), m_devstack.caFile,
                           QStringLiteral("--scope"), QStringLiteral("openid offline_access api:read api:write"),
                           QStringLiteral("--resource"), m_devstack.apiResource, QStringLiteral("--browser-command"), m_scripted});
    QVERIFY2(login.exitCode == 0, login.err.constData());
    QProcessEnvironment env = toolEnvironment();
    env.insert(QStringLiteral("CURL_CA_BUNDLE"), m_devstack.caFile);
    const auto onDevstack = [this](QString script) {
        return script.replace(QStringLiteral("https://api.example.com"), m_devstack.api.toString(QUrl::StripTrailingSlash));
    };

    const QString curl = recipe(QStringLiteral("cli-recipes.sh"), QStringLiteral("curl"));
    QVERIFY(curl.contains(QLatin1String("curl -H @-")));
    const Run items = runTool(QStringLiteral("bash"), {QStringLiteral("-euo"), QStringLiteral("pipefail"), QStringLiteral("-c"), onDevstack(curl)}, env);
    QVERIFY2(items.exitCode == 0, items.err.constData());
    QVERIFY2(jsonLine(items.out).value(QStringLiteral("items")).toArray().size() == 3, items.out.constData());

    const QString body = recipe(QStringLiteral("cli-recipes.sh"), QStringLiteral("curl-body"));
    QVERIFY(body.contains(QLatin1String("token --json")));
    const Run created = runTool(QStringLiteral("bash"), {QStringLiteral("-euo"), QStringLiteral("pipefail"), QStringLiteral("-c"), onDevstack(body)}, env);
    QVERIFY2(created.exitCode == 0, created.err.constData());
    QCOMPARE(jsonLine(created.out).value(QStringLiteral("created")).toBool(), true);

    // git: the helper as the only git configuration, asked as git asks it before a request.
    QTemporaryDir home;
    QFile gitconfig(home.filePath(QStringLiteral(".gitconfig")));
    QVERIFY(gitconfig.open(QIODevice::WriteOnly));
    gitconfig.write(recipe(QStringLiteral("cli-recipes.gitconfig"), QStringLiteral("git-credential")).toUtf8());
    gitconfig.close();
    QProcessEnvironment gitEnv = env;
    gitEnv.insert(QStringLiteral("GIT_CONFIG_GLOBAL"), gitconfig.fileName());
    gitEnv.insert(QStringLiteral("GIT_CONFIG_NOSYSTEM"), QStringLiteral("1"));
    gitEnv.insert(QStringLiteral("GIT_TERMINAL_PROMPT"), QStringLiteral("0"));
    const Run fill = runTool(QStringLiteral("git"), {QStringLiteral("credential"), QStringLiteral("fill")}, gitEnv,
                             "protocol=https\nhost=git.example.com\n\n", home.path());
    QVERIFY2(fill.exitCode == 0, fill.err.constData());
    const QList<QByteArray> lines = fill.out.trimmed().split('\n');
    QVERIFY2(lines.contains("username=oauth2"), fill.out.constData());
    QByteArray password;
    for (const QByteArray &line : lines)
        if (line.startsWith("password="))
            password = line.mid(9);
    QVERIFY(!password.isEmpty());
    QCOMPARE(apiStatus(password), 200); // the session's access token
    // git tells helpers about a credential that worked ("store"): this one stores nothing and says nothing.
    const Run approve = runTool(QStringLiteral("git"), {QStringLiteral("credential"), QStringLiteral("approve")}, gitEnv,
                                fill.out + "\n", home.path());
    QCOMPARE(approve.exitCode, 0);
    QVERIFY(approve.out.isEmpty());
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral(".git-credentials"))));
    for (const Run &run : {items, created, fill})
        QVERIFY(!run.err.contains(password));
}

// login --dpop (RFC 9449): the key is made at login and stored with the session; every later
// process — a call, a refresh by `token`, another call — proves the same key, and the provider's
// rotated tokens stay bound to it. The token alone (as Bearer) is refused; logout deletes the key.
void tst_Cli::dpopLoginBindsTheTokensToOneKeyAcrossProcesses()
{
    Admin admin(m_devstack.admin);
    login({QStringLiteral("--dpop")});
    Error error;
    const SessionRecord record = storedRecord(&error);
    QVERIFY2(!error, qPrintable(error.toString()));
    const DpopKey key = DpopKey::fromPrivateJwk(record.dpopKey(), &error);
    QVERIFY2(!key.isNull(), qPrintable(error.toString()));
    const QByteArray token = record.accessToken(m_devstack.apiResource).token;
    QCOMPARE(record.accessToken(m_devstack.apiResource).tokenType, QStringLiteral("DPoP"));

    const Run json = cli({QStringLiteral("token"), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, json.err.constData());
    QCOMPARE(QJsonDocument::fromJson(json.out).object().value(QStringLiteral("token_type")).toString(), QStringLiteral("DPoP"));
    QCOMPARE(apiStatus(token), 401); // useless without the key (RFC 9449 §7.2)

    // With debug logging: the events are there, the key, the tokens and the proofs are not.
    const Run first = cli({QStringLiteral("-v"), QStringLiteral("call"), apiUrl(QStringLiteral("/api/me"))});
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QVERIFY(first.err.contains("keyloop.http"));
    for (const QByteArray &secret : {token, record.refreshToken()})
        QVERIFY2(!first.out.contains(secret) && !first.err.contains(secret), "a token was printed");
    QVERIFY2(!first.err.contains("eyJ0eXAiOiJkcG9wK2p3dCI"), "a DPoP proof was printed"); // base64url of {"typ":"dpop+jwt"
    const QJsonObject me = QJsonDocument::fromJson(first.out).object();
    QCOMPARE(me.value(QStringLiteral("token_type")).toString(), QStringLiteral("DPoP"));
    QCOMPARE(me.value(QStringLiteral("jkt")).toString().toLatin1(), key.thumbprint());

    // A refresh in another process: the bound refresh token needs the key's proof (§5).
    waitUntilAccessTokenIsStale();
    const int refreshes = admin.counter(QStringLiteral("refresh"));
    const Run refreshed = cli({QStringLiteral("token")});
    QVERIFY2(refreshed.exitCode == 0, refreshed.err.constData());
    QCOMPARE(admin.counter(QStringLiteral("refresh")), refreshes + 1);
    const SessionRecord after = storedRecord();
    QVERIFY(after.accessToken(m_devstack.apiResource).token != token);
    QVERIFY(after.refreshToken() != record.refreshToken()); // rotated, saved
    QCOMPARE(after.dpopKey(), record.dpopKey());

    const Run second = cli({QStringLiteral("call"), apiUrl(QStringLiteral("/api/me"))});
    QVERIFY2(second.exitCode == 0, second.err.constData());
    QCOMPARE(QJsonDocument::fromJson(second.out).object().value(QStringLiteral("jkt")).toString().toLatin1(), key.thumbprint());

    const QByteArray d = record.dpopKey().value(QStringLiteral("d")).toString().toLatin1();
    for (const Run *run : {&json, &first, &refreshed, &second})
        QVERIFY2(!run->out.contains(d) && !run->err.contains(d), "the private key was printed");

    const Run out = cli({QStringLiteral("logout")});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    storedRecord(&error);
    QCOMPARE(error.code(), Error::Code::NotFound);
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
