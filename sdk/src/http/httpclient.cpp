// SPDX-License-Identifier: MIT
// HttpClient: the credential bindings (API locations) and the creation of replies. The request
// life cycle (credential, redirects, 401 replay, Retry-After) is HttpReply's (httpreply.cpp).
#include <keyloop/httpclient.h>

#include "core/logging_p.h"
#include "http/httpbody_p.h"
#include "http/httpclient_p.h"
#include "http/httpreply_p.h"
#include "network/httpexchange_p.h"

#include <QtNetwork/QNetworkRequest>

#include <algorithm>

namespace Keyloop {

namespace {

// RFC 9110 §9.1: method = token
bool isMethodToken(const QByteArray &method)
{
    static const QByteArray extra = QByteArrayLiteral("!#$%&'*+-.^_`|~");
    return !method.isEmpty() && method.size() <= 64 && std::all_of(method.cbegin(), method.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || extra.contains(c);
    });
}

} // namespace

HttpClient::HttpClient(QNetworkAccessManager *nam, const TransportOptions &options, QObject *parent)
    : QObject(parent), d(std::make_unique<HttpClientPrivate>())
{
    d->q = this;
    d->nam = nam;
    d->options = options;
}

HttpClient::~HttpClient()
{
    // Every reply still running finishes once, with Cancelled (queued, from the event loop).
    const auto replies = std::exchange(d->replies, {});
    for (const QPointer<HttpReply> &reply : replies)
        if (reply)
            reply->cancel();
}

QNetworkAccessManager *HttpClient::networkAccessManager() const { return d->nam; }
TransportOptions HttpClient::transportOptions() const { return d->options; }
void HttpClient::setTransportOptions(const TransportOptions &options) { d->options = options; }
qint64 HttpClient::maxRequestBodySize() const { return d->maxRequestBodySize; }
void HttpClient::setMaxRequestBodySize(qint64 bytes) { d->maxRequestBodySize = std::max<qint64>(bytes, 0); }

Error HttpClient::addCredential(Credential *credential, const QList<QUrl> &locations)
{
    if (!credential)
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("no credential"));
    if (locations.isEmpty())
        return Error(Error::Code::CredentialNotAllowed,
                     QStringLiteral("a credential needs at least one API location (its resource indicator is never one)"));
    QList<HttpClientPrivate::Binding> added;
    for (const QUrl &url : locations) {
        Error error;
        const ApiLocation location = ApiLocation::fromUrl(url, d->options, &error);
        if (error)
            return error; // nothing bound
        added.append({credential, location});
    }
    const bool known = std::any_of(d->bindings.cbegin(), d->bindings.cend(),
                                   [credential](const HttpClientPrivate::Binding &b) { return b.credential == credential; });
    if (!known)
        connect(credential, &QObject::destroyed, this, [this, credential] { removeCredential(credential); });
    d->bindings.append(added);
    qCDebug(lcHttp) << "credential bound to" << added.size() << "location(s)";
    return Error();
}

void HttpClient::removeCredential(Credential *credential)
{
    d->bindings.erase(std::remove_if(d->bindings.begin(), d->bindings.end(),
                                     [credential](const HttpClientPrivate::Binding &b) {
                                         return b.credential.isNull() || b.credential == credential;
                                     }),
                      d->bindings.end());
    if (credential)
        disconnect(credential, &QObject::destroyed, this, nullptr);
}

Credential *HttpClient::credentialFor(const QUrl &url) const
{
    return HttpClientPrivate::credentialFor(d->bindings, ApiLocation::normalizedRequestUrl(url));
}

Credential *HttpClientPrivate::credentialFor(const QList<Binding> &bindings, const QUrl &url)
{
    Credential *best = nullptr;
    qsizetype bestSpecificity = -1;
    for (const Binding &b : bindings) {
        // The most specific location wins; among equals, the last one bound.
        if (b.credential && b.location.contains(url) && b.location.specificity() >= bestSpecificity) {
            best = b.credential;
            bestSpecificity = b.location.specificity();
        }
    }
    return best;
}

HttpReply *HttpClient::get(const QNetworkRequest &request) { return d->send(request, QByteArrayLiteral("GET"), HttpBody()); }
HttpReply *HttpClient::post(const QNetworkRequest &request, const HttpBody &body) { return d->send(request, QByteArrayLiteral("POST"), body); }
HttpReply *HttpClient::put(const QNetworkRequest &request, const HttpBody &body) { return d->send(request, QByteArrayLiteral("PUT"), body); }
HttpReply *HttpClient::patch(const QNetworkRequest &request, const HttpBody &body) { return d->send(request, QByteArrayLiteral("PATCH"), body); }
HttpReply *HttpClient::deleteResource(const QNetworkRequest &request) { return d->send(request, QByteArrayLiteral("DELETE"), HttpBody()); }
HttpReply *HttpClient::sendCustomRequest(const QNetworkRequest &request, const QByteArray &verb, const HttpBody &body)
{
    return d->send(request, verb, body);
}

QByteArray HttpClientPrivate::readBody(const HttpBody &body, qint64 limit, Error *error)
{
    if (!body.d->isDevice)
        return body.d->data;
    QIODevice *device = body.d->device;
    if (!device) {
        *error = Error(Error::Code::InvalidConfiguration, QStringLiteral("the request body's device is gone"));
        return {};
    }
    if (!device->isOpen() || !device->isReadable()) {
        *error = Error(Error::Code::InvalidConfiguration, QStringLiteral("the request body's device is not open for reading"));
        return {};
    }
    // Buffered whole, so that a replay (401, Retry-After, 307/308) sends the same bytes.
    const QByteArray data = device->read(limit + 1);
    if (data.size() > limit) {
        *error = Error(Error::Code::RequestBodyTooLarge,
                       QStringLiteral("the request body is larger than the limit of %1 bytes (HttpClient::maxRequestBodySize())").arg(limit));
        return {};
    }
    return data;
}

HttpReply *HttpClientPrivate::send(const QNetworkRequest &request, const QByteArray &method, const HttpBody &body)
{
    auto *reply = new HttpReply();
    HttpReplyPrivate *r = reply->d.get();
    r->client = q;
    r->nam = nam;
    r->options = options;
    r->request = request;
    r->method = method;
    r->url = ApiLocation::normalizedRequestUrl(request.url());
    r->hasBody = !body.isNull() || method == "POST" || method == "PUT" || method == "PATCH";

    Error error;
    if (!nam)
        error = Error(Error::Code::InvalidConfiguration, QStringLiteral("no QNetworkAccessManager"));
    else if (!isMethodToken(method))
        error = Error(Error::Code::InvalidConfiguration, QStringLiteral("the request method is not an HTTP token"));
    else
        error = checkEndpointUrl(r->url, options, QStringLiteral("the request URL"));
    if (!error)
        r->body = readBody(body, maxRequestBodySize, &error);
    r->startError = error;
    if (!error) {
        // The bindings as they are now hold for the whole request (its replays and redirects).
        r->bindings = bindings;
        r->credential = credentialFor(bindings, r->url);
        r->hadCredential = !r->credential.isNull();
    }

    replies.removeIf([](const QPointer<HttpReply> &p) { return p.isNull(); });
    replies.append(reply);
    // Sent at once, like QNetworkAccessManager's replies: finished() still comes from the
    // event loop, so the caller connects after this returns. A request that cannot be sent
    // fails on the next turn (until then, cancel() still wins).
    if (error)
        reply->start();
    else
        reply->startNow();
    return reply;
}

} // namespace Keyloop
