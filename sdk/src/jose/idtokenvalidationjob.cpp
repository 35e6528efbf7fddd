// SPDX-License-Identifier: MIT
#include <keyloop/idtokenvalidationjob.h>

#include <keyloop/jwkscache.h>

#include "core/logging_p.h"

#include <QtCore/QPointer>

namespace Keyloop {

class IdTokenValidationJobPrivate
{
public:
    IdTokenValidationJob *q = nullptr;
    IdTokenValidator validator;
    QPointer<JwksCache> cache;
    QUrl jwksUri;
    QByteArray token;
    IdTokenExpectations expectations;
    IdTokenClaims claims;
    bool refetched = false;

    void dropToken()
    {
        // The token is not needed any more: drop it early.
        token.fill('\0');
        token.clear();
    }

    void finish(const Error &e)
    {
        if (q->isFinished())
            return;
        if (e)
            claims = IdTokenClaims();
        dropToken();
        q->emitResult(e);
    }

    bool tryValidate(const JsonWebKeySet &keys, Error *e)
    {
        std::optional<IdTokenClaims> result = validator.validate(token, keys, expectations, e);
        if (result)
            claims = *result;
        return result.has_value();
    }

    void onKeys(const JwksCache::KeysResult &result)
    {
        if (q->isFinished())
            return; // cancelled
        if (result.error)
            return finish(result.error);
        Error e;
        if (tryValidate(result.keys, &e))
            return finish(Error());
        if (e.code() != Error::Code::JoseKeyNotFound || !cache)
            return finish(e);
        // OIDC Core §10.1.1: the provider may have rotated its keys; refetch once (rate-limited).
        qCDebug(lcJose) << "ID token key not in the JWKS; asking for a refetch";
        cache->refreshForUnknownKey(jwksUri, q, [this](const JwksCache::KeysResult &again) {
            onRefetched(again);
        });
    }

    void onRefetched(const JwksCache::KeysResult &result)
    {
        if (q->isFinished())
            return; // cancelled
        if (result.error)
            return finish(result.error);
        refetched = result.fetched;
        Error e;
        if (tryValidate(result.keys, &e))
            return finish(Error());
        if (e.code() == Error::Code::JoseKeyNotFound && !result.fetched)
            e = Error(Error::Code::JoseKeyNotFound,
                      QStringLiteral("OIDC Core §10.1: no key in the JWKS matches, and a refetch was made too recently"));
        finish(e);
    }
};

IdTokenValidationJob::IdTokenValidationJob(const IdTokenValidator &validator, JwksCache *cache,
                                           const QUrl &jwksUri, const QByteArray &idToken,
                                           const IdTokenExpectations &expectations, QObject *parent)
    : Job(parent), d(new IdTokenValidationJobPrivate)
{
    d->q = this;
    d->validator = validator;
    d->cache = cache;
    d->jwksUri = jwksUri;
    d->token = idToken;
    d->expectations = expectations;
}

IdTokenValidationJob::~IdTokenValidationJob() = default;

void IdTokenValidationJob::doStart()
{
    if (!d->cache)
        return d->finish(Error(Error::Code::InvalidConfiguration, QStringLiteral("no JWKS cache")));
    d->cache->keys(d->jwksUri, this, [this](const JwksCache::KeysResult &result) { d->onKeys(result); });
}

void IdTokenValidationJob::doCancel() { d->dropToken(); }

IdTokenClaims IdTokenValidationJob::claims() const { return d->claims; }
bool IdTokenValidationJob::keysWereRefetched() const { return d->refetched; }

} // namespace Keyloop
