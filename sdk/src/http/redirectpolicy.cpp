// SPDX-License-Identifier: MIT
#include "http/redirectpolicy_p.h"

#include "http/apilocation_p.h"
#include "network/httpexchange_p.h"

namespace Keyloop {

RedirectStep nextRedirect(int status, const QByteArray &location, const QUrl &from, const QByteArray &method,
                          int redirectsSoFar, const TransportOptions &options)
{
    RedirectStep step;
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return step;
    const QByteArray trimmed = location.trimmed();
    if (trimmed.isEmpty())
        return step; // a 3xx without a Location is a final answer (RFC 9110 §10.2.2)
    const auto refuse = [&step, status](const QString &why) {
        step.error = Error(Error::Code::UnexpectedRedirect, why).setHttpStatus(status);
        return step;
    };
    // RFC 9110 §10.2.2: a URI reference, resolved against the request's URL.
    const QUrl reference = QUrl::fromEncoded(trimmed, QUrl::StrictMode);
    if (!reference.isValid())
        return refuse(QStringLiteral("the redirect's Location is not a valid URL; not followed"));
    const QUrl target = ApiLocation::normalizedRequestUrl(from.resolved(reference));
    if (redirectsSoFar >= kMaxRedirects)
        return refuse(QStringLiteral("more than %1 redirects in a row; not followed").arg(kMaxRedirects));
    if (from.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0
        && target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) != 0)
        return refuse(QStringLiteral("a redirect from https to plain http is never followed"));
    if (const Error e = checkEndpointUrl(target, options, QStringLiteral("the redirect target")))
        return refuse(QStringLiteral("redirect not followed: %1").arg(e.message()));

    step.follow = true;
    step.target = target;
    step.method = method;
    if ((status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST")) {
        step.method = QByteArrayLiteral("GET");
        step.keepBody = false;
    }
    step.crossOrigin = !ApiLocation::sameOrigin(from, target);
    return step;
}

} // namespace Keyloop
