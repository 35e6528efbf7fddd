// SPDX-License-Identifier: MIT
#include <keyloop/loopbackreceiver.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "redirect/callbackpage_p.h"
#include "redirect/httprequestparser_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkProxy>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <algorithm>
#include <deque>
#include <vector>

namespace Keyloop {

namespace {

constexpr int kReadChunk = 4096;
constexpr int kEphemeralAttempts = 16;
// Start page requests waiting for a push at once; more get 503. A browser sends one; a few
// cover a reload or a second tab, and nobody without the token gets here.
constexpr std::size_t kMaxWaitingStarts = 4;

const char *reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 410: return "Gone";
    case 414: return "URI Too Long";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

QByteArray httpResponse(int status, const QByteArray &body, const QByteArray &extraHeaders = QByteArray())
{
    QByteArray r;
    r += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    r += extraHeaders;
    if (!body.isEmpty())
        r += "Content-Type: text/html; charset=utf-8\r\n";
    r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    // The page is on the redirect URI's origin: nothing cached, nothing loaded, no Referer
    // leaking the code to another site, not frameable.
    r += "Cache-Control: no-store\r\n"
         "Pragma: no-cache\r\n"
         "Referrer-Policy: no-referrer\r\n"
         "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
         "X-Content-Type-Options: nosniff\r\n"
         "X-Frame-Options: DENY\r\n"
         "Connection: close\r\n"
         "\r\n";
    r += body;
    return r;
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), b.data(), size_t(a.size())) == 0;
}

struct Connection
{
    QTcpSocket *socket = nullptr;
    QTimer *deadline = nullptr; // child of socket
    HttpRequestParser parser;
    quint64 lastActivity = 0;
};

} // namespace

class LoopbackReceiverPrivate
{
public:
    explicit LoopbackReceiverPrivate(LoopbackReceiver *qq) : q(qq) {}

    bool tryBind(quint16 port, QString *why);
    QTcpServer *bindOne(const QHostAddress &address, quint16 port, QAbstractSocket::SocketError *error);
    void onNewConnection(QTcpServer *server);
    void onReadyRead(QTcpSocket *socket);
    void onDeadline(QTcpSocket *socket);
    void onDisconnected(QTcpSocket *socket);
    std::unique_ptr<Connection> take(QTcpSocket *socket);
    void drop(std::unique_ptr<Connection> connection);
    void respond(Connection &connection, int status, const QByteArray &body,
                 const QByteArray &extraHeaders = QByteArray());
    void handleRequest(std::unique_ptr<Connection> connection);
    void hold(std::unique_ptr<Connection> connection);
    void answerHeld(int status, const QByteArray &body, const QByteArray &extraHeaders = QByteArray());
    void answerHeldNeutrally();
    void handleStartRequest(std::unique_ptr<Connection> connection);
    std::unique_ptr<Connection> takeWaitingStart(QTcpSocket *socket);
    void answerWaitingStart(std::unique_ptr<Connection> connection, int status, const QByteArray &body,
                            const QByteArray &extraHeaders = QByteArray());
    void endWaitingStarts();
    void closeServers();
    void dropAll();
    QByteArray redirectUriAuthority() const;

    LoopbackReceiver *q;
    LoopbackReceiver::RedirectHost host = LoopbackReceiver::RedirectHost::Ipv4;
    LoopbackReceiver::Purpose purpose = LoopbackReceiver::Purpose::SignIn;
    QList<quint16> ports;
    QString path = QStringLiteral("/callback");
    QByteArray expectedState;
    QUrl successUrl;
    QUrl failureUrl;
    std::chrono::milliseconds timeout{10000};
    std::chrono::milliseconds outcomeTimeout{10000};
    int maxConnections = 16;

    QList<QTcpServer *> servers;
    std::vector<std::unique_ptr<Connection>> connections;
    std::unique_ptr<Connection> held; ///< the accepted callback, waiting for reportOutcome()
    std::deque<std::unique_ptr<Connection>> waitingStarts; ///< start page requests, oldest first
    bool startPageEnabled = false;
    QByteArray startToken;       ///< 256 bits, base64url; new at every listen()
    QByteArray encodedStartPath; ///< "/start/<token>"
    quint16 boundPort = 0;
    QByteArray encodedPath;
    quint64 activity = 0;
    bool accepted = false;
};

QTcpServer *LoopbackReceiverPrivate::bindOne(const QHostAddress &address, quint16 port,
                                             QAbstractSocket::SocketError *error)
{
    auto *server = new QTcpServer(q);
    // The loopback listener never goes through a proxy (issue: Proxies).
    server->setProxy(QNetworkProxy::NoProxy);
    if (!server->listen(address, port)) {
        *error = server->serverError();
        delete server;
        return nullptr;
    }
    QObject::connect(server, &QTcpServer::newConnection, q, [this, server] { onNewConnection(server); });
    return server;
}

bool LoopbackReceiverPrivate::tryBind(quint16 port, QString *why)
{
    // RFC 8252 §8.3: bind the loopback interface only, never any-address.
    QAbstractSocket::SocketError error = QAbstractSocket::UnknownSocketError;
    const QHostAddress first = host == LoopbackReceiver::RedirectHost::Ipv6 ? QHostAddress(QHostAddress::LocalHostIPv6)
                                                                            : QHostAddress(QHostAddress::LocalHost);
    QTcpServer *primary = bindOne(first, port, &error);
    if (!primary) {
        *why = QStringLiteral("cannot bind %1 port %2 (socket error %3)")
                   .arg(first.toString()).arg(port).arg(int(error));
        return false;
    }
    servers.append(primary);
    if (host == LoopbackReceiver::RedirectHost::Localhost) {
        // RFC 8252 §8.3: "localhost" may resolve to either address; listen on both, same port.
        QTcpServer *second = bindOne(QHostAddress(QHostAddress::LocalHostIPv6), primary->serverPort(), &error);
        if (second) {
            servers.append(second);
        } else if (error == QAbstractSocket::SocketAddressNotAvailableError
                   || error == QAbstractSocket::UnsupportedSocketOperationError) {
            // No IPv6 loopback on this machine: 127.0.0.1 alone is what "localhost" reaches.
            qCDebug(lcRedirect) << "no IPv6 loopback; listening for localhost on 127.0.0.1 only";
        } else {
            *why = QStringLiteral("cannot bind ::1 port %1 (socket error %2)").arg(primary->serverPort()).arg(int(error));
            servers.clear();
            delete primary; // just created, no signal of it can be on the stack
            return false;
        }
    }
    boundPort = primary->serverPort();
    return true;
}

void LoopbackReceiverPrivate::onNewConnection(QTcpServer *server)
{
    while (server->hasPendingConnections()) {
        QTcpSocket *socket = server->nextPendingConnection();
        if (!socket)
            break;
        if (accepted) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        // Too many open connections: drop the least recently active one, so that idle or
        // slow connections can never keep the real callback out.
        while (int(connections.size()) >= maxConnections && !connections.empty()) {
            auto oldest = std::min_element(connections.begin(), connections.end(),
                                           [](const auto &a, const auto &b) { return a->lastActivity < b->lastActivity; });
            qCDebug(lcRedirect) << "connection limit reached; dropping the least recently active connection";
            std::unique_ptr<Connection> victim = std::move(*oldest);
            connections.erase(oldest);
            drop(std::move(victim));
        }
        socket->setParent(q);
        socket->setReadBufferSize(kReadChunk);
        auto connection = std::make_unique<Connection>();
        connection->socket = socket;
        connection->lastActivity = ++activity;
        connection->deadline = new QTimer(socket);
        connection->deadline->setSingleShot(true);
        connection->deadline->setInterval(timeout);
        QPointer<LoopbackReceiver> guard(q);
        QObject::connect(connection->deadline, &QTimer::timeout, socket, [this, guard, socket] {
            if (guard)
                onDeadline(socket);
            else
                socket->abort();
        });
        QObject::connect(socket, &QTcpSocket::readyRead, q, [this, socket] { onReadyRead(socket); });
        QObject::connect(socket, &QTcpSocket::disconnected, q, [this, socket] { onDisconnected(socket); });
        connection->deadline->start();
        connections.push_back(std::move(connection));
        qCDebug(lcRedirect) << "connection accepted";
    }
}

std::unique_ptr<Connection> LoopbackReceiverPrivate::take(QTcpSocket *socket)
{
    auto it = std::find_if(connections.begin(), connections.end(), [socket](const auto &c) { return c->socket == socket; });
    if (it == connections.end())
        return nullptr;
    std::unique_ptr<Connection> c = std::move(*it);
    connections.erase(it);
    return c;
}

void LoopbackReceiverPrivate::drop(std::unique_ptr<Connection> connection)
{
    QTcpSocket *socket = connection->socket;
    QObject::disconnect(socket, nullptr, q, nullptr);
    connection->deadline->stop();
    socket->abort();
    socket->deleteLater();
}

void LoopbackReceiverPrivate::onDeadline(QTcpSocket *socket)
{
    if (held && held->socket == socket) {
        qCDebug(lcRedirect) << "no sign-in outcome within the bound; answering with the neutral page";
        answerHeldNeutrally();
        return;
    }
    if (std::unique_ptr<Connection> c = takeWaitingStart(socket)) {
        qCDebug(lcRedirect) << "start page: no authorization URL within the bound";
        answerWaitingStart(std::move(c), 504,
                           CallbackPage::startFailure(Error(Error::Code::Timeout,
                                                            QStringLiteral("the application did not answer the start page in time"))));
        return;
    }
    if (std::unique_ptr<Connection> c = take(socket)) {
        qCDebug(lcRedirect) << "connection dropped: no complete request within the deadline";
        drop(std::move(c));
    } else {
        // An answered connection whose peer does not read its answer.
        socket->abort();
    }
}

void LoopbackReceiverPrivate::onDisconnected(QTcpSocket *socket)
{
    if (std::unique_ptr<Connection> c = takeWaitingStart(socket)) {
        qCDebug(lcRedirect) << "start page: the browser went away before its answer";
        QObject::disconnect(socket, nullptr, q, nullptr);
        c->deadline->stop();
        socket->deleteLater();
        return;
    }
    if (held && held->socket == socket) {
        qCDebug(lcRedirect) << "the browser closed the connection before the sign-in outcome";
        std::unique_ptr<Connection> c = std::move(held);
        QObject::disconnect(socket, nullptr, q, nullptr);
        c->deadline->stop();
        socket->deleteLater();
        return;
    }
    if (std::unique_ptr<Connection> c = take(socket)) {
        qCDebug(lcRedirect) << "connection closed by the peer before a complete request";
        QObject::disconnect(socket, nullptr, q, nullptr);
        c->deadline->stop();
        socket->deleteLater();
    }
}

void LoopbackReceiverPrivate::onReadyRead(QTcpSocket *socket)
{
    auto it = std::find_if(connections.begin(), connections.end(), [socket](const auto &c) { return c->socket == socket; });
    if (it == connections.end())
        return;
    Connection &c = **it;
    c.lastActivity = ++activity;
    char buffer[kReadChunk];
    for (;;) {
        const qint64 n = socket->read(buffer, sizeof buffer);
        if (n <= 0)
            return;
        if (c.parser.feed(QByteArrayView(buffer, qsizetype(n))) != HttpRequestParser::Status::NeedMore) {
            handleRequest(take(socket)); // may emit callbackReceived: nothing after this
            return;
        }
    }
}

void LoopbackReceiverPrivate::respond(Connection &connection, int status, const QByteArray &body,
                                      const QByteArray &extraHeaders)
{
    QTcpSocket *socket = connection.socket;
    QObject::disconnect(socket, nullptr, q, nullptr);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // A fresh deadline for delivering the answer; after it, the socket is aborted.
    connection.deadline->setInterval(timeout);
    connection.deadline->start();
    socket->write(httpResponse(status, body, extraHeaders));
    socket->disconnectFromHost(); // after the answer is written (Connection: close)
}

void LoopbackReceiverPrivate::handleRequest(std::unique_ptr<Connection> connection)
{
    const HttpRequestParser &request = connection->parser;
    const QByteArray rejected = CallbackPage::rejected();

    if (request.status() == HttpRequestParser::Status::Error) {
        qCDebug(lcRedirect) << "request rejected:" << HttpRequestParser::describe(request.errorReason());
        respond(*connection, HttpRequestParser::httpStatusFor(request.errorReason()), rejected);
        return;
    }

    // DNS rebinding defence: a page on evil.example resolving to 127.0.0.1 sends
    // "Host: evil.example:PORT". Only the redirect URI's own authority is served.
    const QByteArray hostHeader = request.header("host");
    const QByteArray expectedHost = redirectUriAuthority();
    const bool hostOk = equalsIgnoringCase(hostHeader, expectedHost)
        || (boundPort == 80 && equalsIgnoringCase(hostHeader, expectedHost.first(expectedHost.lastIndexOf(':'))));
    if (!hostOk) {
        qCDebug(lcRedirect) << "request rejected: Host header does not name the redirect URI (DNS rebinding defence)";
        respond(*connection, hostHeader.isNull() ? 400 : 421, rejected); // RFC 9110 §15.5.20
        return;
    }
    if (request.method() != "GET") {
        qCDebug(lcRedirect) << "request rejected: method not allowed";
        respond(*connection, 405, rejected, "Allow: GET\r\n");
        return;
    }
    // RFC 9126 §4 with a URL that outlives a request_uri: the start page, only for who holds the
    // token (compared in constant time; a wrong or missing token is any unknown path's 404).
    if (startPageEnabled && !encodedStartPath.isEmpty()
        && Crypto::constantTimeEquals(request.path(), encodedStartPath)) {
        handleStartRequest(std::move(connection)); // may emit startPageRequested: nothing after this
        return;
    }
    if (request.path() != encodedPath) {
        qCDebug(lcRedirect) << "request ignored: not the redirect path";
        respond(*connection, 404, rejected);
        return;
    }

    // RFC 6749 §10.12 / RFC 8252 §8.9: only the callback carrying this login's state is
    // accepted; a forged one is answered and ignored, and the flow keeps waiting.
    const auto parameters = splitFormQuery(request.rawQuery());
    if (!parameters) {
        qCDebug(lcRedirect) << "callback rejected: malformed query";
        respond(*connection, 400, rejected);
        return;
    }
    int stateCount = 0;
    bool stateMatches = false;
    bool hasError = false;
    for (const auto &p : *parameters) {
        if (p.first == "state") {
            ++stateCount;
            // No expected state yet (set after listen(), once the redirect URI is known) → nothing matches.
            stateMatches = !expectedState.isEmpty() && Crypto::constantTimeEquals(p.second, expectedState);
        } else if (p.first == "error") {
            hasError = true;
        }
    }
    if (stateCount != 1 || !stateMatches) {
        qCDebug(lcRedirect) << (stateCount == 0 ? "callback rejected: no state"
                                : stateCount > 1 ? "callback rejected: duplicate state"
                                                 : "callback rejected: state mismatch");
        respond(*connection, 400, rejected);
        const Error why = stateCount == 0
            ? Error(Error::Code::MissingParameter, QStringLiteral("RFC 6749 §10.12: a redirect without state was refused"))
            : stateCount > 1
            ? Error(Error::Code::DuplicateParameter, QStringLiteral("RFC 6749 §3.1: a redirect with more than one state was refused"))
            : Error(Error::Code::StateMismatch, QStringLiteral("RFC 6749 §10.12: a redirect with a state that is not this "
                                                              "flow's was refused"));
        connection.reset(); // the socket answers on its own (respond()); nothing of it is used below
        Q_EMIT q->callbackRejected(why); // the app may delete the receiver here: nothing after this
        return;
    }

    // Accepted: stop listening, drop everything else, tell the app. The browser's answer waits
    // for the outcome of the sign-in (code exchange, ID token validation): a page saying
    // "signed in" before that would not be true. (RFC 8252 does not specify this page; it must
    // not claim more than the app knows.)
    accepted = true;
    qCDebug(lcRedirect) << (hasError ? "callback accepted (error response); answer held for the outcome"
                                     : "callback accepted; answer held for the outcome");
    const QByteArray rawQuery = request.rawQuery();
    hold(std::move(connection));
    closeServers();
    dropAll();
    endWaitingStarts(); // the sign-in has its answer: no more authorization URLs
    Q_EMIT q->callbackReceived(rawQuery); // the app may delete the receiver here: nothing after this
}

void LoopbackReceiverPrivate::hold(std::unique_ptr<Connection> connection)
{
    QTcpSocket *socket = connection->socket;
    QObject::disconnect(socket, nullptr, q, nullptr); // the request is complete: no more reading
    QObject::connect(socket, &QTcpSocket::disconnected, q, [this, socket] { onDisconnected(socket); });
    // The connection's deadline now bounds the wait for the outcome (then: the neutral page).
    connection->deadline->setInterval(outcomeTimeout);
    connection->deadline->start();
    held = std::move(connection);
}

void LoopbackReceiverPrivate::answerHeld(int status, const QByteArray &body, const QByteArray &extraHeaders)
{
    std::unique_ptr<Connection> c = std::move(held);
    if (!c)
        return;
    respond(*c, status, body, extraHeaders);
    // The answer outlives the receiver (the app may delete it right after): the socket
    // deletes itself once written, or at its deadline.
    c->socket->setParent(nullptr);
}

void LoopbackReceiverPrivate::handleStartRequest(std::unique_ptr<Connection> connection)
{
    if (waitingStarts.size() >= kMaxWaitingStarts) {
        qCDebug(lcRedirect) << "start page: too many requests waiting";
        respond(*connection, 503, CallbackPage::startBusy(), "Retry-After: 1\r\n");
        return;
    }
    QTcpSocket *socket = connection->socket;
    QObject::disconnect(socket, nullptr, q, nullptr); // the request is complete: no more reading
    QObject::connect(socket, &QTcpSocket::disconnected, q, [this, socket] { onDisconnected(socket); });
    // The connection's deadline now bounds the wait for the app's answer (then: 504).
    connection->deadline->setInterval(outcomeTimeout);
    connection->deadline->start();
    waitingStarts.push_back(std::move(connection));
    qCDebug(lcRedirect) << "start page requested; waiting for a fresh authorization URL";
    Q_EMIT q->startPageRequested(); // the app may delete the receiver here: nothing after this
}

std::unique_ptr<Connection> LoopbackReceiverPrivate::takeWaitingStart(QTcpSocket *socket)
{
    auto it = std::find_if(waitingStarts.begin(), waitingStarts.end(),
                           [socket](const auto &c) { return socket == nullptr || c->socket == socket; });
    if (it == waitingStarts.end())
        return nullptr;
    std::unique_ptr<Connection> c = std::move(*it);
    waitingStarts.erase(it);
    return c;
}

void LoopbackReceiverPrivate::answerWaitingStart(std::unique_ptr<Connection> connection, int status,
                                                 const QByteArray &body, const QByteArray &extraHeaders)
{
    respond(*connection, status, body, extraHeaders);
    // Like the held callback's answer, it outlives the receiver (deleted once written or at its
    // deadline).
    connection->socket->setParent(nullptr);
}

void LoopbackReceiverPrivate::endWaitingStarts()
{
    while (std::unique_ptr<Connection> c = takeWaitingStart(nullptr))
        answerWaitingStart(std::move(c), 410, CallbackPage::startEnded());
}

void LoopbackReceiverPrivate::answerHeldNeutrally()
{
    answerHeld(200, purpose == LoopbackReceiver::Purpose::SignOut ? CallbackPage::signOutNeutral() : CallbackPage::neutral());
}

QByteArray LoopbackReceiverPrivate::redirectUriAuthority() const
{
    const QByteArray port = ':' + QByteArray::number(boundPort);
    switch (host) {
    case LoopbackReceiver::RedirectHost::Ipv4: return "127.0.0.1" + port;
    case LoopbackReceiver::RedirectHost::Localhost: return "localhost" + port;
    case LoopbackReceiver::RedirectHost::Ipv6: return "[::1]" + port;
    }
    return QByteArray();
}

void LoopbackReceiverPrivate::closeServers()
{
    for (QTcpServer *server : std::as_const(servers)) {
        QObject::disconnect(server, nullptr, q, nullptr);
        server->close();
        server->deleteLater();
    }
    servers.clear();
    boundPort = 0;
}

void LoopbackReceiverPrivate::dropAll()
{
    auto all = std::move(connections);
    connections.clear();
    for (auto &c : all)
        drop(std::move(c));
}

LoopbackReceiver::LoopbackReceiver(QObject *parent)
    : QObject(parent), d(std::make_unique<LoopbackReceiverPrivate>(this))
{
}

LoopbackReceiver::~LoopbackReceiver()
{
    close();
}

LoopbackReceiver::RedirectHost LoopbackReceiver::redirectHost() const { return d->host; }
void LoopbackReceiver::setRedirectHost(RedirectHost host) { d->host = host; }
LoopbackReceiver::Purpose LoopbackReceiver::purpose() const { return d->purpose; }
void LoopbackReceiver::setPurpose(Purpose purpose) { d->purpose = purpose; }
QList<quint16> LoopbackReceiver::ports() const { return d->ports; }
void LoopbackReceiver::setPorts(const QList<quint16> &ports) { d->ports = ports; }
QString LoopbackReceiver::path() const { return d->path; }
void LoopbackReceiver::setPath(const QString &path) { d->path = path; }
QByteArray LoopbackReceiver::expectedState() const { return d->expectedState; }
void LoopbackReceiver::setExpectedState(const QByteArray &state) { d->expectedState = state; }
QUrl LoopbackReceiver::successRedirectUrl() const { return d->successUrl; }
void LoopbackReceiver::setSuccessRedirectUrl(const QUrl &url) { d->successUrl = url; }
QUrl LoopbackReceiver::failureRedirectUrl() const { return d->failureUrl; }
void LoopbackReceiver::setFailureRedirectUrl(const QUrl &url) { d->failureUrl = url; }
std::chrono::milliseconds LoopbackReceiver::connectionTimeout() const { return d->timeout; }
void LoopbackReceiver::setConnectionTimeout(std::chrono::milliseconds timeout) { d->timeout = timeout; }
std::chrono::milliseconds LoopbackReceiver::outcomeTimeout() const { return d->outcomeTimeout; }
void LoopbackReceiver::setOutcomeTimeout(std::chrono::milliseconds timeout) { d->outcomeTimeout = timeout; }
int LoopbackReceiver::maxConnections() const { return d->maxConnections; }
void LoopbackReceiver::setMaxConnections(int count) { d->maxConnections = qMax(1, count); }

Error LoopbackReceiver::listen()
{
    if (isListening())
        return Error(Error::Code::ListenFailed, QStringLiteral("the loopback receiver is already listening"));
    // The expected state may be set after listen(): the authorization request (and its state) is
    // built from the redirect URI, which needs the bound port. Until it is set, every callback is
    // rejected (RFC 6749 §10.12).
    if (!d->path.startsWith(u'/') || d->path.contains(u'?') || d->path.contains(u'#')) {
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("the redirect path must be absolute, without query or fragment"));
    }
    for (const QUrl *url : {&d->successUrl, &d->failureUrl}) {
        if (!url->isEmpty() && (!url->isValid() || url->isRelative())) {
            return Error(Error::Code::InvalidConfiguration,
                         QStringLiteral("the page redirect URL after sign-in must be absolute"));
        }
    }
    d->answerHeldNeutrally(); // a previous sign-in's browser still waiting for its page
    d->endWaitingStarts();
    // A new start page token per listen(): a URL of an earlier sign-in starts nothing.
    d->startToken = d->startPageEnabled ? Crypto::randomToken(32) : QByteArray();
    d->encodedStartPath = d->startPageEnabled ? QByteArrayLiteral("/start/") + d->startToken : QByteArray();
    QUrl pathUrl;
    pathUrl.setPath(d->path);
    d->encodedPath = pathUrl.path(QUrl::FullyEncoded).toUtf8();
    d->accepted = false;

    const QList<quint16> candidates = d->ports.isEmpty() ? QList<quint16>{0} : d->ports;
    QString why;
    for (const quint16 port : candidates) {
        // An ephemeral port may be free on 127.0.0.1 but taken on ::1 (Localhost): retry.
        const int attempts = port == 0 ? kEphemeralAttempts : 1;
        for (int i = 0; i < attempts; ++i) {
            if (d->tryBind(port, &why)) {
                qCDebug(lcRedirect) << "listening on loopback port" << d->boundPort;
                return Error();
            }
        }
    }
    return Error(Error::Code::ListenFailed, QStringLiteral("RFC 8252 §7.3: the loopback redirect listener "
                                                           "could not bind: %1").arg(why));
}

bool LoopbackReceiver::isListening() const
{
    return !d->servers.isEmpty();
}

quint16 LoopbackReceiver::port() const
{
    return d->boundPort;
}

QUrl LoopbackReceiver::redirectUri() const
{
    if (!isListening())
        return QUrl();
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    switch (d->host) {
    case RedirectHost::Ipv4: url.setHost(QStringLiteral("127.0.0.1")); break;
    case RedirectHost::Localhost: url.setHost(QStringLiteral("localhost")); break;
    case RedirectHost::Ipv6: url.setHost(QStringLiteral("::1")); break;
    }
    url.setPort(d->boundPort);
    url.setPath(d->path);
    return url;
}

void LoopbackReceiver::reportOutcome(const Error &error)
{
    if (!d->held)
        return;
    qCDebug(lcRedirect) << (error ? "flow failed; answering the browser" : "flow complete; answering the browser");
    const QUrl &redirect = error ? d->failureUrl : d->successUrl;
    if (!redirect.isEmpty())
        d->answerHeld(303, QByteArray(), "Location: " + redirect.toEncoded(QUrl::FullyEncoded) + "\r\n");
    else if (d->purpose == Purpose::SignOut)
        d->answerHeld(200, error ? CallbackPage::signOutFailure(error) : CallbackPage::signOutSuccess());
    else
        d->answerHeld(200, error ? CallbackPage::failure(error) : CallbackPage::success());
}

bool LoopbackReceiver::isStartPageEnabled() const { return d->startPageEnabled; }
void LoopbackReceiver::setStartPageEnabled(bool enabled) { d->startPageEnabled = enabled; }

QUrl LoopbackReceiver::startPageUrl() const
{
    if (!d->startPageEnabled || d->encodedStartPath.isEmpty() || !isListening())
        return QUrl();
    QUrl url = redirectUri();
    url.setPath(QString::fromLatin1(d->encodedStartPath)); // base64url: nothing to encode
    return url;
}

void LoopbackReceiver::redirectStartPage(const QUrl &location)
{
    std::unique_ptr<Connection> c = d->takeWaitingStart(nullptr);
    if (!c)
        return;
    const QString scheme = location.scheme();
    if (!location.isValid() || location.isRelative() || location.host().isEmpty()
        || (scheme != QLatin1String("https") && scheme != QLatin1String("http"))) {
        qCWarning(lcRedirect) << "start page: the application gave no usable authorization URL";
        d->answerWaitingStart(std::move(c), 502,
                              CallbackPage::startFailure(Error(Error::Code::InvalidConfiguration,
                                                               QStringLiteral("the authorization URL is not an absolute http(s) URL"))));
        return;
    }
    qCDebug(lcRedirect) << "start page: redirecting the browser to the authorization endpoint";
    // 302 (RFC 9110 §15.4.3) keeps the GET; Referrer-Policy: no-referrer keeps the start page's
    // token out of the provider's logs.
    d->answerWaitingStart(std::move(c), 302, QByteArray(),
                          "Location: " + location.toEncoded(QUrl::FullyEncoded) + "\r\n");
}

void LoopbackReceiver::failStartPage(const Error &error)
{
    std::unique_ptr<Connection> c = d->takeWaitingStart(nullptr);
    if (!c)
        return;
    qCDebug(lcRedirect) << "start page: the sign-in could not start; answering with the failure page";
    d->answerWaitingStart(std::move(c), 502, CallbackPage::startFailure(error));
}

void LoopbackReceiver::close()
{
    if (!d->servers.isEmpty() || !d->connections.empty() || d->held || !d->waitingStarts.empty())
        qCDebug(lcRedirect) << "loopback receiver closed";
    d->closeServers();
    d->dropAll();
    d->endWaitingStarts();
    // Never leave the browser without an answer, nor claim an outcome nobody reported.
    d->answerHeldNeutrally();
}

} // namespace Keyloop
