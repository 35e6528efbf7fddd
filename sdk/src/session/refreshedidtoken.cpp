// SPDX-License-Identifier: MIT
// Session: the checks on an ID token that comes with a refresh (OIDC Core §12.2).
#include "session/session_p.h"

#include <keyloop/idtokenclaims.h>
#include <keyloop/idtokenvalidationjob.h>
#include <keyloop/idtokenvalidator.h>
#include <keyloop/issueridentifier.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "jose/idtokenclaims_p.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace Keyloop {

namespace {

QStringList audienceOf(const QJsonValue &aud)
{
    QStringList list;
    if (aud.isString())
        list << aud.toString();
    else
        for (const QJsonValue &v : aud.toArray())
            list << v.toString();
    list.sort();
    return list;
}

// OIDC Core §12.2: a refreshed ID token must keep iss, sub, aud and azp (and auth_time, if
// present, still names the original authentication). A quick comparison on the payload,
// before any key is fetched; the full validation (signature and every §3.1.3.7 rule, with
// the same §12.2 comparison) follows with IdTokenValidationJob.
Error checkRefreshedIdToken(const QByteArray &idToken, const QJsonObject &original)
{
    const QList<QByteArray> parts = idToken.split('.');
    const auto payload = parts.size() == 3 ? Crypto::base64UrlDecode(parts.at(1)) : std::nullopt;
    QJsonParseError pe;
    const QJsonDocument doc = payload ? QJsonDocument::fromJson(*payload, &pe) : QJsonDocument();
    if (!payload || pe.error != QJsonParseError::NoError || !doc.isObject())
        return Error(Error::Code::JoseMalformed, QStringLiteral("OIDC Core 12.2: the refreshed ID token is not a JWS with a JSON payload"));
    const QJsonObject claims = doc.object();
    if (original.isEmpty())
        return {}; // plain OAuth 2.0 session that now gets an ID token: nothing to compare
    const auto mismatch = [](const char *claim) {
        return Error(Error::Code::IdTokenRefreshMismatch,
                     QStringLiteral("OIDC Core 12.2: the refreshed ID token changed %1").arg(QLatin1String(claim)));
    };
    if (claims.value(QStringLiteral("iss")) != original.value(QStringLiteral("iss")))
        return mismatch("iss");
    if (claims.value(QStringLiteral("sub")) != original.value(QStringLiteral("sub")))
        return mismatch("sub");
    if (audienceOf(claims.value(QStringLiteral("aud"))) != audienceOf(original.value(QStringLiteral("aud"))))
        return mismatch("aud");
    if (claims.value(QStringLiteral("azp")) != original.value(QStringLiteral("azp")))
        return mismatch("azp");
    // auth_time is a NumericDate (RFC 7519 §2): a JSON number that may be non-integer, compared
    // as a number (1700000000.5 is a valid auth_time; 1.7e9 and 1700000000 are the same time).
    // A non-number is left to the full validation, which refuses it as not a NumericDate.
    const QJsonValue authTime = claims.value(QStringLiteral("auth_time"));
    const QJsonValue originalAuthTime = original.value(QStringLiteral("auth_time"));
    if (authTime.isDouble() && originalAuthTime.isDouble() && authTime.toDouble() != originalAuthTime.toDouble())
        return mismatch("auth_time");
    return {};
}

// The original ID token's claims as IdTokenExpectations::previousClaims() for the §12.2
// comparison. A refresh has no authentication request, so no login nonce is expected; a nonce
// the refreshed token carries must be the original's (OIDC Core §12.2), which can be checked
// only when the original nonce is known (SessionRecord keeps iss, sub, aud, azp, auth_time, nonce).
IdTokenClaims previousClaimsFrom(const QJsonObject &original)
{
    auto *p = new IdTokenClaimsPrivate;
    IdTokenClaims claims = IdTokenClaimsPrivate::create(p);
    p->payload = QJsonDocument(original).toJson(QJsonDocument::Compact);
    const QJsonValue nonce = original.value(QStringLiteral("nonce"));
    if (nonce.isString()) {
        p->nonce = nonce.toString();
        p->hasNonce = true;
    }
    p->issuer = original.value(QStringLiteral("iss")).toString();
    p->subject = original.value(QStringLiteral("sub")).toString();
    const QJsonValue aud = original.value(QStringLiteral("aud"));
    if (aud.isString())
        p->audiences.append(aud.toString());
    else
        for (const QJsonValue &v : aud.toArray())
            p->audiences.append(v.toString());
    const QJsonValue azp = original.value(QStringLiteral("azp"));
    if (azp.isString()) {
        p->authorizedParty = azp.toString();
        p->hasAuthorizedParty = true;
    }
    const QJsonValue authTime = original.value(QStringLiteral("auth_time"));
    if (authTime.isDouble())
        p->authTime = authTime.toDouble();
    p->valid = true;
    return claims;
}

} // namespace

// OIDC Core §12.2 and §3.1.3.7: the refreshed ID token is validated like the original one
// (signature with the issuer's keys, iss, aud, azp, exp, iat, at_hash) except the nonce,
// and must keep the original's iss, sub, aud, azp and auth_time.
void SessionPrivate::validateRefreshedIdToken(const TokenResponse &response, std::function<void(const Error &, bool keepIdToken)> then)
{
    const QJsonObject original = record.originalClaims();
    // Cheap comparison first: a changed identity needs no key to be refused.
    if (Error e = checkRefreshedIdToken(response.idToken(), original)) {
        then(e, false);
        return;
    }
    if (provider.jwksUri().isEmpty()) {
        if (original.isEmpty()) {
            // A plain OAuth 2.0 session (no OpenID provider metadata): an ID token that
            // cannot be verified is not kept (OIDC Core 3.1.3.7 rule 6), the rest is.
            qCDebug(lcSession) << "ignoring an ID token that cannot be verified (no jwks_uri)";
            then(Error(), false);
            return;
        }
        then(Error(Error::Code::InvalidConfiguration,
                   QStringLiteral("OIDC Core 3.1.3.7 rule 6: the refreshed ID token cannot be verified: the provider configuration has no jwks_uri")),
             false);
        return;
    }
    IdTokenValidator validator(provider.issuer().isEmpty() ? issuer() : issuerIdentifier(provider.issuer()), client.clientId());
    validator.setAllowedAlgorithms(IdTokenValidator::intersectAlgorithms(
        client.idTokenAlgorithms(), provider.idTokenSigningAlgValuesSupported()));
    validator.setLeeway(client.clockLeeway());
    validator.setClock(clock);
    IdTokenExpectations expect;
    if (!original.isEmpty())
        expect.setPreviousClaims(previousClaimsFrom(original));
    expect.setAccessToken(response.accessToken()); // OIDC Core 3.1.3.8, when at_hash is present
    auto *job = new IdTokenValidationJob(validator, jwks(), provider.jwksUri(), response.idToken(), expect, q);
    QObject::connect(job, &Job::finished, q, [job, then] { then(job->error(), true); });
    job->start();
}

} // namespace Keyloop
