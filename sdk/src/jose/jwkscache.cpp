// SPDX-License-Identifier: MIT
#include <keyloop/jwkscache.h>

#include "core/logging_p.h"

#include "network/httpexchange_p.h"
#include "network/httpfreshness_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QPointer>

#include <algorithm>

namespace Keyloop {

namespace {

struct Waiter
{
    QPointer<QObject> context;
    bool hasContext = false;
    JwksCache::KeysCallback callback;
};

struct Entry
{
    std::optional<JsonWebKeySet> keys;
    QByteArray document; ///< the JWKS document the keys were parsed from (cachedSet())
    std::chrono::system_clock::time_point expiresAt{};
    std::optional<std::chrono::system_clock::time_point> lastRefetch; ///< last refetch for an unknown kid
    bool fetching = false;
    QList<Waiter> waiters;
};

} // namespace

class JwksCachePrivate
{
public:
    JwksCache *q = nullptr;
    JwksCache::Fetcher fetcher;
    const Clock *clock = Clock::system();
    std::chrono::seconds minRefetch{30};
    std::chrono::seconds defaultLifetime = HttpFreshness::kDefaultLifetime;
    std::chrono::seconds minLifetime = HttpFreshness::kMinimumLifetime;
    std::chrono::seconds maxLifetime = HttpFreshness::kMaximumLifetime;
    QHash<QUrl, Entry> entries;
    int fetchCount = 0;

    void deliver(QObject *context, bool hasContext, const JwksCache::KeysCallback &callback,
                 const JwksCache::KeysResult &result)
    {
        QObject *target = context ? context : q;
        if (hasContext && !context)
            return; // the caller's context is gone
        QMetaObject::invokeMethod(target, [callback, result] { callback(result); }, Qt::QueuedConnection);
    }

    void startFetch(const QUrl &uri);
    void onFetched(const QUrl &uri, const JwksCache::FetchResult &result);
};

JwksCache::JwksCache(QNetworkAccessManager *nam, const TransportOptions &options, QObject *parent)
    : JwksCache(Fetcher([nam, options](const QUrl &uri, QObject *context, FetchCallback done) {
          HttpExchange *exchange = HttpExchange::get(nam, uri, options,
                                                     {{QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json")}},
                                                     context);
          QObject::connect(exchange, &HttpExchange::finished, context, [exchange, done] {
              FetchResult result;
              result.error = exchange->error();
              result.httpStatus = exchange->status();
              result.body = exchange->body();
              result.cacheControl = exchange->rawHeader(QByteArrayLiteral("Cache-Control"));
              result.expires = exchange->rawHeader(QByteArrayLiteral("Expires"));
              done(result);
          });
      }), parent)
{
}

JwksCache::JwksCache(Fetcher fetcher, QObject *parent)
    : QObject(parent), d(new JwksCachePrivate)
{
    d->q = this;
    d->fetcher = std::move(fetcher);
}

JwksCache::~JwksCache()
{
    // The callback contract: every waiting caller whose context still exists hears once.
    const Error cancelled(Error::Code::Cancelled, QStringLiteral("the JWKS cache was destroyed"));
    for (Entry &entry : d->entries) {
        for (const Waiter &w : std::as_const(entry.waiters)) {
            if (w.context)
                d->deliver(w.context, true, w.callback, KeysResult{JsonWebKeySet(), cancelled, false});
        }
        entry.waiters.clear();
    }
}

const Clock *JwksCache::clock() const { return d->clock; }
void JwksCache::setClock(const Clock *clock) { d->clock = clock ? clock : Clock::system(); }
std::chrono::seconds JwksCache::minimumRefetchInterval() const { return d->minRefetch; }
void JwksCache::setMinimumRefetchInterval(std::chrono::seconds interval) { d->minRefetch = interval; }
std::chrono::seconds JwksCache::defaultLifetime() const { return d->defaultLifetime; }
void JwksCache::setDefaultLifetime(std::chrono::seconds lifetime) { d->defaultLifetime = lifetime; }
std::chrono::seconds JwksCache::minimumLifetime() const { return d->minLifetime; }
void JwksCache::setMinimumLifetime(std::chrono::seconds lifetime) { d->minLifetime = lifetime; }
std::chrono::seconds JwksCache::maximumLifetime() const { return d->maxLifetime; }
void JwksCache::setMaximumLifetime(std::chrono::seconds lifetime) { d->maxLifetime = lifetime; }
int JwksCache::fetchCount() const { return d->fetchCount; }

void JwksCache::clear()
{
    for (Entry &entry : d->entries) {
        entry.keys.reset();
        entry.document.clear();
    }
}

std::optional<JwksCache::CachedSet> JwksCache::cachedSet(const QUrl &jwksUri) const
{
    const auto it = d->entries.constFind(jwksUri);
    if (it == d->entries.cend() || !it->keys || it->document.isEmpty() || d->clock->now() >= it->expiresAt)
        return std::nullopt;
    const qint64 ms = std::chrono::duration_cast<std::chrono::milliseconds>(it->expiresAt.time_since_epoch()).count();
    return CachedSet{it->document, QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC)};
}

bool JwksCache::insertCachedSet(const QUrl &jwksUri, const CachedSet &set)
{
    if (!set.expiresAt.isValid())
        return false;
    const auto now = d->clock->now();
    const auto expiresAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(set.expiresAt.toMSecsSinceEpoch()));
    // Never beyond what a fetch now could give it: a tampered or future-dated record cannot pin keys.
    if (expiresAt <= now || expiresAt > now + std::max(d->minLifetime, d->maxLifetime))
        return false;
    Entry &entry = d->entries[jwksUri];
    if (entry.keys && entry.expiresAt >= expiresAt)
        return false; // what the cache holds is as fresh or fresher
    std::optional<JsonWebKeySet> keys = JsonWebKeySet::fromJson(set.document);
    if (!keys)
        return false;
    entry.keys = *keys;
    entry.document = set.document;
    entry.expiresAt = expiresAt;
    qCDebug(lcJose) << "JWKS seeded from a remembered copy:" << keys->size() << "usable keys";
    return true;
}

std::optional<JsonWebKeySet> JwksCache::cachedKeys(const QUrl &jwksUri) const
{
    const auto it = d->entries.constFind(jwksUri);
    if (it == d->entries.cend() || !it->keys || d->clock->now() >= it->expiresAt)
        return std::nullopt;
    return it->keys;
}

void JwksCache::keys(const QUrl &jwksUri, QObject *context, KeysCallback callback)
{
    Entry &entry = d->entries[jwksUri];
    if (entry.keys && d->clock->now() < entry.expiresAt && !entry.fetching) {
        d->deliver(context, context != nullptr, callback, KeysResult{*entry.keys, Error(), false});
        return;
    }
    entry.waiters.append(Waiter{context, context != nullptr, std::move(callback)});
    if (!entry.fetching)
        d->startFetch(jwksUri);
}

void JwksCache::refreshForUnknownKey(const QUrl &jwksUri, QObject *context, KeysCallback callback)
{
    Entry &entry = d->entries[jwksUri];
    if (entry.fetching) { // share the fetch in flight
        entry.waiters.append(Waiter{context, context != nullptr, std::move(callback)});
        return;
    }
    const auto now = d->clock->now();
    // OIDC Core §10.1.1 allows refetching on an unknown kid; rate-limit it per jwks_uri.
    // Only refetches for unknown kids count: a sign-in right after a regular fetch must still
    // be able to pick up a rotation.
    if (entry.lastRefetch && now - *entry.lastRefetch < d->minRefetch && now >= *entry.lastRefetch) {
        qCDebug(lcJose) << "JWKS refetch skipped: rate-limited";
        d->deliver(context, context != nullptr, callback,
                   KeysResult{entry.keys.value_or(JsonWebKeySet()), Error(), false});
        return;
    }
    entry.lastRefetch = now;
    entry.waiters.append(Waiter{context, context != nullptr, std::move(callback)});
    d->startFetch(jwksUri);
}

void JwksCachePrivate::startFetch(const QUrl &uri)
{
    Entry &entry = entries[uri];
    entry.fetching = true;
    ++fetchCount;
    qCDebug(lcJose) << "JWKS fetch started for" << uri.host() << uri.path();
    QPointer<JwksCache> guard(q);
    fetcher(uri, q, [guard, self = this, uri](const JwksCache::FetchResult &result) {
        if (guard) // the private part lives as long as the cache
            self->onFetched(uri, result);
    });
}

void JwksCachePrivate::onFetched(const QUrl &uri, const JwksCache::FetchResult &result)
{
    Entry &entry = entries[uri];
    entry.fetching = false;
    JwksCache::KeysResult answer;
    answer.fetched = true;
    if (result.error) {
        answer.error = result.error;
    } else if (result.httpStatus != 200) {
        answer.error = Error(Error::Code::HttpError, QStringLiteral("jwks_uri answered with an unexpected HTTP status"))
                           .setHttpStatus(result.httpStatus);
    } else {
        Error parseError;
        std::optional<JsonWebKeySet> set = JsonWebKeySet::fromJson(result.body, &parseError);
        if (!set) {
            answer.error = parseError;
        } else {
            answer.keys = *set;
            bool noStore = false;
            const std::chrono::seconds lifetime = HttpFreshness::lifetime(
                result.cacheControl, result.expires, clock->now(), defaultLifetime, minLifetime, maxLifetime, &noStore);
            if (noStore) {
                entry.keys.reset();
                entry.document.clear();
            } else {
                entry.keys = *set;
                entry.document = result.body;
                entry.expiresAt = clock->now() + lifetime;
            }
            qCDebug(lcJose) << "JWKS fetched:" << set->size() << "usable keys," << set->skippedKeyCount() << "skipped";
        }
    }
    if (answer.error && entry.keys)
        answer.keys = *entry.keys; // keep what we had; the caller decides
    const QList<Waiter> waiters = std::exchange(entry.waiters, {});
    for (const Waiter &w : waiters)
        deliver(w.context.data(), w.hasContext, w.callback, answer);
}

} // namespace Keyloop
