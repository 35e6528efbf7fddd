// SPDX-License-Identifier: MIT
// A form POST prepared when a token-endpoint job is created and sent when it starts (token
// requests, RFC 6749 §3.2; revocation, RFC 7009 §2.1). The form holds secrets (a code, a
// verifier, a token, a client secret): they are wiped as soon as the request is handed over,
// and when the job is cancelled or destroyed.
#pragma once

#include "network/httpexchange_p.h"

#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>

namespace Keyloop {

struct PreparedFormPost
{
    QPointer<QNetworkAccessManager> nam;
    QUrl endpoint;
    FormFields form;
    HttpHeaders headers;
    TransportOptions options;
    Error immediateError; // a configuration error found while preparing: reported on start()
    QPointer<HttpExchange> exchange;

    /// The configuration error found while preparing, if any: then nothing will be sent, and the
    /// form is wiped now.
    Error takeImmediateError()
    {
        if (immediateError)
            wipe();
        return immediateError;
    }

    /// What to report for the finished exchange's transport failure \a error: a configuration
    /// one (an insecure or malformed endpoint URL) names \a endpoint (its metadata name, e.g.
    /// "token_endpoint") in front.
    static Error transportFailure(const Error &error, const char *endpoint)
    {
        if (error.code() == Error::Code::InvalidConfiguration || error.code() == Error::Code::InsecureEndpoint)
            return Error(error.code(), QLatin1String(endpoint) + QStringLiteral(": ") + error.message());
        return error;
    }

    void wipe()
    {
        for (auto &field : form)
            field.second.fill('\0');
        form.clear();
        headers.clear();
    }

    /// Posts the form (HttpExchange checks the endpoint, follows no redirect, applies the
    /// timeout and size limit, and reports asynchronously), then wipes it — unless
    /// \a keepForRetry (a request that may have to be sent again, e.g. with a DPoP nonce): then
    /// the owner wipes it when it is done.
    HttpExchange *send(QObject *parent, const HttpHeaders &extraHeaders = {}, bool keepForRetry = false)
    {
        exchange = HttpExchange::postForm(nam, endpoint, form, options, headers + extraHeaders, parent);
        if (!keepForRetry)
            wipe();
        return exchange;
    }

    /// Wipes the form and stops the request in flight without a word to \a owner.
    void abort(QObject *owner)
    {
        wipe();
        if (exchange) {
            exchange->disconnect(owner);
            exchange->abort();
            exchange = nullptr;
        }
    }
};

} // namespace Keyloop
