// SPDX-License-Identifier: MIT
// HttpReply's private state: one logical request through its hops (credential, redirects, a
// replay after 401, a retry after Retry-After).
#pragma once

#include <keyloop/credential.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/transportoptions.h>

#include "http/httpclient_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkRequest>

namespace Keyloop {

class HttpAttempt;

class HttpReplyPrivate
{
public:
    explicit HttpReplyPrivate(HttpReply *reply);

    HttpReply *q;
    QPointer<HttpClient> client;
    QNetworkAccessManager *nam = nullptr;
    TransportOptions options;
    QNetworkRequest request;     ///< the caller's request (headers, TLS settings)
    QByteArray method;           ///< of the next/last request sent
    QUrl url;                    ///< of the next/last request sent (normalized)
    QByteArray body;
    bool hasBody = false;
    Error startError;            ///< known when the request was made: reported by doStart()

    QList<HttpClientPrivate::Binding> bindings; ///< the client's bindings when the request was made
    QPointer<Credential> credential; ///< chosen for the request's URL when it was made
    bool hadCredential = false;
    bool credentialThisHop = false;  ///< the request on the wire carries the credential
    bool crossedOrigin = false;      ///< a redirect left the origin: no credential any more
    QByteArray sentHeaderValue;      ///< what the credential gave for this hop (secret)
    int redirects = 0;
    bool replayedAfter401 = false;
    bool replayedForNonce = false;   ///< a 401 use_dpop_nonce was replayed (RFC 9449 §9)
    bool retriedAfterDelay = false;
    quint64 generation = 0;          ///< callbacks of an older hop (or after cancel) are ignored
    QMetaObject::Connection credentialGone;
    QPointer<HttpAttempt> attempt;
    /// The last attempt that finished (a child of q): deleted with q, not with deleteLater()
    /// — one posted event less per request (bench: client.overhead) — or at the next hop.
    HttpAttempt *spentAttempt = nullptr;
    QTimer *retryTimer = nullptr;    ///< made when a Retry-After is honoured

    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray responseBody;

    void hop();
    void send(const QByteArray &headerName, const QByteArray &headerValue);
    void onAttemptFinished(HttpAttempt *finished);
    Error httpError(const QString &bearerError, const QString &bearerDescription) const;
    void stopWork();
    void finish(const Error &error);
    void finishFromEventLoop(const Error &error);
};

} // namespace Keyloop
