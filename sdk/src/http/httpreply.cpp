// SPDX-License-Identifier: MIT
// HttpReply: one logical request through its hops. Each hop asks the credential for a header
// (when the URL is inside its locations), sends one HttpAttempt, and decides: a redirect to
// follow, a 401 to replay once, a Retry-After to honour once, or the final answer.
#include <keyloop/httpreply.h>

#include <keyloop/version.h>

#include "core/logging_p.h"
#include "core/strictjson_p.h"
#include "http/httpattempt_p.h"
#include "http/httpclient_p.h"
#include "http/httpreply_p.h"
#include "http/redirectpolicy_p.h"
#include "http/wwwauthenticate_p.h"
#include "network/httpexchange_p.h"

#include <QtCore/QDateTime>

#include <algorithm>
#include <utility>

namespace Keyloop {

namespace {

// The longest Retry-After waited for inside one request; a longer one is the caller's decision.
constexpr std::chrono::seconds kMaxRetryAfter{30};

// RFC 9110 §9.2.2: methods whose repetition has the effect of one request.
bool isIdempotent(const QByteArray &method)
{
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS"
        || method == "TRACE";
}

bool isToken(const QByteArray &name)
{
    static const QByteArray extra = QByteArrayLiteral("!#$%&'*+-.^_`|~");
    return !name.isEmpty() && std::all_of(name.cbegin(), name.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || extra.contains(c);
    });
}

// RFC 9110 §5.5: a field value has no CR, LF, NUL or other control character (HTAB allowed).
bool isFieldValue(const QByteArray &value)
{
    return std::all_of(value.cbegin(), value.cend(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == '\t' || (c >= 0x20 && c != 0x7f);
    });
}

} // namespace

HttpReplyPrivate::HttpReplyPrivate(HttpReply *reply) : q(reply) {}

HttpReply::HttpReply(QObject *parent) : Job(parent), d(std::make_unique<HttpReplyPrivate>(this)) {}
HttpReply::~HttpReply() { d->stopWork(); }

QByteArray HttpReply::method() const { return d->method; }
QUrl HttpReply::url() const { return d->url; }
int HttpReply::statusCode() const { return d->status; }
QList<QPair<QByteArray, QByteArray>> HttpReply::rawHeaderPairs() const { return d->headers; }
QByteArray HttpReply::body() const { return d->responseBody; }

QByteArray HttpReply::rawHeader(const QByteArray &name) const
{
    for (const auto &h : d->headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

QJsonValue HttpReply::json(Error *error) const
{
    StrictJson::Limits limits;
    limits.maxSize = std::max<qsizetype>(limits.maxSize, d->responseBody.size());
    Error e;
    const std::optional<QJsonValue> value = StrictJson::parse(d->responseBody, limits, &e);
    if (error)
        *error = value ? Error() : e;
    return value ? *value : QJsonValue(QJsonValue::Undefined);
}

void HttpReply::doStart()
{
    if (d->startError)
        return emitResult(d->startError);
    d->hop();
}

void HttpReply::doCancel()
{
    d->stopWork();
}

void HttpReplyPrivate::stopWork()
{
    ++generation; // a credential's late answer is ignored
    if (retryTimer)
        retryTimer->stop();
    QObject::disconnect(credentialGone);
    if (attempt) {
        attempt->abort();
        attempt->deleteLater();
        attempt = nullptr;
    }
}

void HttpReplyPrivate::finish(const Error &error)
{
    stopWork();
    q->emitResult(error);
}

// From an attempt's finished(), i.e. from the event loop: finished() now, not one turn later.
void HttpReplyPrivate::finishFromEventLoop(const Error &error)
{
    stopWork();
    q->emitResultFromEventLoop(error);
}

// One request on the wire, with the credential's header when the URL is still inside its
// locations — never after a redirect left the origin, and never added by a redirect.
void HttpReplyPrivate::hop()
{
    if (q->isFinished())
        return;
    if (!client)
        return finish(Error(Error::Code::Cancelled, QStringLiteral("the HttpClient was destroyed")));
    if (hadCredential && !credential)
        return finish(Error(Error::Code::Cancelled, QStringLiteral("the request's credential was destroyed")));
    credentialThisHop = credential && !crossedOrigin
        && HttpClientPrivate::credentialFor(bindings, url) == credential.data();
    sentHeaderValue.clear();
    if (!credentialThisHop)
        return send(QByteArray(), QByteArray());

    const quint64 hopId = ++generation;
    Credential *c = credential;
    QByteArray currentName, currentValue;
    if (c->currentHeader(&currentName, &currentValue) && isToken(currentName) && !currentValue.isEmpty()
        && isFieldValue(currentValue)) {
        sentHeaderValue = currentValue; // known without I/O (a fresh token): no event-loop turn
        return send(currentName, currentValue);
    }
    // A credential that is destroyed before it answers must not leave the request hanging.
    credentialGone = QObject::connect(c, &QObject::destroyed, q, [this, hopId] {
        if (hopId == generation)
            finish(Error(Error::Code::Cancelled, QStringLiteral("the request's credential was destroyed")));
    });
    c->authorize(q, [this, hopId](const QByteArray &name, const QByteArray &value, const Error &error) {
        if (hopId != generation || q->isFinished())
            return;
        QObject::disconnect(credentialGone);
        if (error)
            return finish(error);
        if (!isToken(name) || value.isEmpty() || !isFieldValue(value))
            return finish(Error(Error::Code::InvalidConfiguration,
                                QStringLiteral("the credential gave a malformed header (RFC 9110 §5.5)")));
        sentHeaderValue = value;
        send(name, value);
    });
}

void HttpReplyPrivate::send(const QByteArray &headerName, const QByteArray &headerValue)
{
    QNetworkRequest r = request;
    r.setUrl(url);
    if (crossedOrigin) {
        // Like Fetch and curl: credentials the request set itself stay with their origin too.
        r.setRawHeader("Authorization", QByteArray());
        r.setRawHeader("Cookie", QByteArray());
    }
    if (!headerName.isEmpty()) {
        r.setRawHeader(headerName, headerValue); // RFC 6750 §2.1: only ever in a header
        if (credential) {
            // RFC 9449 §7.1: a DPoP proof for this very request (method, URL, token hash).
            for (const auto &[name, value] : credential->requestHeaders(method, url, headerValue)) {
                if (!isToken(name) || value.isEmpty() || !isFieldValue(value))
                    return finish(Error(Error::Code::InvalidConfiguration,
                                        QStringLiteral("the credential gave a malformed request header (RFC 9110 §5.5)")));
                r.setRawHeader(name, value);
            }
        }
        // A response to a request with a credential belongs to that user only: no cache.
        r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
        r.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    }
    if (!r.hasRawHeader("User-Agent"))
        r.setRawHeader("User-Agent", QByteArrayLiteral("Keyloop/") + KEYLOOP_VERSION_STRING);
    if (!hasBody)
        r.setHeader(QNetworkRequest::ContentTypeHeader, QVariant());
    else if (!body.isEmpty() && !r.header(QNetworkRequest::ContentTypeHeader).isValid())
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));

    if (spentAttempt) // a redirect or a replay; this may run inside its finished()
        std::exchange(spentAttempt, nullptr)->deleteLater();
    auto *a = new HttpAttempt(nam, r, method, hasBody ? body : QByteArray(), hasBody, options, q);
    attempt = a;
    QObject::connect(a, &HttpAttempt::finished, q, [this, a] { onAttemptFinished(a); });
    a->start();
}

Error HttpReplyPrivate::httpError(const QString &bearerError, const QString &bearerDescription) const
{
    const QString message = QStringLiteral("the server at %1 answered HTTP %2").arg(url.host()).arg(status);
    Error e = bearerError.isEmpty() ? Error(Error::Code::HttpError, message)
                                    : Error::oauth(bearerError, bearerDescription, status)
                                          .reclassified(Error::Code::HttpError,
                                                        message + QStringLiteral(" (%1)").arg(bearerError));
    e.setHttpStatus(status);
    // RFC 9110 §15.5.9, RFC 6585 §4, §15.6: worth trying again later.
    e.setTransient(status >= 500 || status == 408 || status == 429);
    for (const auto &h : headers) {
        if (h.first.compare("Retry-After", Qt::CaseInsensitive) == 0) {
            if (const auto delay = retryAfterDelay(h.second, QDateTime::currentDateTimeUtc()))
                e.setRetryAfter(*delay);
        }
    }
    return e;
}

void HttpReplyPrivate::onAttemptFinished(HttpAttempt *a)
{
    if (a != attempt || q->isFinished())
        return;
    attempt = nullptr;
    spentAttempt = a;
    status = a->status();
    headers = a->headers();
    responseBody = a->body();
    if (const Error e = a->error())
        return finishFromEventLoop(e);
    if (credentialThisHop && credential)
        credential->responseReceived(url, sentHeaderValue, headers); // e.g. a DPoP-Nonce (RFC 9449 §9)
    // The challenge scheme answers the scheme the request used: Bearer (RFC 6750 §3) or DPoP
    // (RFC 9449 §7.1), whose parameters are the same.
    const QByteArrayView scheme =
        credentialThisHop && sentHeaderValue.startsWith("DPoP ") ? QByteArrayView("dpop") : QByteArrayView("bearer");

    if (status >= 300 && status < 400) {
        const RedirectStep step = nextRedirect(status, a->header("Location"), url, method, redirects, options);
        if (step.error)
            return finishFromEventLoop(step.error);
        if (step.follow) {
            ++redirects;
            if (step.crossOrigin && !crossedOrigin) {
                qCDebug(lcHttp) << "redirect to another origin: followed without credentials";
                crossedOrigin = true;
            } else {
                qCDebug(lcHttp) << "redirect followed";
            }
            url = step.target;
            method = step.method;
            if (!step.keepBody) {
                hasBody = false;
                body.clear();
            }
            return hop();
        }
    }

    if (status == 401) {
        const BearerChallenge challenge = bearerChallenge(a->header("WWW-Authenticate"), scheme);
        // RFC 9449 §9: the API wants a nonce it has just given (DPoP-Nonce, remembered by the
        // credential above): once more, with a new proof carrying it; the token is fine.
        if (challenge.error == QLatin1String("use_dpop_nonce") && credentialThisHop && credential && !replayedForNonce
            && !a->header("DPoP-Nonce").isEmpty()) {
            qCDebug(lcHttp) << "401: the API asked for a DPoP nonce; replaying once with it";
            replayedForNonce = true;
            return hop();
        }
        // RFC 9470 §3: the token is fine, the authentication behind it is not strong or recent
        // enough. A new sign-in is needed; a refresh would bring the same authentication.
        if (challenge.error == QLatin1String("insufficient_user_authentication"))
            return finishFromEventLoop(Error::stepUpRequired(challenge.acrValues, challenge.maxAge, challenge.description, status));
        // RFC 6750 §3.1: invalid_token (expired, revoked …), or no error code at all.
        const bool tokenRejected = challenge.error.isEmpty() || challenge.error == QLatin1String("invalid_token");
        if (credentialThisHop && tokenRejected && !replayedAfter401 && credential) {
            qCDebug(lcHttp) << "401: credential rejected; replaying once with a fresh one";
            replayedAfter401 = true;
            credential->reject(sentHeaderValue);
            return hop();
        }
        return finishFromEventLoop(httpError(challenge.error, challenge.description));
    }

    if (status == 403) {
        const BearerChallenge challenge = bearerChallenge(a->header("WWW-Authenticate"), scheme);
        if (challenge.error == QLatin1String("insufficient_scope")) // RFC 6750 §3.1
            return finishFromEventLoop(Error::insufficientScope(challenge.scopes, challenge.description, status));
        return finishFromEventLoop(httpError(challenge.error, challenge.description));
    }

    if (status == 429 || status == 503) {
        // RFC 9110 §10.2.3 / RFC 6585 §4: once, for a method that may be repeated, when the
        // wait is short; otherwise the caller gets the error with Error::retryAfter().
        const auto delay = retryAfterDelay(a->header("Retry-After"), QDateTime::currentDateTimeUtc());
        if (delay && *delay <= kMaxRetryAfter && isIdempotent(method) && !retriedAfterDelay) {
            qCDebug(lcHttp) << status << "with Retry-After: trying once more in" << delay->count() << "s";
            retriedAfterDelay = true;
            if (!retryTimer) {
                retryTimer = new QTimer(q);
                retryTimer->setSingleShot(true);
                QObject::connect(retryTimer, &QTimer::timeout, q, [this] { hop(); });
            }
            retryTimer->start(std::chrono::duration_cast<std::chrono::milliseconds>(*delay));
            return;
        }
    }

    if (status >= 400) {
        const BearerChallenge challenge = bearerChallenge(a->header("WWW-Authenticate"), scheme);
        return finishFromEventLoop(httpError(challenge.error, challenge.description));
    }
    finishFromEventLoop(Error());
}

} // namespace Keyloop
