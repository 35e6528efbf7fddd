// SPDX-License-Identifier: MIT
#include "http/apilocation_p.h"

#include "network/httpexchange_p.h"

namespace Keyloop {

namespace {

int defaultPort(const QString &scheme)
{
    return scheme == QLatin1String("https") ? 443 : scheme == QLatin1String("http") ? 80 : -1;
}

QString encodedPath(const QUrl &url)
{
    const QString path = url.path(QUrl::FullyEncoded);
    return path.isEmpty() ? QStringLiteral("/") : path;
}

bool hasDotSegment(const QString &encodedPath)
{
    const QStringList segments = encodedPath.split(QLatin1Char('/'));
    for (const QString &segment : segments) {
        if (!segment.contains(QLatin1Char('%')) && segment != QLatin1String(".") && segment != QLatin1String(".."))
            continue;
        const QByteArray decoded = QByteArray::fromPercentEncoding(segment.toLatin1());
        if (decoded == "." || decoded == "..")
            return true;
    }
    return false;
}

} // namespace

ApiLocation ApiLocation::fromUrl(const QUrl &url, const TransportOptions &options, Error *error)
{
    const auto refuse = [error](const QString &why) {
        if (error)
            *error = Error(Error::Code::CredentialNotAllowed, QStringLiteral("API location refused: %1").arg(why));
        return ApiLocation();
    };
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return refuse(QStringLiteral("not an absolute URL with a host"));
    if (!url.userInfo().isEmpty())
        return refuse(QStringLiteral("it must not contain user information"));
    if (url.hasQuery() || url.hasFragment())
        return refuse(QStringLiteral("a location is a scheme, host, port and path, without a query or fragment"));
    // RFC 6750 §5.3: a bearer token only ever travels over TLS; the development opt-in allows
    // plain http to this machine and nowhere else.
    if (const Error e = checkEndpointUrl(url, options, QStringLiteral("an API location")))
        return refuse(e.message());
    const QString path = encodedPath(url);
    if (hasDotSegment(path) || path != encodedPath(url.adjusted(QUrl::NormalizePathSegments)))
        return refuse(QStringLiteral("the path has dot segments"));

    ApiLocation location;
    location.m_scheme = url.scheme().toLower();
    location.m_host = url.host().toLower();
    location.m_port = url.port(defaultPort(location.m_scheme));
    location.m_path = path;
    while (location.m_path.endsWith(QLatin1Char('/')))
        location.m_path.chop(1);
    if (error)
        *error = Error();
    return location;
}

bool ApiLocation::contains(const QUrl &url) const
{
    if (!isValid() || !url.isValid())
        return false;
    const QString scheme = url.scheme().toLower();
    if (scheme != m_scheme || url.host().toLower() != m_host || url.port(defaultPort(scheme)) != m_port)
        return false;
    const QString path = encodedPath(url);
    if (hasDotSegment(path))
        return false;
    if (m_path.isEmpty())
        return true;
    // Segment-aware: "/api" is "/api" itself or "/api/…", never "/apix".
    return path == m_path || (path.startsWith(m_path) && path.at(m_path.size()) == QLatin1Char('/'));
}

QUrl ApiLocation::normalizedRequestUrl(const QUrl &url)
{
    return url.adjusted(QUrl::RemoveFragment | QUrl::NormalizePathSegments);
}

bool ApiLocation::sameOrigin(const QUrl &a, const QUrl &b)
{
    const QString scheme = a.scheme().toLower();
    return scheme == b.scheme().toLower() && a.host().toLower() == b.host().toLower()
        && a.port(defaultPort(scheme)) == b.port(defaultPort(scheme));
}

} // namespace Keyloop
