// SPDX-License-Identifier: MIT
#include <keyloop/sessionrecord.h>

#include <QtCore/QDebug>

namespace Keyloop {

bool SessionAccessToken::operator==(const SessionAccessToken &other) const
{
    return token == other.token && issuedAt == other.issuedAt && expiresAt == other.expiresAt
        && scopes == other.scopes && tokenType == other.tokenType;
}

class SessionRecordPrivate : public QSharedData
{
public:
    QString issuer;
    QString clientId;
    QString account;
    QString subject;
    QString displayName;
    QByteArray refreshToken;
    QMap<QString, SessionAccessToken> accessTokens;
    QByteArray idToken;
    QJsonObject originalClaims;
    QStringList scopes;
    QStringList resources;
    QJsonObject appData;
    QByteArray grantId;
    QJsonObject providerMetadata;
    QJsonObject dpopKey;
    QJsonObject providerCache;
    QDateTime updatedAt;
};

SessionRecord::SessionRecord() : d(new SessionRecordPrivate) {}
SessionRecord::SessionRecord(const SessionRecord &other) = default;
SessionRecord::SessionRecord(SessionRecord &&other) noexcept = default;
SessionRecord &SessionRecord::operator=(const SessionRecord &other) = default;
SessionRecord &SessionRecord::operator=(SessionRecord &&other) noexcept = default;
SessionRecord::~SessionRecord() = default;

bool SessionRecord::isNull() const
{
    return d->issuer.isEmpty() && d->clientId.isEmpty() && d->account.isEmpty() && d->subject.isEmpty()
        && d->refreshToken.isEmpty() && d->accessTokens.isEmpty() && d->idToken.isEmpty();
}

QString SessionRecord::issuer() const { return d->issuer; }
void SessionRecord::setIssuer(const QString &issuer) { d->issuer = issuer; }
QString SessionRecord::clientId() const { return d->clientId; }
void SessionRecord::setClientId(const QString &clientId) { d->clientId = clientId; }
QString SessionRecord::account() const { return d->account; }
void SessionRecord::setAccount(const QString &account) { d->account = account; }
QString SessionRecord::subject() const { return d->subject; }
void SessionRecord::setSubject(const QString &subject) { d->subject = subject; }
QString SessionRecord::displayName() const { return d->displayName; }
void SessionRecord::setDisplayName(const QString &name) { d->displayName = name; }
QByteArray SessionRecord::refreshToken() const { return d->refreshToken; }
void SessionRecord::setRefreshToken(const QByteArray &token) { d->refreshToken = token; }
QMap<QString, SessionAccessToken> SessionRecord::accessTokens() const { return d->accessTokens; }
SessionAccessToken SessionRecord::accessToken(const QString &resource) const { return d->accessTokens.value(resource); }

void SessionRecord::setAccessToken(const QString &resource, const SessionAccessToken &token)
{
    if (token.isNull())
        d->accessTokens.remove(resource);
    else
        d->accessTokens.insert(resource, token);
}

void SessionRecord::removeAccessToken(const QString &resource) { d->accessTokens.remove(resource); }
void SessionRecord::clearAccessTokens() { d->accessTokens.clear(); }
QByteArray SessionRecord::idToken() const { return d->idToken; }
void SessionRecord::setIdToken(const QByteArray &idToken) { d->idToken = idToken; }
QJsonObject SessionRecord::originalClaims() const { return d->originalClaims; }

void SessionRecord::setOriginalClaims(const QJsonObject &claims)
{
    // OIDC Core §12.2: only the claims a refreshed ID token must keep (plus auth_time), and the
    // nonce: a refreshed ID token may omit it, but if present it must be the original's
    // (OpenID Connect Core errata, §12.2).
    static const char *const kept[] = {"iss", "sub", "aud", "azp", "auth_time", "nonce"};
    QJsonObject filtered;
    for (const char *name : kept) {
        const QString key = QString::fromLatin1(name);
        if (claims.contains(key))
            filtered.insert(key, claims.value(key));
    }
    d->originalClaims = filtered;
}

QStringList SessionRecord::scopes() const { return d->scopes; }
void SessionRecord::setScopes(const QStringList &scopes) { d->scopes = scopes; }
QStringList SessionRecord::resources() const { return d->resources; }
void SessionRecord::setResources(const QStringList &resources) { d->resources = resources; }
QJsonObject SessionRecord::appData() const { return d->appData; }
void SessionRecord::setAppData(const QJsonObject &data) { d->appData = data; }
QByteArray SessionRecord::grantId() const { return d->grantId; }
void SessionRecord::setGrantId(const QByteArray &grantId) { d->grantId = grantId; }
QJsonObject SessionRecord::providerMetadata() const { return d->providerMetadata; }
void SessionRecord::setProviderMetadata(const QJsonObject &metadata) { d->providerMetadata = metadata; }
QJsonObject SessionRecord::dpopKey() const { return d->dpopKey; }
void SessionRecord::setDpopKey(const QJsonObject &privateJwk) { d->dpopKey = privateJwk; }
QJsonObject SessionRecord::providerCache() const { return d->providerCache; }
void SessionRecord::setProviderCache(const QJsonObject &cache) { d->providerCache = cache; }
QDateTime SessionRecord::updatedAt() const { return d->updatedAt; }
void SessionRecord::setUpdatedAt(const QDateTime &when) { d->updatedAt = when.toUTC(); }

bool SessionRecord::operator==(const SessionRecord &other) const
{
    if (d == other.d)
        return true;
    return d->issuer == other.d->issuer && d->clientId == other.d->clientId && d->account == other.d->account
        && d->subject == other.d->subject && d->displayName == other.d->displayName
        && d->refreshToken == other.d->refreshToken && d->accessTokens == other.d->accessTokens
        && d->idToken == other.d->idToken && d->originalClaims == other.d->originalClaims
        && d->scopes == other.d->scopes && d->resources == other.d->resources && d->appData == other.d->appData
        && d->grantId == other.d->grantId && d->providerMetadata == other.d->providerMetadata
        && d->dpopKey == other.d->dpopKey && d->providerCache == other.d->providerCache
        && d->updatedAt == other.d->updatedAt;
}

QDebug operator<<(QDebug debug, const SessionAccessToken &token)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "SessionAccessToken(" << (token.isNull() ? "empty" : "<redacted>")
                    << ", tokenType=" << token.tokenType << ", expiresAt=" << token.expiresAt
                    << ", scopes=" << token.scopes << ')';
    return debug;
}

QDebug operator<<(QDebug debug, const SessionRecord &record)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "SessionRecord(issuer=" << record.issuer() << ", clientId=" << record.clientId()
                    << ", account=" << record.account() << ", subject=" << record.subject()
                    << ", refreshToken=" << (record.refreshToken().isEmpty() ? "none" : "<redacted>")
                    << ", accessTokens=" << record.accessTokens().keys()
                    << ", idToken=" << (record.idToken().isEmpty() ? "none" : "<redacted>")
                    << ", dpopKey=" << (record.dpopKey().isEmpty() ? "none" : "<redacted>")
                    << ", scopes=" << record.scopes() << ", updatedAt=" << record.updatedAt() << ')';
    return debug;
}

} // namespace Keyloop
