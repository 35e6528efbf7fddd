// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/clock.h>
#include <keyloop/error.h>
#include <keyloop/jsonwebkeyset.h>
#include <keyloop/transportoptions.h>

#include <QtCore/QDateTime>
#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

class JwksCachePrivate;

/*!
 * \brief Caches providers' JWK Sets (the `jwks_uri` document, OIDC Discovery §3), one entry per
 * jwks_uri — that is, per issuer.
 *
 * - Freshness follows the HTTP response (RFC 9111): `Cache-Control: max-age` (preferred), else
 *   `Expires`; without either, defaultLifetime() (1 h). The lifetime is bounded to
 *   [minimumLifetime(), maximumLifetime()] (5 min … 24 h) so that a hostile or misconfigured
 *   server can neither make every sign-in refetch nor pin old keys for ever.
 *   `Cache-Control: no-store` keys are used for the requests that were waiting and not kept.
 * - Key rotation (OIDC Core §10.1.1): refreshForUnknownKey() refetches when a token names a kid
 *   the cached set lacks, but at most once per minimumRefetchInterval() (30 s) per jwks_uri, so
 *   a stream of tokens with made-up kids cannot hammer the provider.
 * - Concurrent requests share one fetch.
 *
 * Callbacks run exactly once, queued (never from inside the call), in the thread of
 * \a context, and are dropped if \a context is destroyed first.
 *
 * The fetching itself is a Fetcher (by default an HTTPS GET with the SDK's transport rules), so
 * that tests can count fetches without a network.
 */
class KEYLOOP_EXPORT JwksCache : public QObject
{
    Q_OBJECT
public:
    /// One fetch of a jwks_uri as the fetcher saw it.
    struct FetchResult
    {
        Error error;              ///< transport error (network, TLS, timeout, redirect, too large)
        int httpStatus = 0;       ///< the HTTP status; only 200 is accepted
        QByteArray body;          ///< the response body: the JWKS document
        QByteArray cacheControl;  ///< the Cache-Control header, empty when absent
        QByteArray expires;       ///< the Expires header, empty when absent
    };
    /// Called by a Fetcher, once, with the result of its GET.
    using FetchCallback = std::function<void(const FetchResult &result)>;
    /// Performs one GET of \a jwksUri and calls \a done exactly once (it may be called later,
    /// from the event loop). \a context is the cache itself: stop when it is destroyed.
    using Fetcher = std::function<void(const QUrl &jwksUri, QObject *context, FetchCallback done)>;

    /// The answer of keys() and refreshForUnknownKey().
    struct KeysResult
    {
        JsonWebKeySet keys;       ///< the keys; after a failed fetch, the cached set if there is one
        Error error;              ///< why the fetch failed (transport, HTTP status, JWKS parsing); null on success
        bool fetched = false;     ///< true when this answer comes from a fetch made for the request
    };
    /// Called once, queued, with the answer of keys() or refreshForUnknownKey().
    using KeysCallback = std::function<void(const KeysResult &result)>;

    /// A cached set as it can be kept elsewhere (Session remembers it with the stored session,
    /// not secret): the JWKS document as fetched, and when it stops being fresh.
    struct CachedSet
    {
        QByteArray document; ///< the JWKS document (JSON), as the jwks_uri served it
        QDateTime expiresAt; ///< when the set stops being fresh (UTC)
    };

    /// Fetches with HTTPS GET through \a nam (not owned) under \a options.
    JwksCache(QNetworkAccessManager *nam, const TransportOptions &options, QObject *parent = nullptr);
    /// Fetches through \a fetcher (tests, or an app's own transport).
    explicit JwksCache(Fetcher fetcher, QObject *parent = nullptr);
    ~JwksCache() override;

    /// The clock that decides freshness (not owned). Default Clock::system().
    const Clock *clock() const;
    /// Sets clock(); nullptr: Clock::system().
    void setClock(const Clock *clock);

    /// The least time between two refetches of one jwks_uri for an unknown key. Default 30 s.
    std::chrono::seconds minimumRefetchInterval() const;
    /// Sets minimumRefetchInterval().
    void setMinimumRefetchInterval(std::chrono::seconds interval);
    /// The lifetime of a set whose response has neither max-age nor Expires. Default 1 hour.
    std::chrono::seconds defaultLifetime() const;
    /// Sets defaultLifetime().
    void setDefaultLifetime(std::chrono::seconds lifetime);
    /// The shortest lifetime a cached set gets. Default 5 minutes.
    std::chrono::seconds minimumLifetime() const;
    /// Sets minimumLifetime().
    void setMinimumLifetime(std::chrono::seconds lifetime);
    /// The longest lifetime a cached set gets. Default 24 hours.
    std::chrono::seconds maximumLifetime() const;
    /// Sets maximumLifetime().
    void setMaximumLifetime(std::chrono::seconds lifetime);

    /// The keys for \a jwksUri: the cached set while fresh, else a (shared) fetch.
    void keys(const QUrl &jwksUri, QObject *context, KeysCallback callback);
    /// After a JoseKeyNotFound: one refetch unless the last such refetch of \a jwksUri started less than
    /// minimumRefetchInterval() ago; then the answer has fetched == false and the cached keys.
    void refreshForUnknownKey(const QUrl &jwksUri, QObject *context, KeysCallback callback);

    /// The cached set if present and fresh.
    std::optional<JsonWebKeySet> cachedKeys(const QUrl &jwksUri) const;
    /// The cached set of \a jwksUri as fetched, if present and fresh (for keeping it elsewhere).
    std::optional<CachedSet> cachedSet(const QUrl &jwksUri) const;
    /*!
     * Seeds the cache for \a jwksUri with a set kept elsewhere (cachedSet() of an earlier run),
     * so that a restarted app verifies tokens without fetching the keys. Ignored (returns false)
     * when the set has expired, expires later than maximumLifetime() from now (a tampered copy
     * cannot pin keys), does not parse, or the cache already holds a set as fresh. A kid the set
     * lacks still triggers refreshForUnknownKey()'s one rate-limited refetch.
     */
    bool insertCachedSet(const QUrl &jwksUri, const CachedSet &set);
    /// Number of fetches started since construction (diagnostics, tests).
    int fetchCount() const;
    /// Forgets every cached set (in-flight fetches still complete).
    void clear();

private:
    std::unique_ptr<JwksCachePrivate> d;
};

} // namespace Keyloop
