// SPDX-License-Identifier: MIT
// The provider cache remembered with a session (SessionRecord::providerCache()): how fresh the
// remembered discovery document is, and the provider's JWKS. Private to the SDK.
#pragma once

#include <keyloop/jwkscache.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>

namespace Keyloop::ProviderCache {

inline QDateTime timeOf(const QJsonObject &cache, const QString &name)
{
    const QJsonValue v = cache.value(name);
    return v.isDouble() && v.toDouble() > 0 ? QDateTime::fromMSecsSinceEpoch(qint64(v.toDouble()), Qt::UTC) : QDateTime();
}

/// What to remember for \a provider: its discovery expiry, and the keys \a jwks holds fresh for
/// its jwks_uri (nothing when the cache has none: the next start fetches them).
inline QJsonObject encode(const ProviderConfiguration &provider, const JwksCache *jwks)
{
    QJsonObject cache;
    if (provider.expiresAt().isValid())
        cache.insert(QStringLiteral("discovery_expires_at"), double(provider.expiresAt().toMSecsSinceEpoch()));
    if (jwks && provider.jwksUri().isValid()) {
        if (const std::optional<JwksCache::CachedSet> set = jwks->cachedSet(provider.jwksUri())) {
            const QJsonObject document = QJsonDocument::fromJson(set->document).object();
            if (!document.isEmpty()) {
                cache.insert(QStringLiteral("jwks_uri"), provider.jwksUri().toString(QUrl::FullyEncoded));
                cache.insert(QStringLiteral("jwks"), document);
                cache.insert(QStringLiteral("jwks_expires_at"), double(set->expiresAt.toMSecsSinceEpoch()));
            }
        }
    }
    return cache;
}

/// The remembered discovery expiry, for a configuration parsed from the remembered metadata.
inline QDateTime discoveryExpiresAt(const QJsonObject &cache)
{
    return timeOf(cache, QStringLiteral("discovery_expires_at"));
}

/// Seeds \a jwks with the remembered keys when they belong to \a provider's jwks_uri and are
/// still fresh (JwksCache::insertCachedSet() checks the rest). True when seeded.
inline bool seedKeys(const QJsonObject &cache, const ProviderConfiguration &provider, JwksCache *jwks)
{
    if (!jwks || !provider.jwksUri().isValid()
        || QUrl(cache.value(QStringLiteral("jwks_uri")).toString(), QUrl::StrictMode) != provider.jwksUri())
        return false;
    const QJsonObject document = cache.value(QStringLiteral("jwks")).toObject();
    if (document.isEmpty())
        return false;
    return jwks->insertCachedSet(provider.jwksUri(), JwksCache::CachedSet{QJsonDocument(document).toJson(QJsonDocument::Compact),
                                                                         timeOf(cache, QStringLiteral("jwks_expires_at"))});
}

} // namespace Keyloop::ProviderCache
