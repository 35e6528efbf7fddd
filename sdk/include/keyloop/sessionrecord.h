// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>
#include <QtCore/QMap>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

/*!
 * \brief One access token of a session, for one resource (RFC 8707 §2; "" = the provider's
 * own token, requested without a resource indicator, e.g. for UserInfo).
 */
struct KEYLOOP_EXPORT SessionAccessToken
{
    QByteArray token;     ///< `access_token` (RFC 6749 §5.1). Secret.
    QDateTime issuedAt;   ///< when the token response was received (UTC), for the lifetime
    QDateTime expiresAt;  ///< issuedAt + `expires_in`; invalid when the server gave none
    QStringList scopes;   ///< granted `scope` (RFC 6749 §5.1; absent = requested)
    /// `token_type` as issued (RFC 6749 §5.1, e.g. "Bearer"; compare it case-insensitively,
    /// §7.1). Empty when unknown: tokens stored by Keyloop 0.2 and earlier, which accepted
    /// only Bearer tokens (RFC 6750).
    QString tokenType;

    /// True when there is no token.
    bool isNull() const { return token.isEmpty(); }
    /// True when every field is equal.
    bool operator==(const SessionAccessToken &other) const;
    /// The opposite of operator==().
    bool operator!=(const SessionAccessToken &other) const { return !(*this == other); }
};

class SessionRecordPrivate;

/*!
 * \brief Everything a Session keeps about one signed-in account: the value a TokenStore
 * reads and writes.
 *
 * An implicitly shared value. It holds secrets (refresh token, access tokens, the raw ID
 * token, a DPoP private key); QDebug prints it redacted (only presence and non-secret metadata).
 * The on-disk / keychain format is documented in docs/token-storage.md.
 *
 * The key that identifies a record in a store is derived from issuer, client id and
 * account: see TokenStore::keyFor().
 */
class KEYLOOP_EXPORT SessionRecord
{
public:
    /// A null record.
    SessionRecord();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    SessionRecord(const SessionRecord &other);
    SessionRecord(SessionRecord &&other) noexcept;
    SessionRecord &operator=(const SessionRecord &other);
    SessionRecord &operator=(SessionRecord &&other) noexcept;
    ///@}
    ~SessionRecord();

    /// True when nothing has been set.
    bool isNull() const;

    /// The issuer identifier, in its one canonical string form (issuerIdentifier(); OIDC
    /// Discovery §4.3 string equality).
    QString issuer() const;
    /// Sets issuer().
    void setIssuer(const QString &issuer);
    /// `client_id` (RFC 6749 §2.2).
    QString clientId() const;
    /// Sets clientId().
    void setClientId(const QString &clientId);
    /// The app's name for this account ("" = the default account). Not secret.
    QString account() const;
    /// Sets account().
    void setAccount(const QString &account);
    /// The ID token's `sub` (OIDC Core §2), empty for plain OAuth 2.0.
    QString subject() const;
    /// Sets subject().
    void setSubject(const QString &subject);
    /// A name to show (e.g. `name`, `preferred_username` or `email`), may be empty.
    QString displayName() const;
    /// Sets displayName().
    void setDisplayName(const QString &name);

    /// `refresh_token` (RFC 6749 §5.1, §6). Secret. Empty when the provider issued none.
    QByteArray refreshToken() const;
    /// Sets refreshToken().
    void setRefreshToken(const QByteArray &token);

    /// Access tokens by resource ("" = provider token without resource indicator).
    QMap<QString, SessionAccessToken> accessTokens() const;
    /// The access token for \a resource; null when there is none.
    SessionAccessToken accessToken(const QString &resource) const;
    /// Sets the access token for \a resource; a null \a token removes it.
    void setAccessToken(const QString &resource, const SessionAccessToken &token);
    /// Removes the access token for \a resource.
    void removeAccessToken(const QString &resource);
    /// Removes every access token.
    void clearAccessTokens();

    /// The raw ID token last received (OIDC Core §2), kept for `id_token_hint`. Secret.
    QByteArray idToken() const;
    /// Sets idToken().
    void setIdToken(const QByteArray &idToken);

    /*!
     * The original ID token's claims that a refreshed ID token must keep (OIDC Core §12.2):
     * `iss`, `sub`, `aud`, `azp`, `auth_time` and `nonce` (a refreshed ID token may omit the
     * nonce, but one it carries must be the original's), as a JSON object with only those
     * members (setOriginalClaims() drops the others).
     */
    QJsonObject originalClaims() const;
    /// Sets originalClaims().
    void setOriginalClaims(const QJsonObject &claims);

    /// The scopes granted for the session (RFC 6749 §3.3).
    QStringList scopes() const;
    /// Sets scopes().
    void setScopes(const QStringList &scopes);
    /// The resource indicators the session was authorized for (RFC 8707 §2.1).
    QStringList resources() const;
    /// Sets resources().
    void setResources(const QStringList &resources);

    /*!
     * Opaque, non-secret settings the app wants remembered with the session (e.g. the CLI
     * keeps issuer, client id, scopes, resources, CA file path, the insecure-loopback opt-in).
     * Do not put secrets here: they would be stored in the main item, which is fine for the
     * keychain but against the intent of this field.
     */
    QJsonObject appData() const;
    /// Sets appData().
    void setAppData(const QJsonObject &data);

    /*!
     * The id of the grant (one sign-in) the tokens belong to: random, not secret, set when a
     * sign-in is adopted and kept through refreshes and rotations. A refresh result is applied
     * only to the grant it was started from; a record with another grant id is another sign-in
     * (an account switch, a step-up). Empty for records stored before grant ids existed.
     */
    QByteArray grantId() const;
    /// Sets grantId().
    void setGrantId(const QByteArray &grantId);

    /*!
     * The provider's metadata (discovery document, ProviderConfiguration::toJson()) remembered
     * with the session, so that a restore needs no discovery round trip. Not secret. Parse it
     * with ProviderConfiguration::fromJson() and the app's TransportOptions (the endpoints are
     * checked again). Empty for sessions stored before format version 3.
     */
    QJsonObject providerMetadata() const;
    /// Sets providerMetadata().
    void setProviderMetadata(const QJsonObject &metadata);

    /*!
     * The private key the session's tokens are bound to (DPoP, RFC 9449), as a private JWK
     * (DpopKey::privateJwk()); empty when the tokens are not bound. Secret. It is stored in the
     * main item, in the same write as the refresh token it is bound to (§5), and deleted with it.
     * Read it with DpopKey::fromPrivateJwk(). Since format version 4.
     */
    QJsonObject dpopKey() const;
    /// Sets dpopKey().
    void setDpopKey(const QJsonObject &privateJwk);

    /*!
     * How fresh the remembered provider metadata is, and the provider's keys: written by Session
     * with each save, read at restore, so that a restarted app fetches neither the discovery
     * document nor the JWKS while they are fresh (RFC 9111 §4.2, bounded to [5 min, 24 h]). Not
     * secret. Members, all optional: `discovery_expires_at` (ms since the epoch, UTC:
     * ProviderConfiguration::expiresAt()), `jwks_uri`, `jwks` (the JWKS document as fetched)
     * and `jwks_expires_at` (ms; JwksCache::CachedSet). Empty for sessions stored before it
     * existed (main item member `provider_cache`; readers that do not know it ignore it).
     */
    QJsonObject providerCache() const;
    /// Sets providerCache().
    void setProviderCache(const QJsonObject &cache);

    /// When the record was last written (UTC).
    QDateTime updatedAt() const;
    /// Sets updatedAt().
    void setUpdatedAt(const QDateTime &when);

    /// True when every field is equal.
    bool operator==(const SessionRecord &other) const;
    /// The opposite of operator==().
    bool operator!=(const SessionRecord &other) const { return !(*this == other); }

private:
    QSharedDataPointer<SessionRecordPrivate> d;
};

/// Redacted: prints metadata and whether tokens are present, never their values.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const SessionRecord &record);
/// Redacted: prints whether a token is present, its expiry and scopes, never its value.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const SessionAccessToken &token);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::SessionRecord)
