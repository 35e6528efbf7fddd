// SPDX-License-Identifier: MIT
// A fake token endpoint and jwks_uri for Session fault tests: a real QTcpServer on 127.0.0.1
// speaking just enough HTTP/1.1, plus an RSA key (OpenSSL EVP) to sign ID tokens with.
// Only for faults a real provider will not produce on demand (503, dropped connections,
// silence, bare 4xx, …); the devstack tests cover the real thing.
#pragma once

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <functional>
#include <memory>

namespace KeyloopSessionTest {

inline QByteArray b64url(QByteArrayView data)
{
    return QByteArray(data.data(), data.size())
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

/// An RSA-2048 signing key for RS256 ID tokens.
class SigningKey
{
public:
    explicit SigningKey(const QString &kid) : m_kid(kid), m_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048)), EVP_PKEY_free) {}
    bool isValid() const { return m_key != nullptr; }
    QString kid() const { return m_kid; }

    QJsonObject publicJwk() const
    {
        QJsonObject jwk;
        jwk[QStringLiteral("kty")] = QStringLiteral("RSA");
        jwk[QStringLiteral("use")] = QStringLiteral("sig");
        jwk[QStringLiteral("alg")] = QStringLiteral("RS256");
        jwk[QStringLiteral("kid")] = m_kid;
        jwk[QStringLiteral("n")] = QString::fromLatin1(b64url(bn(OSSL_PKEY_PARAM_RSA_N)));
        jwk[QStringLiteral("e")] = QString::fromLatin1(b64url(bn(OSSL_PKEY_PARAM_RSA_E)));
        return jwk;
    }

    /// A compact JWS (RS256) of \a claims; \a kid overrides the header's kid.
    QByteArray sign(const QJsonObject &claims, const QString &kid = QString()) const
    {
        QJsonObject header{{QStringLiteral("alg"), QStringLiteral("RS256")},
                           {QStringLiteral("typ"), QStringLiteral("JWT")},
                           {QStringLiteral("kid"), kid.isEmpty() ? m_kid : kid}};
        const QByteArray input = b64url(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.'
            + b64url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t size = 0;
        QByteArray signature;
        if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, m_key.get()) == 1
            && EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size())) == 1) {
            signature.resize(qsizetype(size));
            if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(signature.data()), &size,
                               reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size())) != 1)
                signature.clear();
            signature.resize(qsizetype(size));
        }
        EVP_MD_CTX_free(ctx);
        return input + '.' + b64url(signature);
    }

private:
    QByteArray bn(const char *name) const
    {
        BIGNUM *value = nullptr;
        if (EVP_PKEY_get_bn_param(m_key.get(), name, &value) != 1)
            return {};
        QByteArray out(BN_num_bytes(value), '\0');
        BN_bn2bin(value, reinterpret_cast<unsigned char *>(out.data()));
        BN_free(value);
        return out;
    }

    QString m_kid;
    std::shared_ptr<EVP_PKEY> m_key;
};

/// One HTTP request as the fake server received it.
struct Request
{
    QByteArray method;
    QByteArray path;
    QByteArray target; ///< the whole request-target, query included
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QUrlQuery form() const { return QUrlQuery(QString::fromUtf8(body)); }
    QByteArray field(const QString &name) const
    {
        return form().queryItemValue(name, QUrl::FullyDecoded).toUtf8();
    }
    bool hasField(const QString &name) const { return form().hasQueryItem(name); }
};

/// Builds a complete HTTP/1.1 response that closes the connection.
inline QByteArray httpResponse(int status, const QByteArray &body = QByteArray(),
                               const QByteArray &contentType = QByteArrayLiteral("application/json"),
                               const QList<QByteArray> &extraHeaders = {})
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + " Status\r\n";
    if (!body.isEmpty())
        out += "Content-Type: " + contentType + "\r\n";
    for (const QByteArray &h : extraHeaders)
        out += h + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return out;
}

/*!
 * A loopback HTTP server (https after listenTls()). Each request goes to the handler for its
 * path; the handler answers through the socket (reply() writes a whole response and closes), or
 * drops it, or stays silent. Requests are recorded per path.
 */
class FakeServer : public QObject
{
public:
    using Handler = std::function<void(const Request &request, QTcpSocket *socket)>;

    FakeServer() { attach(std::make_unique<QTcpServer>()); }

    bool listen(quint16 port = 0) { return m_server->listen(QHostAddress::LocalHost, port); }
    /// Serves https with \a tls (its local certificate and private key) instead.
    bool listenTls(const QSslConfiguration &tls, quint16 port = 0)
    {
        auto server = std::make_unique<QSslServer>();
        server->setSslConfiguration(tls);
        attach(std::move(server));
        m_scheme = QStringLiteral("https");
        return m_server->listen(QHostAddress::LocalHost, port);
    }
    void close() { m_server->close(); }
    quint16 port() const { return m_port ? m_port : m_server->serverPort(); }
    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("%1://127.0.0.1:%2%3").arg(m_scheme).arg(m_server->isListening() ? m_server->serverPort() : m_port).arg(path));
    }
    /// Remember the port so that close() + listen(port()) comes back on it.
    void pinPort() { m_port = m_server->serverPort(); }

    void setHandler(const QByteArray &path, Handler handler) { m_handlers[path] = std::move(handler); }
    QList<Request> requests(const QByteArray &path) const
    {
        QList<Request> out;
        for (const Request &r : m_requests)
            if (r.path == path)
                out.append(r);
        return out;
    }
    int count(const QByteArray &path) const { return int(requests(path).size()); }
    void clearRequests() { m_requests.clear(); }

    static void reply(QTcpSocket *socket, const QByteArray &response)
    {
        socket->write(response);
        socket->disconnectFromHost();
    }

private:
    void attach(std::unique_ptr<QTcpServer> server)
    {
        m_server = std::move(server);
        const auto accept = [this] {
            while (QTcpSocket *socket = m_server->nextPendingConnection()) {
                socket->setParent(this);
                QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                if (socket->bytesAvailable())
                    onReadyRead(socket);
            }
        };
        // A QSslServer queues a connection only once its handshake is done.
        QObject::connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, accept);
        QObject::connect(m_server.get(), &QTcpServer::newConnection, this, accept);
    }

    void onReadyRead(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        Request request;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        request.method = requestLine.value(0);
        request.target = requestLine.value(1);
        request.path = requestLine.value(1).split('?').value(0);
        qsizetype length = 0;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            request.headers.append({name, value});
            if (name == "content-length")
                length = value.toLongLong();
        }
        if (buffer.size() < end + 4 + length)
            return;
        request.body = buffer.mid(end + 4, length);
        m_buffers.remove(socket);
        QObject::disconnect(socket, &QTcpSocket::readyRead, this, nullptr);
        m_requests.append(request);
        const auto it = m_handlers.constFind(request.path);
        if (it == m_handlers.cend()) {
            reply(socket, httpResponse(404));
            return;
        }
        it.value()(request, socket);
    }

    std::unique_ptr<QTcpServer> m_server;
    QString m_scheme = QStringLiteral("http");
    quint16 m_port = 0;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QHash<QByteArray, Handler> m_handlers;
    QList<Request> m_requests;
};

} // namespace KeyloopSessionTest
