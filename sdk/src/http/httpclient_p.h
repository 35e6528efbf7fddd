// SPDX-License-Identifier: MIT
// HttpClient's private state: the credential bindings and the replies it started.
#pragma once

#include <keyloop/credential.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>

#include "http/apilocation_p.h"

#include <QtCore/QPointer>

namespace Keyloop {

class HttpClientPrivate
{
public:
    struct Binding
    {
        QPointer<Credential> credential;
        ApiLocation location;
    };

    HttpClient *q = nullptr;
    QNetworkAccessManager *nam = nullptr;
    TransportOptions options;
    qint64 maxRequestBodySize = 8 * 1024 * 1024;
    QList<Binding> bindings;
    QList<QPointer<HttpReply>> replies;

    /// The credential bound to the most specific location of \a bindings containing \a url
    /// (normalized).
    static Credential *credentialFor(const QList<Binding> &bindings, const QUrl &url);
    HttpReply *send(const QNetworkRequest &request, const QByteArray &method, const HttpBody &body);
    /// The bytes of \a body (a device is read to its end, at most \a limit bytes).
    static QByteArray readBody(const HttpBody &body, qint64 limit, Error *error);
};

} // namespace Keyloop
