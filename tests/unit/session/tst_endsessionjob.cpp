// SPDX-License-Identifier: MIT
// EndSessionJob (OpenID Connect RP-Initiated Logout 1.0) without a provider: a fake browser
// reads the end-session URL and delivers the post-logout redirect over a real loopback socket,
// with the right state, a wrong one or none. Checks the typed errors, the browser's page, the
// timeout, cancel(), and that the ID token never reaches a log line or an error.
#include <keyloop/browserlauncher.h>
#include <keyloop/endsessionjob.h>

#include <QtCore/QLoggingCategory>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkProxy>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

#include <memory>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {

const QByteArray kIdToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInNlY3JldCI6dHJ1ZX0.c2lnbmF0dXJl";

/// A browser that, "opened" at the end-session URL, goes straight to its post_logout_redirect_uri
/// (the provider's part is not what is tested here) with the state chosen by the test.
class FakeBrowser : public BrowserLauncher
{
public:
    enum class State { Same, Wrong, Missing, NoRedirect };
    State send = State::Same;
    Error launchError;

    Error openUrl(const QUrl &url) override
    {
        ++opened;
        if (launchError)
            return launchError;
        const QUrlQuery query(url);
        hint = query.queryItemValue(QStringLiteral("id_token_hint"), QUrl::FullyDecoded).toUtf8();
        const QUrl redirect(query.queryItemValue(QStringLiteral("post_logout_redirect_uri"), QUrl::FullyDecoded));
        redirectUri = redirect;
        if (send == State::NoRedirect)
            return Error();
        QByteArray state = query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded).toUtf8();
        QByteArray target = redirect.path(QUrl::FullyEncoded).toUtf8();
        if (send == State::Same)
            target += "?state=" + QUrl::toPercentEncoding(QString::fromUtf8(state));
        else if (send == State::Wrong)
            target += "?state=not-this-logouts-state";
        socket = std::make_unique<QTcpSocket>();
        socket->setProxy(QNetworkProxy::NoProxy);
        QObject::connect(socket.get(), &QTcpSocket::readyRead, socket.get(), [this] { received += socket->readAll(); });
        QObject::connect(socket.get(), &QTcpSocket::disconnected, socket.get(), [this] {
            received += socket->readAll();
            closed = true;
        });
        socket->connectToHost(QHostAddress::LocalHost, quint16(redirect.port()));
        socket->write("GET " + target + " HTTP/1.1\r\nHost: " + redirect.authority(QUrl::FullyEncoded).toUtf8() + "\r\n\r\n");
        return Error();
    }

    int opened = 0;
    QByteArray hint;
    QUrl redirectUri;
    std::unique_ptr<QTcpSocket> socket;
    QByteArray received;
    bool closed = false;
};

ClientConfiguration client()
{
    ClientConfiguration c;
    c.setIssuer(QUrl(QStringLiteral("https://op.example")));
    c.setClientId(QStringLiteral("app"));
    return c;
}

ProviderConfiguration provider(bool withEndSession = true)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(QStringLiteral("https://op.example")));
    p.setAuthorizationEndpoint(QUrl(QStringLiteral("https://op.example/authorize")));
    p.setTokenEndpoint(QUrl(QStringLiteral("https://op.example/token")));
    if (withEndSession)
        p.setEndSessionEndpoint(QUrl(QStringLiteral("https://op.example/session/end")));
    return p;
}

QStringList g_messages;
void collect(QtMsgType, const QMessageLogContext &, const QString &message)
{
    g_messages << message;
}

} // namespace

class tst_EndSessionJob : public QObject
{
    Q_OBJECT

    QtMessageHandler m_previous = nullptr;

    // Runs the job to its end; the job stays (no auto-delete) for the caller to read.
    std::unique_ptr<EndSessionJob> run(FakeBrowser *browser, bool withEndSession = true,
                                       std::chrono::milliseconds timeout = 30s)
    {
        auto job = std::make_unique<EndSessionJob>(client(), provider(withEndSession), kIdToken);
        job->setAutoDelete(false);
        job->setBrowserLauncher(browser);
        job->setTimeout(timeout);
        QSignalSpy finished(job.get(), &Job::finished);
        job->start();
        if (!finished.wait(20000))
            qWarning() << "the end-session job did not finish";
        return job;
    }

private Q_SLOTS:
    void init()
    {
        // Every keyloop.* debug line is collected, to check that the ID token is in none.
        QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*=true"));
        g_messages.clear();
        m_previous = qInstallMessageHandler(collect);
    }
    void cleanup()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
        const QByteArray all = g_messages.join(QLatin1Char('\n')).toUtf8();
        QVERIFY2(!all.contains(kIdToken.left(24)), "the ID token reached a log line");
        QVERIFY(!all.contains("id_token_hint="));
    }

    void theRedirectWithThisLogoutsStateEndsIt()
    {
        FakeBrowser browser;
        auto job = run(&browser);
        QVERIFY2(!job->error(), qPrintable(job->error().toString()));
        QCOMPARE(browser.opened, 1);
        QVERIFY(browser.hint == kIdToken); // the provider gets the hint, in the URL (§2)
        // Loopback only, on the client's redirect path (RFC 8252 §7.3).
        QCOMPARE(browser.redirectUri.host(), QStringLiteral("127.0.0.1"));
        QCOMPARE(browser.redirectUri.path(), QStringLiteral("/callback"));
        QCOMPARE(job->postLogoutRedirectUri(), browser.redirectUri);
        QTRY_VERIFY(browser.closed);
        QVERIFY(browser.received.startsWith("HTTP/1.1 200"));
        QVERIFY(browser.received.contains("<h1>Signed out</h1>"));
        QVERIFY(!browser.received.contains("Signed in"));
    }

    void aRedirectWithAnotherStateIsAStateMismatch()
    {
        FakeBrowser browser;
        browser.send = FakeBrowser::State::Wrong;
        auto job = run(&browser);
        QCOMPARE(job->error().code(), Error::Code::StateMismatch);
        QVERIFY(job->error().message().contains(QStringLiteral("RP-Initiated Logout §3")));
        QVERIFY(!job->error().toString().toUtf8().contains(kIdToken.left(24)));
        QTRY_VERIFY(browser.closed);
        QVERIFY(browser.received.startsWith("HTTP/1.1 400")); // refused, never "Signed out"
        QVERIFY(!browser.received.contains("Signed out"));
    }

    void aRedirectWithoutStateIsRefused()
    {
        FakeBrowser browser;
        browser.send = FakeBrowser::State::Missing;
        auto job = run(&browser);
        QCOMPARE(job->error().code(), Error::Code::MissingParameter);
    }

    void aProviderWithoutEndSessionEndpointFailsBeforeAnythingOpens()
    {
        FakeBrowser browser;
        auto job = run(&browser, false);
        QCOMPARE(job->error().code(), Error::Code::EndSessionNotSupported);
        QCOMPARE(job->error().domain(), Error::Domain::Configuration);
        QCOMPARE(browser.opened, 0);
        QVERIFY(job->postLogoutRedirectUri().isEmpty()); // nothing was bound
    }

    void aBrowserThatCannotOpenFailsTheJob()
    {
        FakeBrowser browser;
        browser.launchError = Error(Error::Code::BrowserLaunchFailed, QStringLiteral("no browser"));
        auto job = run(&browser);
        QCOMPARE(job->error().code(), Error::Code::BrowserLaunchFailed);
    }

    void noRedirectEndsInATimeout()
    {
        FakeBrowser browser;
        browser.send = FakeBrowser::State::NoRedirect;
        auto job = run(&browser, true, 200ms);
        QCOMPARE(job->error().code(), Error::Code::Timeout);
        // The port is closed afterwards.
        QTcpSocket probe;
        probe.setProxy(QNetworkProxy::NoProxy);
        QSignalSpy failed(&probe, &QTcpSocket::errorOccurred);
        probe.connectToHost(QHostAddress::LocalHost, quint16(browser.redirectUri.port()));
        QVERIFY(failed.wait(5000));
    }

    void cancelWhileWaitingFinishesWithCancelled()
    {
        FakeBrowser browser;
        browser.send = FakeBrowser::State::NoRedirect;
        EndSessionJob job(client(), provider(), kIdToken);
        job.setAutoDelete(false);
        job.setBrowserLauncher(&browser);
        QSignalSpy opened(&job, &EndSessionJob::browserOpened);
        QSignalSpy finished(&job, &Job::finished);
        job.start();
        QVERIFY(opened.wait(5000));
        job.cancel();
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(job.error().code(), Error::Code::Cancelled);
    }
};

QTEST_GUILESS_MAIN(tst_EndSessionJob)
#include "tst_endsessionjob.moc"
