// SPDX-License-Identifier: MIT
#include <keyloop/discoveryjob.h>

#include "core/logging_p.h"

#include "network/httpexchange_p.h"
#include "network/httpfreshness_p.h"

#include <QtCore/QMetaObject>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkAccessManager>

namespace Keyloop {

class DiscoveryJobPrivate
{
public:
    explicit DiscoveryJobPrivate(DiscoveryJob *job) : q(job) {}
    void run();
    void tryNext();
    void onExchangeFinished(HttpExchange *exchange);
    void complete(const Error &error);

    DiscoveryJob *q;
    QPointer<QNetworkAccessManager> nam;
    QUrl issuer;
    TransportOptions options;
    const Clock *clock = Clock::system();
    ProviderConfiguration configuration;
    Error firstError;
    QList<QUrl> candidates;
    QPointer<HttpExchange> exchange;
};

namespace {

QString issuerPathWithoutTrailingSlash(const QUrl &issuer)
{
    QString path = issuer.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    return path;
}

// OIDC Discovery 1.0 §4: "{issuer}/.well-known/openid-configuration", any terminating "/"
// of the issuer removed first.
QUrl openIdConfigurationUrl(const QUrl &issuer)
{
    QUrl url = issuer;
    url.setPath(issuerPathWithoutTrailingSlash(issuer) + QStringLiteral("/.well-known/openid-configuration"),
                QUrl::StrictMode);
    return url;
}

// RFC 8414 §3.1: the well-known suffix is inserted between the host and the issuer's path.
QUrl authorizationServerMetadataUrl(const QUrl &issuer)
{
    QUrl url = issuer;
    url.setPath(QStringLiteral("/.well-known/oauth-authorization-server") + issuerPathWithoutTrailingSlash(issuer),
                QUrl::StrictMode);
    return url;
}

// Failures after which the other well-known location is worth trying: the document is
// absent or unusable there. Transport, TLS and security failures are final.
bool allowsFallback(const Error &error)
{
    switch (error.code()) {
    case Error::Code::HttpError:
    case Error::Code::UnexpectedRedirect:
    case Error::Code::MalformedResponse:
    case Error::Code::DuplicateParameter:
    case Error::Code::MissingParameter:
        return true;
    default:
        return false;
    }
}

} // namespace

DiscoveryJob::DiscoveryJob(QNetworkAccessManager *nam, const QUrl &issuer, const TransportOptions &options,
                           QObject *parent)
    : Job(parent), d(new DiscoveryJobPrivate(this))
{
    d->nam = nam;
    d->issuer = issuer;
    d->options = options;
}

DiscoveryJob::~DiscoveryJob()
{
    if (d->exchange)
        d->exchange->abort();
}

void DiscoveryJob::doStart() { d->run(); }

void DiscoveryJobPrivate::run()
{
    Error e = checkEndpointUrl(issuer, options, QStringLiteral("issuer"));
    if (!e && issuer.hasQuery())
        e = Error(Error::Code::InvalidConfiguration,
                  QStringLiteral("issuer must not have a query component (RFC 8414 §2)"));
    if (!e && !nam)
        e = Error(Error::Code::InvalidConfiguration, QStringLiteral("no QNetworkAccessManager"));
    if (e) {
        complete(e);
        return;
    }
    candidates = {openIdConfigurationUrl(issuer), authorizationServerMetadataUrl(issuer)};
    qCDebug(lcDiscovery) << "discovery started for" << issuer.host() << issuer.path();
    tryNext();
}

void DiscoveryJobPrivate::tryNext()
{
    const QUrl url = candidates.takeFirst();
    HttpExchange *ex = HttpExchange::get(nam, url, options, {}, q);
    exchange = ex;
    QObject::connect(ex, &HttpExchange::finished, q, [this, ex] { onExchangeFinished(ex); });
}

void DiscoveryJobPrivate::onExchangeFinished(HttpExchange *ex)
{
    exchange = nullptr;
    Error e = ex->error();
    if (!e) {
        const int status = ex->status();
        if (status != 200) {
            e = Error(Error::Code::HttpError,
                      QStringLiteral("no discovery document at %1 (HTTP %2)").arg(ex->url().path()).arg(status))
                    .setHttpStatus(status);
        } else {
            configuration = ProviderConfiguration::fromJson(ex->body(), issuer, options, &e);
            if (!e) {
                // RFC 9111 §4.2, bounded (network/httpfreshness_p.h). no-store: fresh for no time,
                // so a remembered copy is used only when discovery fails.
                bool noStore = false;
                const auto now = clock->now();
                const std::chrono::seconds lifetime = HttpFreshness::lifetime(
                    ex->rawHeader(QByteArrayLiteral("Cache-Control")), ex->rawHeader(QByteArrayLiteral("Expires")), now,
                    HttpFreshness::kDefaultLifetime, HttpFreshness::kMinimumLifetime, HttpFreshness::kMaximumLifetime,
                    &noStore);
                const qint64 nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
                configuration.setExpiresAt(QDateTime::fromMSecsSinceEpoch(
                    nowMs + (noStore ? 0 : std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count()), Qt::UTC));
            }
        }
    }
    if (e && allowsFallback(e) && !candidates.isEmpty()) {
        // RFC 8414 §5: an OpenID Provider publishes openid-configuration; a plain OAuth 2.0
        // authorization server publishes oauth-authorization-server.
        qCDebug(lcDiscovery) << "discovery document unusable at" << ex->url().path() << e.code()
                             << "- trying the RFC 8414 location";
        firstError = e;
        tryNext();
        return;
    }
    if (e) {
        configuration = ProviderConfiguration();
        // Report the more informative of the two failures: a broken document beats a plain
        // "not found" at the other location.
        if (e.code() == Error::Code::HttpError && firstError && firstError.code() != Error::Code::HttpError)
            e = firstError;
        qCDebug(lcDiscovery) << "discovery failed:" << e.code();
    } else {
        qCDebug(lcDiscovery) << "discovery succeeded at" << ex->url().path();
    }
    complete(e);
}

void DiscoveryJobPrivate::complete(const Error &e)
{
    q->emitResult(e);
}

void DiscoveryJob::doCancel()
{
    d->configuration = ProviderConfiguration();
    if (d->exchange) {
        d->exchange->disconnect(this);
        d->exchange->abort();
        d->exchange = nullptr;
    }
}

QUrl DiscoveryJob::issuer() const { return d->issuer; }
const Clock *DiscoveryJob::clock() const { return d->clock; }
void DiscoveryJob::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }
ProviderConfiguration DiscoveryJob::configuration() const { return d->configuration; }

} // namespace Keyloop
