// SPDX-License-Identifier: MIT
// The loopback redirect receiver (RFC 8252 §7.3, §8.3) against real sockets: redirect hosts,
// ports, and everything a browser or a hostile local process may send.
#include <keyloop/loopbackreceiver.h>

#include "core/crypto_p.h"

#include <QtNetwork/QNetworkProxy>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

#include <memory>

using Keyloop::Error;
using Keyloop::LoopbackReceiver;
using RedirectHost = LoopbackReceiver::RedirectHost;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(LoopbackReceiver::RedirectHost)

namespace {

// A raw HTTP client: writes bytes as given, collects everything until the server closes.
class Client : public QObject
{
public:
    Client(const QHostAddress &address, quint16 port)
    {
        socket.setProxy(QNetworkProxy::NoProxy);
        connect(&socket, &QTcpSocket::readyRead, this, [this] { received += socket.readAll(); });
        socket.connectToHost(address, port);
    }

    void send(const QByteArray &data) { socket.write(data); }
    bool isConnected() const { return socket.state() == QAbstractSocket::ConnectedState; }
    bool isClosed() const { return socket.state() == QAbstractSocket::UnconnectedState; }

    QByteArray all()
    {
        received += socket.readAll();
        return received;
    }
    /// The HTTP status of the answer, 0 if none.
    int status()
    {
        const QByteArray r = all();
        if (!r.startsWith("HTTP/1.1 ") || r.size() < 12)
            return 0;
        return r.mid(9, 3).toInt();
    }
    QByteArray head()
    {
        const QByteArray r = all();
        return r.left(r.indexOf("\r\n\r\n") + 2);
    }
    QByteArray body()
    {
        const QByteArray r = all();
        const qsizetype i = r.indexOf("\r\n\r\n");
        return i < 0 ? QByteArray() : r.mid(i + 4);
    }
    bool hasHeaderLine(const QByteArray &line) { return head().contains("\r\n" + line + "\r\n"); }

    QTcpSocket socket;
    QByteArray received;
};

QByteArray request(const QByteArray &target, const QByteArray &host)
{
    return "GET " + target + " HTTP/1.1\r\nHost: " + host
        + "\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Test\r\nAccept: text/html\r\n\r\n";
}

QHostAddress addressFor(RedirectHost host)
{
    return host == RedirectHost::Ipv6 ? QHostAddress(QHostAddress::LocalHostIPv6) : QHostAddress(QHostAddress::LocalHost);
}

bool hasIpv6Loopback()
{
    QTcpServer server;
    return server.listen(QHostAddress::LocalHostIPv6, 0);
}

quint16 freePort()
{
    QTcpServer server;
    server.listen(QHostAddress::LocalHost, 0);
    return server.serverPort();
}

} // namespace

class TestLoopbackReceiver : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    // Binding and redirect hosts
    void bindsLoopbackOnlyWithoutProxy_data();
    void bindsLoopbackOnlyWithoutProxy();
    void acceptsCallbackOnEachRedirectHost_data();
    void acceptsCallbackOnEachRedirectHost();
    void usesEphemeralPortByDefault();
    void usesFixedPort();
    void portListSkipsBusyPort();
    void localhostNeedsThePortOnBothAddresses();
    void failsWhenAllPortsAreBusy();
    void rejectsCallbacksUntilStateIsSet_data();
    void rejectsCallbacksUntilStateIsSet();
    void refusesInvalidPath_data();
    void refusesInvalidPath();
    void refusesToListenTwice();

    // Hostile loopback
    void ignoresOtherPaths_data();
    void ignoresOtherPaths();
    void rejectsWrongHostHeader_data();
    void rejectsWrongHostHeader();
    void rejectsOtherMethods_data();
    void rejectsOtherMethods();
    void rejectsOversizedRequests_data();
    void rejectsOversizedRequests();
    void rejectsMalformedRequests_data();
    void rejectsMalformedRequests();
    void idleConnectionDoesNotBlockCallback();
    void idleConnectionIsDroppedAtDeadline();
    void slowConnectionDoesNotBlockCallback();
    void slowConnectionIsDroppedAtDeadline();
    void connectionLimitDropsLeastRecentlyActive();
    void manyIdleConnectionsDoNotBlockCallback();
    void rejectsForgedCallbacks_data();
    void rejectsForgedCallbacks();
    void peerClosingEarlyDoesNotEndTheFlow();

    // Accepting
    void acceptsRightCallbackExactlyOnce();
    void concurrentCallbacksAreAcceptedOnce();
    void decodesStateBeforeComparing();
    void errorResponseGetsTheFailurePageOfTheOutcome();
    void redirectsToAppSuppliedPages_data();
    void redirectsToAppSuppliedPages();
    void closeStopsEverything();
    void deletingReceiverFromSlotIsSafe();

    // The page tells the truth: held until the outcome, at most outcomeTimeout() (issue 10)
    void answerWaitsForTheReportedOutcome();
    void signOutPagesSpeakOfTheSignOut();
    void failurePageSaysWhatWentWrongInPlainWords_data();
    void failurePageSaysWhatWentWrongInPlainWords();
    void neutralPageWhenNoOutcomeComesInTime();
    void closeAnswersAHeldCallbackNeutrally();
    void browserLeavingBeforeTheOutcomeIsHarmless();

    // The start page (pushed authorization requests, RFC 9126)
    void startPageIsOffByDefault();
    void startPageRedirectsToWhatTheAppAnswers();
    void startPageWorksAgainAndAgain();
    void startPageNeedsTheExactToken_data();
    void startPageNeedsTheExactToken();
    void startPageRefusesOtherMethodsAndHosts_data();
    void startPageRefusesOtherMethodsAndHosts();
    void startPageShowsWhyThePushFailed_data();
    void startPageShowsWhyThePushFailed();
    void startPageEndsWithTheSignIn();
    void startPageHasANewTokenPerListen();
    void startPageBoundsItsWaiters();
    void startPageTimesOutWithoutAnAnswer();
    void startPageAnswersSkipBrowsersThatLeft();

private:
    std::unique_ptr<LoopbackReceiver> listeningWithStartPage();
    QByteArray startPath(const LoopbackReceiver &receiver) const { return receiver.startPageUrl().path(QUrl::FullyEncoded).toUtf8(); }
    std::unique_ptr<LoopbackReceiver> listening(RedirectHost host = RedirectHost::Ipv4);
    std::unique_ptr<Client> send(const LoopbackReceiver &receiver, const QByteArray &data);
    QByteArray goodQuery() const { return "code=SplxlOBeZQQYbYS6WxSbIA&state=" + m_state + "&iss=https%3A%2F%2Fissuer.example"; }
    QByteArray authority(const LoopbackReceiver &receiver) const { return receiver.redirectUri().authority().toUtf8(); }
    void expectAccepted(LoopbackReceiver &receiver, QSignalSpy &spy);

    QByteArray m_state;
};

void TestLoopbackReceiver::init()
{
    m_state = Keyloop::Crypto::randomToken(32);
}

void TestLoopbackReceiver::cleanup()
{
    // Let answered sockets finish and delete themselves before the next test.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

std::unique_ptr<LoopbackReceiver> TestLoopbackReceiver::listening(RedirectHost host)
{
    auto receiver = std::make_unique<LoopbackReceiver>();
    receiver->setRedirectHost(host);
    receiver->setExpectedState(m_state);
    const Error error = receiver->listen();
    if (error)
        qWarning() << error;
    return receiver;
}

std::unique_ptr<Client> TestLoopbackReceiver::send(const LoopbackReceiver &receiver, const QByteArray &data)
{
    auto client = std::make_unique<Client>(addressFor(receiver.redirectHost()), receiver.port());
    client->send(data);
    return client;
}

// The flow is still waiting: the right callback is accepted now, and its answer waits for
// the outcome the app reports.
void TestLoopbackReceiver::expectAccepted(LoopbackReceiver &receiver, QSignalSpy &spy)
{
    QVERIFY(receiver.isListening());
    QCOMPARE(spy.count(), 0);
    auto client = send(receiver, request("/callback?" + goodQuery(), authority(receiver)));
    QVERIFY(spy.wait(5000));
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.at(0).at(0).toByteArray() == goodQuery());
    QVERIFY(!receiver.isListening());
    QVERIFY(!client->isClosed()); // held
    receiver.reportOutcome(Error());
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Signed in"));
}

void TestLoopbackReceiver::bindsLoopbackOnlyWithoutProxy_data()
{
    QTest::addColumn<RedirectHost>("host");
    QTest::addColumn<QString>("uriHost");
    QTest::addColumn<QList<QHostAddress>>("addresses");
    QTest::newRow("127.0.0.1") << RedirectHost::Ipv4 << QStringLiteral("127.0.0.1")
                               << QList<QHostAddress>{QHostAddress(QHostAddress::LocalHost)};
    QTest::newRow("localhost") << RedirectHost::Localhost << QStringLiteral("localhost")
                               << QList<QHostAddress>{QHostAddress(QHostAddress::LocalHost), QHostAddress(QHostAddress::LocalHostIPv6)};
    QTest::newRow("[::1]") << RedirectHost::Ipv6 << QStringLiteral("::1")
                           << QList<QHostAddress>{QHostAddress(QHostAddress::LocalHostIPv6)};
}

void TestLoopbackReceiver::bindsLoopbackOnlyWithoutProxy()
{
    QFETCH(RedirectHost, host);
    QFETCH(QString, uriHost);
    QFETCH(QList<QHostAddress>, addresses);
    if (host != RedirectHost::Ipv4 && !hasIpv6Loopback()) {
        if (host == RedirectHost::Ipv6)
            QSKIP("this machine has no IPv6 loopback (::1)");
        addresses = {QHostAddress(QHostAddress::LocalHost)}; // documented fallback
    }
    auto receiver = listening(host);
    QVERIFY(receiver->isListening());
    QVERIFY(receiver->port() != 0);

    const QList<QTcpServer *> servers = receiver->findChildren<QTcpServer *>();
    QCOMPARE(servers.size(), addresses.size());
    QList<QHostAddress> bound;
    for (const QTcpServer *server : servers) {
        QVERIFY(server->isListening());
        // RFC 8252 §8.3: never any-address.
        QVERIFY(server->serverAddress() != QHostAddress(QHostAddress::Any));
        QVERIFY(server->serverAddress() != QHostAddress(QHostAddress::AnyIPv4));
        QVERIFY(server->serverAddress() != QHostAddress(QHostAddress::AnyIPv6));
        QVERIFY(server->serverAddress().isLoopback());
        QCOMPARE(server->serverPort(), receiver->port());
        QCOMPARE(server->proxy().type(), QNetworkProxy::NoProxy);
        bound.append(server->serverAddress());
    }
    for (const QHostAddress &address : addresses)
        QVERIFY2(bound.contains(address), qPrintable(address.toString()));

    const QUrl uri = receiver->redirectUri();
    QCOMPARE(uri.scheme(), QStringLiteral("http"));
    QCOMPARE(uri.host(), uriHost);
    QCOMPARE(uri.port(), int(receiver->port()));
    QCOMPARE(uri.path(), QStringLiteral("/callback"));
    QVERIFY(!uri.hasQuery());
    const QString expected = QStringLiteral("http://%1:%2/callback")
                                 .arg(host == RedirectHost::Ipv6 ? QStringLiteral("[::1]") : uriHost)
                                 .arg(receiver->port());
    QCOMPARE(uri.toString(), expected);
}

void TestLoopbackReceiver::acceptsCallbackOnEachRedirectHost_data()
{
    QTest::addColumn<RedirectHost>("host");
    QTest::addColumn<QHostAddress>("connectTo");
    QTest::newRow("127.0.0.1") << RedirectHost::Ipv4 << QHostAddress(QHostAddress::LocalHost);
    QTest::newRow("localhost via 127.0.0.1") << RedirectHost::Localhost << QHostAddress(QHostAddress::LocalHost);
    QTest::newRow("localhost via ::1") << RedirectHost::Localhost << QHostAddress(QHostAddress::LocalHostIPv6);
    QTest::newRow("[::1]") << RedirectHost::Ipv6 << QHostAddress(QHostAddress::LocalHostIPv6);
}

void TestLoopbackReceiver::acceptsCallbackOnEachRedirectHost()
{
    QFETCH(RedirectHost, host);
    QFETCH(QHostAddress, connectTo);
    if (connectTo.protocol() == QAbstractSocket::IPv6Protocol && !hasIpv6Loopback())
        QSKIP("this machine has no IPv6 loopback (::1)");
    auto receiver = listening(host);
    QVERIFY(receiver->isListening());
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);

    Client client(connectTo, receiver->port());
    client.send(request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    QVERIFY(spy.at(0).at(0).toByteArray() == goodQuery());
    receiver->reportOutcome(Error());
    QTRY_VERIFY(client.isClosed());
    QCOMPARE(client.status(), 200);
    QCOMPARE(spy.count(), 1);
}

void TestLoopbackReceiver::usesEphemeralPortByDefault()
{
    auto a = listening();
    auto b = listening();
    QVERIFY(a->isListening() && b->isListening());
    QVERIFY(a->port() != 0 && b->port() != 0);
    QVERIFY(a->port() != b->port());
    QCOMPARE(a->redirectUri().port(), int(a->port()));
}

void TestLoopbackReceiver::usesFixedPort()
{
    const quint16 port = freePort();
    LoopbackReceiver receiver;
    receiver.setExpectedState(m_state);
    receiver.setPorts({port});
    QVERIFY(!receiver.listen());
    QCOMPARE(receiver.port(), port);
    QCOMPARE(receiver.redirectUri().port(), int(port));
}

void TestLoopbackReceiver::portListSkipsBusyPort()
{
    QTcpServer busy;
    QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
    const quint16 next = freePort();
    QVERIFY(next != busy.serverPort());

    LoopbackReceiver receiver;
    receiver.setExpectedState(m_state);
    receiver.setPorts({busy.serverPort(), next});
    QVERIFY(!receiver.listen());
    QCOMPARE(receiver.port(), next);
}

void TestLoopbackReceiver::localhostNeedsThePortOnBothAddresses()
{
    if (!hasIpv6Loopback())
        QSKIP("this machine has no IPv6 loopback (::1)");
    QTcpServer busy6; // taken on ::1 only
    QVERIFY(busy6.listen(QHostAddress::LocalHostIPv6, 0));
    QTcpServer probe;
    QVERIFY2(probe.listen(QHostAddress::LocalHost, busy6.serverPort()), "127.0.0.1 side unexpectedly busy");
    probe.close();
    const quint16 next = freePort();

    LoopbackReceiver receiver;
    receiver.setRedirectHost(RedirectHost::Localhost);
    receiver.setExpectedState(m_state);
    receiver.setPorts({busy6.serverPort(), next});
    QVERIFY(!receiver.listen());
    QCOMPARE(receiver.port(), next);
    QCOMPARE(receiver.findChildren<QTcpServer *>().size(), 2);
}

void TestLoopbackReceiver::failsWhenAllPortsAreBusy()
{
    QTcpServer busy1, busy2;
    QVERIFY(busy1.listen(QHostAddress::LocalHost, 0));
    QVERIFY(busy2.listen(QHostAddress::LocalHost, 0));
    LoopbackReceiver receiver;
    receiver.setExpectedState(m_state);
    receiver.setPorts({busy1.serverPort(), busy2.serverPort()});
    const Error error = receiver.listen();
    QCOMPARE(error.code(), Error::Code::ListenFailed);
    QVERIFY(!receiver.isListening());
    QCOMPARE(receiver.port(), quint16(0));
    QVERIFY(receiver.redirectUri().isEmpty());
    QVERIFY(receiver.findChildren<QTcpServer *>().isEmpty());
}

void TestLoopbackReceiver::rejectsCallbacksUntilStateIsSet_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::newRow("empty state") << QByteArray("code=evil&state=");
    QTest::newRow("no state") << QByteArray("code=evil");
    QTest::newRow("some state") << QByteArray("code=evil&state=guess");
}

void TestLoopbackReceiver::rejectsCallbacksUntilStateIsSet()
{
    QFETCH(QByteArray, query);
    LoopbackReceiver receiver; // the state may be set after listen(), once the URI is known
    QVERIFY(!receiver.listen());
    QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
    auto client = send(receiver, request("/callback?" + query, authority(receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 400);
    receiver.setExpectedState(m_state);
    expectAccepted(receiver, spy);
}

void TestLoopbackReceiver::refusesInvalidPath_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("relative") << QStringLiteral("callback");
    QTest::newRow("empty") << QString();
    QTest::newRow("query") << QStringLiteral("/callback?x=1");
    QTest::newRow("fragment") << QStringLiteral("/callback#x");
}

void TestLoopbackReceiver::refusesInvalidPath()
{
    QFETCH(QString, path);
    LoopbackReceiver receiver;
    receiver.setExpectedState(m_state);
    receiver.setPath(path);
    QCOMPARE(receiver.listen().code(), Error::Code::InvalidConfiguration);
}

void TestLoopbackReceiver::refusesToListenTwice()
{
    auto receiver = listening();
    const quint16 port = receiver->port();
    QCOMPARE(receiver->listen().code(), Error::Code::ListenFailed);
    QVERIFY(receiver->isListening());
    QCOMPARE(receiver->port(), port);
}

void TestLoopbackReceiver::ignoresOtherPaths_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("favicon") << QByteArray("/favicon.ico");
    QTest::newRow("root") << QByteArray("/");
    QTest::newRow("trailing slash") << QByteArray("/callback/");
    QTest::newRow("other case") << QByteArray("/CALLBACK");
    QTest::newRow("prefix") << QByteArray("/callbackx");
    QTest::newRow("encoded path") << QByteArray("/%63allback");
    QTest::newRow("dot segment") << QByteArray("/x/../callback");
    QTest::newRow("favicon with state") << QByteArray("/favicon.ico?state=STATE");
}

void TestLoopbackReceiver::ignoresOtherPaths()
{
    QFETCH(QByteArray, target);
    target.replace("STATE", m_state);
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request(target, authority(*receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 404);
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::rejectsWrongHostHeader_data()
{
    QTest::addColumn<QByteArray>("hostHeader");
    QTest::addColumn<int>("status");
    QTest::newRow("rebinding name") << QByteArray("evil.example:PORT") << 421;
    QTest::newRow("no port") << QByteArray("127.0.0.1") << 421;
    QTest::newRow("other port") << QByteArray("127.0.0.1:OTHER") << 421;
    QTest::newRow("localhost for 127.0.0.1") << QByteArray("localhost:PORT") << 421;
    QTest::newRow("other loopback address") << QByteArray("127.0.0.2:PORT") << 421;
    QTest::newRow("trailing dot") << QByteArray("127.0.0.1.:PORT") << 421;
    QTest::newRow("userinfo") << QByteArray("a@127.0.0.1:PORT") << 421;
    QTest::newRow("empty") << QByteArray("") << 421;
}

void TestLoopbackReceiver::rejectsWrongHostHeader()
{
    QFETCH(QByteArray, hostHeader);
    QFETCH(int, status);
    auto receiver = listening();
    hostHeader.replace("OTHER", QByteArray::number(receiver->port() + 1));
    hostHeader.replace("PORT", QByteArray::number(receiver->port()));
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    // A DNS-rebinding page sends the right path and even a right-looking state.
    auto client = send(*receiver, request("/callback?" + goodQuery(), hostHeader));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), status);
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::rejectsOtherMethods_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("POST") << QByteArray("POST");
    QTest::newRow("HEAD") << QByteArray("HEAD");
    QTest::newRow("PUT") << QByteArray("PUT");
    QTest::newRow("OPTIONS") << QByteArray("OPTIONS");
    QTest::newRow("lowercase get") << QByteArray("get");
}

void TestLoopbackReceiver::rejectsOtherMethods()
{
    QFETCH(QByteArray, method);
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, method + " /callback?" + goodQuery() + " HTTP/1.1\r\nHost: " + authority(*receiver)
                                      + "\r\nContent-Length: 4\r\n\r\nbody");
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 405);
    QVERIFY(client->hasHeaderLine("Allow: GET"));
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::rejectsOversizedRequests_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("status");
    QTest::newRow("request line") << "GET /callback?state=STATE&x=" + QByteArray(9000, 'a') + " HTTP/1.1\r\nHost: HOST\r\n\r\n" << 414;
    QByteArray many = "GET /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\n";
    for (int i = 0; i < 60; ++i)
        many += "X-" + QByteArray::number(i) + ": 1\r\n";
    QTest::newRow("too many headers") << many + "\r\n" << 431;
    QByteArray large = "GET /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\n";
    for (int i = 0; i < 10; ++i)
        large += "X-" + QByteArray::number(i) + ": " + QByteArray(2000, 'b') + "\r\n";
    QTest::newRow("headers too large") << large + "\r\n" << 431;
    QTest::newRow("endless header") << "GET /callback HTTP/1.1\r\nHost: HOST\r\nX: " + QByteArray(64 * 1024, 'c') << 431;
}

void TestLoopbackReceiver::rejectsOversizedRequests()
{
    QFETCH(QByteArray, data);
    QFETCH(int, status);
    auto receiver = listening();
    data.replace("STATE", m_state).replace("HOST", authority(*receiver));
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, data);
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), status);
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::rejectsMalformedRequests_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("status");
    QTest::newRow("bare LF") << QByteArray("GET /callback?state=STATE HTTP/1.1\nHost: HOST\n\n") << 400;
    QTest::newRow("NUL byte") << QByteArray("GET /callback?state=STATE") + '\0' + QByteArray(" HTTP/1.1\r\nHost: HOST\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << QByteArray("GET /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\nX: a\r\n b\r\n\r\n") << 400;
    QTest::newRow("absolute-form") << QByteArray("GET http://HOST/callback?state=STATE HTTP/1.1\r\nHost: HOST\r\n\r\n") << 400;
    QTest::newRow("HTTP/0.9") << QByteArray("GET /callback?state=STATE\r\n\r\n") << 505;
    QTest::newRow("HTTP/2") << QByteArray("GET /callback?state=STATE HTTP/2.0\r\nHost: HOST\r\n\r\n") << 505;
    QTest::newRow("duplicate Host") << QByteArray("GET /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\nHost: HOST\r\n\r\n") << 400;
    QTest::newRow("missing Host") << QByteArray("GET /callback?state=STATE HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("HTTP/1.0 without Host") << QByteArray("GET /callback?state=STATE HTTP/1.0\r\n\r\n") << 400;
    QTest::newRow("GET with body") << QByteArray("GET /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\nContent-Length: 3\r\n\r\nabc") << 400;
    QTest::newRow("invalid method") << QByteArray("G@T /callback?state=STATE HTTP/1.1\r\nHost: HOST\r\n\r\n") << 400;
    QTest::newRow("TLS ClientHello") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) << 400;
    QTest::newRow("binary junk") << QByteArray("\xff\xfe\xfd\r\n\r\n") << 400;
    QTest::newRow("malformed query escape") << QByteArray("GET /callback?state=STATE&x=%zz HTTP/1.1\r\nHost: HOST\r\n\r\n") << 400;
}

void TestLoopbackReceiver::rejectsMalformedRequests()
{
    QFETCH(QByteArray, data);
    QFETCH(int, status);
    auto receiver = listening();
    data.replace("STATE", m_state).replace("HOST", authority(*receiver));
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, data);
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), status);
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::idleConnectionDoesNotBlockCallback()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client idle(QHostAddress(QHostAddress::LocalHost), receiver->port()); // a browser's preconnect
    QTRY_VERIFY(idle.isConnected());
    expectAccepted(*receiver, spy);
    QTRY_VERIFY(idle.isClosed()); // dropped once the flow is done
    QVERIFY(idle.all().isEmpty());
}

void TestLoopbackReceiver::idleConnectionIsDroppedAtDeadline()
{
    auto receiver = listening();
    receiver->setConnectionTimeout(200ms);
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client idle(QHostAddress(QHostAddress::LocalHost), receiver->port());
    QTRY_VERIFY(idle.isConnected());
    QTRY_VERIFY_WITH_TIMEOUT(idle.isClosed(), 5000);
    QVERIFY(idle.all().isEmpty());
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::slowConnectionDoesNotBlockCallback()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    // Slow loris: one byte per event loop turn, a request that never ends.
    Client slow(QHostAddress(QHostAddress::LocalHost), receiver->port());
    const QByteArray start = "GET /callback?" + goodQuery() + " HTTP/1.1\r\nHost: " + authority(*receiver) + "\r\nX-Slow: ";
    qsizetype sent = 0;
    QTimer drip;
    drip.setInterval(1);
    connect(&drip, &QTimer::timeout, &slow, [&] {
        slow.send(sent < start.size() ? start.mid(sent, 1) : QByteArray("a"));
        slow.socket.flush();
        ++sent;
    });
    QTRY_VERIFY(slow.isConnected());
    drip.start();
    QTRY_VERIFY(sent > 20);
    expectAccepted(*receiver, spy);
    QTRY_VERIFY(slow.isClosed());
    drip.stop();
    QVERIFY(slow.all().isEmpty());
}

void TestLoopbackReceiver::slowConnectionIsDroppedAtDeadline()
{
    auto receiver = listening();
    receiver->setConnectionTimeout(300ms);
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client slow(QHostAddress(QHostAddress::LocalHost), receiver->port());
    const QByteArray start = "GET /callback HTTP/1.1\r\nHost: " + authority(*receiver) + "\r\nX-Slow: ";
    qsizetype sent = 0;
    QTimer drip;
    drip.setInterval(10); // 16 KiB would take minutes: only the deadline can end this
    connect(&drip, &QTimer::timeout, &slow, [&] {
        slow.send(sent < start.size() ? start.mid(sent, 1) : QByteArray("a"));
        ++sent;
    });
    QTRY_VERIFY(slow.isConnected());
    drip.start();
    QTRY_VERIFY_WITH_TIMEOUT(slow.isClosed(), 5000);
    drip.stop();
    QVERIFY(sent > 5);
    QVERIFY(slow.all().isEmpty()); // dropped, not answered
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::connectionLimitDropsLeastRecentlyActive()
{
    auto receiver = listening();
    receiver->setMaxConnections(3);
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    std::vector<std::unique_ptr<Client>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<Client>(QHostAddress(QHostAddress::LocalHost), receiver->port()));
        QTRY_VERIFY(idle.back()->isConnected());
    }
    auto fourth = std::make_unique<Client>(QHostAddress(QHostAddress::LocalHost), receiver->port());
    QTRY_VERIFY(fourth->isConnected());
    QTRY_VERIFY(idle[0]->isClosed()); // the oldest idle one made room
    QVERIFY(idle[1]->isConnected());
    QVERIFY(idle[2]->isConnected());
    QVERIFY(fourth->isConnected());
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::manyIdleConnectionsDoNotBlockCallback()
{
    auto receiver = listening(); // default limit 16
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    std::vector<std::unique_ptr<Client>> idle;
    for (int i = 0; i < 40; ++i)
        idle.push_back(std::make_unique<Client>(QHostAddress(QHostAddress::LocalHost), receiver->port()));
    for (const auto &c : idle)
        QTRY_VERIFY(c->isConnected() || c->isClosed());
    expectAccepted(*receiver, spy);
    for (const auto &c : idle)
        QTRY_VERIFY(c->isClosed());
}

void TestLoopbackReceiver::rejectsForgedCallbacks_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<Error::Code>("rejected"); // callbackRejected()'s code; NoError: not emitted
    using C = Error::Code;
    QTest::newRow("wrong state") << QByteArray("code=evil&state=not-the-state") << C::StateMismatch;
    QTest::newRow("missing state") << QByteArray("code=evil") << C::MissingParameter;
    QTest::newRow("no query") << QByteArray() << C::MissingParameter;
    QTest::newRow("empty state") << QByteArray("code=evil&state=") << C::StateMismatch;
    QTest::newRow("state without =") << QByteArray("code=evil&state") << C::StateMismatch;
    QTest::newRow("duplicate state, same") << QByteArray("code=evil&state=STATE&state=STATE") << C::DuplicateParameter;
    QTest::newRow("duplicate state, right then wrong") << QByteArray("code=evil&state=STATE&state=x") << C::DuplicateParameter;
    QTest::newRow("duplicate state, wrong then right") << QByteArray("code=evil&state=x&state=STATE") << C::DuplicateParameter;
    QTest::newRow("encoded duplicate name") << QByteArray("code=evil&state=STATE&st%61te=STATE") << C::DuplicateParameter;
    QTest::newRow("state prefix") << QByteArray("code=evil&state=STATEx") << C::StateMismatch;
    QTest::newRow("state truncated") << QByteArray("code=evil&state=TRUNCATED") << C::StateMismatch;
    QTest::newRow("error without state") << QByteArray("error=access_denied") << C::MissingParameter;
    QTest::newRow("error with wrong state") << QByteArray("error=access_denied&state=x") << C::StateMismatch;
    QTest::newRow("malformed escape") << QByteArray("code=evil&state=STATE&x=%g0") << C::NoError;
}

void TestLoopbackReceiver::rejectsForgedCallbacks()
{
    QFETCH(QByteArray, query);
    QFETCH(Error::Code, rejected);
    query.replace("TRUNCATED", m_state.left(m_state.size() - 1)).replace("STATE", m_state);
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    QSignalSpy refused(receiver.get(), &LoopbackReceiver::callbackRejected);
    auto client = send(*receiver, request(query.isNull() ? QByteArray("/callback") : "/callback?" + query, authority(*receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 400);
    QVERIFY(client->body().contains("Request not accepted"));
    QVERIFY(client->hasHeaderLine("Cache-Control: no-store"));
    QVERIFY(!client->all().contains(m_state)); // nothing reflected
    if (rejected == Error::Code::NoError) {
        QCOMPARE(refused.count(), 0);
    } else {
        QCOMPARE(refused.count(), 1);
        const Error why = refused.first().first().value<Error>();
        QCOMPARE(why.code(), rejected);
        QVERIFY(!why.message().toUtf8().contains(m_state)); // the rule, never the value
    }
    expectAccepted(*receiver, spy); // still listening: a forged callback never ends the flow
}

void TestLoopbackReceiver::peerClosingEarlyDoesNotEndTheFlow()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client quitter(QHostAddress(QHostAddress::LocalHost), receiver->port());
    quitter.send("GET /callback?state=");
    QTRY_VERIFY(quitter.isConnected());
    quitter.socket.flush();
    quitter.socket.abort();
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::acceptsRightCallbackExactlyOnce()
{
    auto receiver = listening();
    const quint16 port = receiver->port();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client earlier(QHostAddress(QHostAddress::LocalHost), port);
    QTRY_VERIFY(earlier.isConnected());

    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    receiver->reportOutcome(Error());
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Signed in"));
    QVERIFY(client->hasHeaderLine("Content-Type: text/html; charset=utf-8"));
    QVERIFY(client->hasHeaderLine("Content-Length: " + QByteArray::number(client->body().size())));
    QVERIFY(client->hasHeaderLine("Cache-Control: no-store"));
    QVERIFY(client->hasHeaderLine("Referrer-Policy: no-referrer"));
    QVERIFY(client->head().contains("\r\nContent-Security-Policy: default-src 'none'"));
    QVERIFY(client->hasHeaderLine("Connection: close"));
    QVERIFY(!client->body().contains("<script"));
    QVERIFY(!client->all().contains(m_state));

    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.at(0).at(0).toByteArray() == goodQuery());
    QVERIFY(!receiver->isListening());
    QVERIFY(receiver->redirectUri().isEmpty());

    // Connections opened before are dropped; the same callback again is refused.
    QTRY_VERIFY(earlier.isClosed());
    QVERIFY(earlier.all().isEmpty());
    QTcpSocket late;
    late.setProxy(QNetworkProxy::NoProxy);
    late.connectToHost(QHostAddress::LocalHost, port);
    QTRY_COMPARE(late.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
    QCOMPARE(spy.count(), 1);
}

void TestLoopbackReceiver::concurrentCallbacksAreAcceptedOnce()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 5; ++i)
        clients.push_back(send(*receiver, request("/callback?" + goodQuery(), authority(*receiver))));
    QVERIFY(spy.wait(5000));
    receiver->reportOutcome(Error());
    int answered = 0;
    for (const auto &c : clients) {
        QTRY_VERIFY(c->isClosed());
        if (c->status() == 200)
            ++answered;
        else
            QCOMPARE(c->status(), 0); // dropped without an answer
    }
    QCOMPARE(answered, 1);
    QCOMPARE(spy.count(), 1);
}

void TestLoopbackReceiver::decodesStateBeforeComparing()
{
    m_state = "a b+c/=";
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    const QByteArray query = "code=x&state=a+b%2Bc%2F%3D";
    auto client = send(*receiver, request("/callback?" + query, authority(*receiver)));
    QVERIFY(spy.wait(5000));
    receiver->reportOutcome(Error());
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.at(0).at(0).toByteArray() == query); // handed over raw
}

void TestLoopbackReceiver::errorResponseGetsTheFailurePageOfTheOutcome()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    const QByteArray query = "error=access_denied&error_description=User+said+no&state=" + m_state;
    auto client = send(*receiver, request("/callback?" + query, authority(*receiver)));
    QVERIFY(spy.wait(5000));
    QVERIFY(spy.at(0).at(0).toByteArray() == query);
    QVERIFY(!receiver->isListening());
    // What the app makes of it (AuthorizationResponse: RFC 6749 §4.1.2.1).
    receiver->reportOutcome(Error::oauth(QStringLiteral("access_denied"), QStringLiteral("User said no")));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Sign-in failed"));
    QVERIFY(client->body().contains("The request was declined"));
    QVERIFY(!client->body().contains("User said no")); // nothing reflected
    QVERIFY(!client->body().contains("Signed in"));
    QCOMPARE(spy.count(), 1);
}

void TestLoopbackReceiver::redirectsToAppSuppliedPages_data()
{
    QTest::addColumn<bool>("error");
    QTest::newRow("success") << false;
    QTest::newRow("failure") << true;
}

void TestLoopbackReceiver::redirectsToAppSuppliedPages()
{
    QFETCH(bool, error);
    LoopbackReceiver receiver;
    receiver.setExpectedState(m_state);
    receiver.setSuccessRedirectUrl(QUrl(QStringLiteral("https://app.example/signed-in")));
    receiver.setFailureRedirectUrl(QUrl(QStringLiteral("https://app.example/failed?reason=x")));
    QVERIFY(!receiver.listen());
    QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
    const QByteArray query = (error ? "error=access_denied&state=" : "code=x&state=") + m_state;
    auto client = send(receiver, request("/callback?" + query, authority(receiver)));
    QVERIFY(spy.wait(5000));
    receiver.reportOutcome(error ? Error::oauth(QStringLiteral("access_denied"), QString()) : Error());
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 303);
    QVERIFY(client->hasHeaderLine(error ? "Location: https://app.example/failed?reason=x"
                                        : "Location: https://app.example/signed-in"));
    QVERIFY(client->hasHeaderLine("Referrer-Policy: no-referrer"));
    QCOMPARE(spy.count(), 1);

    LoopbackReceiver relative;
    relative.setExpectedState(m_state);
    relative.setSuccessRedirectUrl(QUrl(QStringLiteral("/relative")));
    QCOMPARE(relative.listen().code(), Error::Code::InvalidConfiguration);
}

void TestLoopbackReceiver::closeStopsEverything()
{
    auto receiver = listening();
    const quint16 port = receiver->port();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    Client open(QHostAddress(QHostAddress::LocalHost), port);
    open.send("GET /callback?state=" + m_state);
    QTRY_VERIFY(open.isConnected());
    receiver->close();
    QVERIFY(!receiver->isListening());
    QCOMPARE(receiver->port(), quint16(0));
    QTRY_VERIFY(open.isClosed());

    QTcpSocket late;
    late.setProxy(QNetworkProxy::NoProxy);
    late.connectToHost(QHostAddress::LocalHost, port);
    QTRY_COMPARE(late.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
    QCOMPARE(spy.count(), 0);

    // It can listen again afterwards.
    QVERIFY(!receiver->listen());
    expectAccepted(*receiver, spy);
}

void TestLoopbackReceiver::deletingReceiverFromSlotIsSafe()
{
    auto *receiver = listening().release();
    int received = 0;
    connect(receiver, &LoopbackReceiver::callbackReceived, this, [&](const QByteArray &) {
        ++received;
        delete receiver;
        receiver = nullptr;
    });
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(received, 1);
    QVERIFY(!receiver);
    // The answer outlives the receiver; nobody reported an outcome, so it claims none.
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Return to the application"));
    QVERIFY(!client->body().contains("Signed in"));
}

void TestLoopbackReceiver::answerWaitsForTheReportedOutcome()
{
    // A callback that looks like a success: the page must still say what really happened
    // afterwards (here: the code exchange failed), and only that.
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    QVERIFY(!client->isClosed());
    receiver->reportOutcome(Error::oauth(QStringLiteral("invalid_grant"), QString(), 400));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->all().count("HTTP/1.1 "), 1); // one answer, sent after the outcome
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Sign-in failed"));
    QVERIFY(!client->body().contains("Signed in"));
    QVERIFY(client->hasHeaderLine("Cache-Control: no-store"));
    QVERIFY(client->head().contains("\r\nContent-Security-Policy: default-src 'none'"));
    receiver->reportOutcome(Error()); // once answered, later reports change nothing
    QCOMPARE(spy.count(), 1);
}

void TestLoopbackReceiver::signOutPagesSpeakOfTheSignOut()
{
    // RP-Initiated Logout: the same receiver, pages that claim only what the logout redirect proves.
    for (const bool success : {true, false}) {
        auto receiver = listening();
        receiver->setPurpose(LoopbackReceiver::Purpose::SignOut);
        QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
        auto client = send(*receiver, request("/callback?state=" + m_state, authority(*receiver)));
        QVERIFY(spy.wait(5000));
        receiver->reportOutcome(success ? Error() : Error(Error::Code::Timeout, QStringLiteral("late")));
        QTRY_VERIFY(client->isClosed());
        QCOMPARE(client->status(), 200);
        QVERIFY(!client->body().contains("Signed in"));
        QVERIFY(!client->body().contains("Sign-in"));
        QCOMPARE(client->body().contains("<h1>Signed out</h1>"), success);
        QCOMPARE(client->body().contains("<h1>Sign-out not confirmed</h1>"), !success);
    }
    auto receiver = listening();
    receiver->setPurpose(LoopbackReceiver::Purpose::SignOut);
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?state=" + m_state, authority(*receiver)));
    QVERIFY(spy.wait(5000));
    receiver->close(); // no outcome: the neutral page, about the sign-out
    QTRY_VERIFY(client->isClosed());
    QVERIFY(client->body().contains("whether the sign-out succeeded"));
}

void TestLoopbackReceiver::failurePageSaysWhatWentWrongInPlainWords_data()
{
    QTest::addColumn<Error>("error");
    QTest::addColumn<QByteArray>("words");
    const QString marker = QStringLiteral("MARKER <script>alert(1)</script>");
    QTest::newRow("denied (RFC 6749 §4.1.2.1)") << Error::oauth(QStringLiteral("access_denied"), marker)
                                                << QByteArray("The request was declined");
    QTest::newRow("login_required (OIDC Core §3.1.2.6)") << Error::oauth(QStringLiteral("login_required"), marker)
                                                         << QByteArray("sign in or give your consent again");
    QTest::newRow("invalid_grant (RFC 6749 §5.2)") << Error::oauth(QStringLiteral("invalid_grant"), marker, 400)
                                                   << QByteArray("expired or was already used");
    QTest::newRow("server_error") << Error::oauth(QStringLiteral("server_error"), marker)
                                  << QByteArray("temporarily unavailable");
    QTest::newRow("other OAuth error") << Error::oauth(QStringLiteral("invalid_scope"), marker)
                                       << QByteArray("refused the request");
    QTest::newRow("network") << Error(Error::Code::NetworkError, marker) << QByteArray("could not reach the sign-in service");
    QTest::newRow("TLS") << Error(Error::Code::TlsError, marker) << QByteArray("could not reach the sign-in service");
    QTest::newRow("ID token nonce") << Error(Error::Code::IdTokenInvalidNonce, marker) << QByteArray("could not verify");
    QTest::newRow("JWS signature") << Error(Error::Code::JoseInvalidSignature, marker) << QByteArray("could not verify");
    QTest::newRow("RFC 9207 iss") << Error(Error::Code::IssuerMismatch, marker) << QByteArray("could not verify");
    QTest::newRow("malformed token response") << Error(Error::Code::MalformedResponse, marker)
                                              << QByteArray("could not use");
    QTest::newRow("cancelled") << Error(Error::Code::Cancelled, marker) << QByteArray("cancelled in the application");
    QTest::newRow("configuration") << Error(Error::Code::InsecureEndpoint, marker) << QByteArray("not set up correctly");
    QTest::newRow("anything else") << Error(Error::Code::StorageFailed, marker) << QByteArray("could not be completed");
}

void TestLoopbackReceiver::failurePageSaysWhatWentWrongInPlainWords()
{
    QFETCH(Error, error);
    QFETCH(QByteArray, words);
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    receiver->reportOutcome(error);
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    const QByteArray body = client->body();
    QVERIFY(body.contains("Sign-in failed"));
    QVERIFY2(body.contains(words), body.constData());
    QVERIFY(body.contains("Return to the application"));
    // Never the error's message or description, the code or the state.
    QVERIFY(!body.contains("MARKER"));
    QVERIFY(!body.contains("<script"));
    QVERIFY(!client->all().contains("SplxlOBeZQQYbYS6WxSbIA"));
    QVERIFY(!client->all().contains(m_state));
}

void TestLoopbackReceiver::neutralPageWhenNoOutcomeComesInTime()
{
    auto receiver = listening();
    receiver->setOutcomeTimeout(200ms);
    QCOMPARE(receiver->outcomeTimeout(), 200ms);
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    QTRY_VERIFY_WITH_TIMEOUT(client->isClosed(), 5000);
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Return to the application"));
    QVERIFY(!client->body().contains("Signed in"));
    QVERIFY(!client->body().contains("failed"));
    QVERIFY(client->hasHeaderLine("Cache-Control: no-store"));
    QVERIFY(!client->all().contains(m_state));
    receiver->reportOutcome(Error()); // too late: nothing left to answer
}

void TestLoopbackReceiver::closeAnswersAHeldCallbackNeutrally()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    receiver->close(); // e.g. the app gave up on the sign-in without saying how it ended
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 200);
    QVERIFY(client->body().contains("Return to the application"));
    QVERIFY(!client->body().contains("Signed in"));
    receiver->reportOutcome(Error());
    QCOMPARE(client->all().count("HTTP/1.1 "), 1);
}

void TestLoopbackReceiver::browserLeavingBeforeTheOutcomeIsHarmless()
{
    auto receiver = listening();
    QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(spy.wait(5000));
    QCOMPARE(receiver->findChildren<QTcpSocket *>().size(), 1); // the held connection
    client->socket.abort(); // the user closed the tab
    QTRY_VERIFY(receiver->findChildren<QTcpSocket *>().isEmpty());
    receiver->reportOutcome(Error()); // nobody to tell: no effect
    QCOMPARE(spy.count(), 1);
}

std::unique_ptr<LoopbackReceiver> TestLoopbackReceiver::listeningWithStartPage()
{
    auto receiver = std::make_unique<LoopbackReceiver>();
    receiver->setExpectedState(m_state);
    receiver->setStartPageEnabled(true);
    const Error error = receiver->listen();
    if (error)
        qWarning() << error;
    return receiver;
}

namespace {
const QUrl kAuthorizationUrl(QStringLiteral("https://op.example/auth?client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"));
} // namespace

void TestLoopbackReceiver::startPageIsOffByDefault()
{
    auto receiver = listening();
    QVERIFY(!receiver->isStartPageEnabled());
    QVERIFY(receiver->startPageUrl().isEmpty());
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    auto client = send(*receiver, request("/start/" + Keyloop::Crypto::randomToken(32), authority(*receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 404);
    QCOMPARE(started.count(), 0);
}

void TestLoopbackReceiver::startPageRedirectsToWhatTheAppAnswers()
{
    auto receiver = listeningWithStartPage();
    QVERIFY(receiver->isStartPageEnabled());
    const QUrl start = receiver->startPageUrl();
    // The redirect URI's origin, /start/ and 256 bits of base64url.
    QCOMPARE(start.scheme(), QStringLiteral("http"));
    QCOMPARE(start.authority(), receiver->redirectUri().authority());
    QVERIFY(start.path().startsWith(QLatin1String("/start/")));
    QCOMPARE(start.path().size(), 7 + 43);
    QVERIFY(!start.hasQuery());
    QVERIFY(receiver->redirectUri().path() == QLatin1String("/callback")); // the redirect URI is unchanged

    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    QSignalSpy callbacks(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QVERIFY(started.wait(5000));
    QCOMPARE(started.count(), 1);
    QVERIFY(!client->isClosed()); // held for the app's answer
    receiver->redirectStartPage(kAuthorizationUrl);
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 302);
    QVERIFY(client->hasHeaderLine("Location: " + kAuthorizationUrl.toEncoded()));
    QVERIFY(client->hasHeaderLine("Cache-Control: no-store"));
    QVERIFY(client->hasHeaderLine("Referrer-Policy: no-referrer")); // the token stays off the provider's logs
    QVERIFY(client->hasHeaderLine("Content-Length: 0"));
    QCOMPARE(callbacks.count(), 0);
    QVERIFY(receiver->isListening()); // the sign-in goes on
    expectAccepted(*receiver, callbacks);
}

void TestLoopbackReceiver::startPageWorksAgainAndAgain()
{
    auto receiver = listeningWithStartPage();
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    for (int i = 1; i <= 3; ++i) {
        auto client = send(*receiver, request(startPath(*receiver), authority(*receiver)));
        QTRY_COMPARE(started.count(), i);
        QUrl location = kAuthorizationUrl;
        location.setQuery(QStringLiteral("n=%1").arg(i));
        receiver->redirectStartPage(location);
        QTRY_VERIFY(client->isClosed());
        QCOMPARE(client->status(), 302);
        QVERIFY(client->hasHeaderLine("Location: " + location.toEncoded()));
    }
}

void TestLoopbackReceiver::startPageNeedsTheExactToken_data()
{
    QTest::addColumn<int>("variant");
    QTest::newRow("no token") << 0;
    QTest::newRow("/start/ alone") << 1;
    QTest::newRow("another token") << 2;
    QTest::newRow("one character less") << 3;
    QTest::newRow("one character more") << 4;
    QTest::newRow("the token as a query") << 5;
    QTest::newRow("the token on the redirect path") << 6;
}

void TestLoopbackReceiver::startPageNeedsTheExactToken()
{
    QFETCH(int, variant);
    auto receiver = listeningWithStartPage();
    const QByteArray path = startPath(*receiver);
    const QByteArray token = path.mid(7);
    const QByteArray targets[] = {"/start", "/start/", "/start/" + Keyloop::Crypto::randomToken(32), path.chopped(1),
                                  path + "A", "/start?token=" + token, "/callback/" + token};
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    QSignalSpy callbacks(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto client = send(*receiver, request(targets[variant], authority(*receiver)));
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 404); // like any unknown path: nothing tells a wrong token apart
    QVERIFY(!client->all().contains(token));
    QCOMPARE(started.count(), 0);
    expectAccepted(*receiver, callbacks);
}

void TestLoopbackReceiver::startPageRefusesOtherMethodsAndHosts_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("status");
    QTest::newRow("POST") << QByteArray("POST") << QByteArray() << 405;
    QTest::newRow("HEAD") << QByteArray("HEAD") << QByteArray() << 405;
    QTest::newRow("OPTIONS") << QByteArray("OPTIONS") << QByteArray() << 405;
    QTest::newRow("DNS rebinding") << QByteArray("GET") << QByteArray("evil.example") << 421;
}

void TestLoopbackReceiver::startPageRefusesOtherMethodsAndHosts()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, host);
    QFETCH(int, status);
    auto receiver = listeningWithStartPage();
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    const QByteArray authorityHeader = host.isEmpty() ? authority(*receiver) : host + ':' + QByteArray::number(receiver->port());
    auto client = send(*receiver, method + ' ' + startPath(*receiver) + " HTTP/1.1\r\nHost: " + authorityHeader
                                      + "\r\nContent-Length: 0\r\n\r\n");
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), status);
    QCOMPARE(started.count(), 0);
    QVERIFY(receiver->isListening());
}

void TestLoopbackReceiver::startPageShowsWhyThePushFailed_data()
{
    QTest::addColumn<Error>("error");
    QTest::addColumn<QString>("says");
    QTest::addColumn<bool>("reload");
    QTest::newRow("the provider refused it")
        << Error::oauth(QStringLiteral("invalid_target"), QStringLiteral("<b>unknown</b> resource"), 400)
        << QStringLiteral("The sign-in service refused the request.") << false;
    QTest::newRow("the provider is unreachable")
        << Error(Error::Code::NetworkError, QStringLiteral("connection refused by op.example"))
        << QStringLiteral("The application could not reach the sign-in service.") << true;
    QTest::newRow("the provider is down")
        << Error(Error::Code::HttpError, QStringLiteral("HTTP 503")).setHttpStatus(503)
        << QStringLiteral("The application could not reach the sign-in service.") << true;
}

void TestLoopbackReceiver::startPageShowsWhyThePushFailed()
{
    QFETCH(Error, error);
    QFETCH(QString, says);
    QFETCH(bool, reload);
    auto receiver = listeningWithStartPage();
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    auto client = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QVERIFY(started.wait(5000));
    receiver->failStartPage(error);
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 502);
    const QByteArray body = client->body();
    QVERIFY(body.contains("Sign-in could not start"));
    QVERIFY2(body.contains(says.toUtf8()), body.constData());
    QCOMPARE(body.contains("Reload this page"), reload);
    QVERIFY(!body.contains(error.message().toUtf8())); // never the message or the provider's text
    QVERIFY(!body.contains("unknown"));
    QVERIFY(!body.contains(startPath(*receiver)));
    QVERIFY(receiver->isListening()); // a failed push does not end the sign-in
}

void TestLoopbackReceiver::startPageEndsWithTheSignIn()
{
    auto receiver = listeningWithStartPage();
    const quint16 port = receiver->port();
    const QByteArray path = startPath(*receiver);
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    QSignalSpy callbacks(receiver.get(), &LoopbackReceiver::callbackReceived);
    auto waiting = send(*receiver, request(path, authority(*receiver)));
    QVERIFY(started.wait(5000));

    // The callback arrives (another browser window finished): the waiting start gets 410.
    auto callback = send(*receiver, request("/callback?" + goodQuery(), authority(*receiver)));
    QVERIFY(callbacks.wait(5000));
    QTRY_VERIFY(waiting->isClosed());
    QCOMPARE(waiting->status(), 410);
    QVERIFY(waiting->body().contains("Sign-in ended"));
    receiver->redirectStartPage(kAuthorizationUrl); // a late push result: nobody waits any more
    QVERIFY(receiver->startPageUrl().isEmpty());

    // After the sign-in nothing listens: the start page is refused with the connection.
    QTcpSocket late;
    late.setProxy(QNetworkProxy::NoProxy);
    late.connectToHost(QHostAddress::LocalHost, port);
    QTRY_COMPARE(late.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
    QCOMPARE(started.count(), 1);
    receiver->reportOutcome(Error());
    QTRY_VERIFY(callback->isClosed());

    // close() answers a waiting start the same way.
    auto second = listeningWithStartPage();
    QSignalSpy secondStarted(second.get(), &LoopbackReceiver::startPageRequested);
    auto client = send(*second, request(startPath(*second), authority(*second)));
    QVERIFY(secondStarted.wait(5000));
    second->close();
    QTRY_VERIFY(client->isClosed());
    QCOMPARE(client->status(), 410);
}

void TestLoopbackReceiver::startPageHasANewTokenPerListen()
{
    auto receiver = listeningWithStartPage();
    const QUrl first = receiver->startPageUrl();
    receiver->close();
    QVERIFY(receiver->startPageUrl().isEmpty());
    receiver->setPorts({quint16(first.port())});
    QVERIFY(!receiver->listen());
    QCOMPARE(receiver->port(), quint16(first.port()));
    QVERIFY(receiver->startPageUrl() != first);
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    auto stale = send(*receiver, request(first.path(QUrl::FullyEncoded).toUtf8(), authority(*receiver)));
    QTRY_VERIFY(stale->isClosed());
    QCOMPARE(stale->status(), 404); // an earlier sign-in's URL starts nothing
    QCOMPARE(started.count(), 0);
}

void TestLoopbackReceiver::startPageBoundsItsWaiters()
{
    auto receiver = listeningWithStartPage();
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(send(*receiver, request(startPath(*receiver), authority(*receiver))));
        QTRY_COMPARE(started.count(), i + 1);
    }
    auto fifth = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QTRY_VERIFY(fifth->isClosed());
    QCOMPARE(fifth->status(), 503);
    QVERIFY(fifth->hasHeaderLine("Retry-After: 1"));
    QCOMPARE(started.count(), 4);
    for (int i = 0; i < 4; ++i)
        receiver->redirectStartPage(kAuthorizationUrl);
    for (const auto &client : clients) {
        QTRY_VERIFY(client->isClosed());
        QCOMPARE(client->status(), 302);
    }
}

void TestLoopbackReceiver::startPageTimesOutWithoutAnAnswer()
{
    auto receiver = listeningWithStartPage();
    receiver->setOutcomeTimeout(200ms);
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    auto client = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QVERIFY(started.wait(5000));
    QTRY_VERIFY_WITH_TIMEOUT(client->isClosed(), 5000);
    QCOMPARE(client->status(), 504);
    QVERIFY(client->body().contains("Reload this page"));
    receiver->redirectStartPage(kAuthorizationUrl); // too late: nobody waits
    QVERIFY(receiver->isListening());
}

void TestLoopbackReceiver::startPageAnswersSkipBrowsersThatLeft()
{
    auto receiver = listeningWithStartPage();
    QSignalSpy started(receiver.get(), &LoopbackReceiver::startPageRequested);
    auto gone = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QTRY_COMPARE(started.count(), 1);
    auto staying = send(*receiver, request(startPath(*receiver), authority(*receiver)));
    QTRY_COMPARE(started.count(), 2);
    gone->socket.abort(); // the user closed that tab
    QTRY_COMPARE(receiver->findChildren<QTcpSocket *>().size(), 1);
    receiver->redirectStartPage(kAuthorizationUrl); // goes to the browser still waiting
    QTRY_VERIFY(staying->isClosed());
    QCOMPARE(staying->status(), 302);
    receiver->failStartPage(Error(Error::Code::NetworkError, QStringLiteral("x"))); // nobody waits: no effect
}

QTEST_GUILESS_MAIN(TestLoopbackReceiver)
#include "tst_loopbackreceiver.moc"
