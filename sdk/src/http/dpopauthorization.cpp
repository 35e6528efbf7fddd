// SPDX-License-Identifier: MIT
#include "http/dpopauthorization_p.h"

#include "core/logging_p.h"

namespace Keyloop::DpopAuthorization {

namespace {
const QByteArray kBearerPrefix = QByteArrayLiteral("Bearer ");
const QByteArray kDpopPrefix = QByteArrayLiteral("DPoP ");
} // namespace

bool isDpopType(const QString &tokenType)
{
    return tokenType.compare(QLatin1String("DPoP"), Qt::CaseInsensitive) == 0;
}

QByteArray headerValue(const QString &tokenType, const DpopKey &key, const QByteArray &token)
{
    return (isDpopType(tokenType) && !key.isNull() ? kDpopPrefix : kBearerPrefix) + token;
}

bool isDpopValue(const QByteArray &headerValue)
{
    return headerValue.startsWith(kDpopPrefix);
}

QByteArray tokenOf(const QByteArray &headerValue)
{
    if (headerValue.startsWith(kDpopPrefix))
        return headerValue.mid(kDpopPrefix.size());
    if (headerValue.startsWith(kBearerPrefix))
        return headerValue.mid(kBearerPrefix.size());
    return {};
}

Credential::HeaderList proofHeaders(const DpopKey &key, const QByteArray &method, const QUrl &url,
                                    const QByteArray &headerValue, const QDateTime &now)
{
    if (key.isNull() || !isDpopValue(headerValue))
        return {};
    const QByteArray proof = key.createProof(method, url, now, tokenOf(headerValue), key.nonce(url));
    if (proof.isEmpty())
        qCWarning(lcHttp) << "could not make a DPoP proof for the request";
    return {{QByteArrayLiteral("DPoP"), proof}}; // an empty value fails the request
}

void rememberNonce(const DpopKey &key, const QUrl &url, const Credential::HeaderList &headers)
{
    if (key.isNull())
        return;
    for (const auto &[name, value] : headers) {
        if (name.compare("DPoP-Nonce", Qt::CaseInsensitive) == 0 && !key.setNonce(url, value))
            qCDebug(lcHttp) << "ignored a malformed DPoP-Nonce";
    }
}

} // namespace Keyloop::DpopAuthorization
