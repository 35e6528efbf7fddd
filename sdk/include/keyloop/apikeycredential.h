// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/credential.h>

#include <QtCore/QString>

#include <memory>

namespace Keyloop {

class ApiKeyCredentialPrivate;
class SecretJob;

/*!
 * \brief A static API key, kept in the OS keychain, sent in a header to the API locations it is
 * bound to (HttpClient::addCredential()).
 *
 * The key is never in code or a configuration file: the app sets it once through store() (for
 * example from a settings dialog or `keyloop`-style provisioning) and removes it with remove();
 * both are SecretJob%s on the keychain item `api-key:<name>` under \a serviceName (the
 * application id). The key is read from the keychain on first use — once, however many requests
 * wait for it — and kept in memory afterwards.
 *
 * \code
 * auto *key = new Keyloop::ApiKeyCredential(QStringLiteral("org.example.MyApp"), QStringLiteral("weather"), this);
 * // key->setHeaderName("Authorization"); key->setScheme("Token");   // "Authorization: Token <key>"
 * if (const Keyloop::Error e = http->addCredential(key, {QUrl(QStringLiteral("https://weather.example.com/v2"))}))
 *     qWarning() << e;
 *
 * Keyloop::SecretJob *job = key->store(keyTheUserPasted);   // once, e.g. in a settings dialog
 * connect(job, &Keyloop::Job::finished, this, [job] { if (job->error()) qWarning() << job->error(); });
 * job->start();
 * \endcode
 *
 * - authorize(): (headerName(), key) — or (headerName(), scheme() + " " + key) when a scheme is
 *   set. Errors: NotFound (no key stored; asked again at the next request), StorageUnavailable
 *   or StorageFailed (the keychain), StorageCorrupt (the stored value is not a header-safe key),
 *   InvalidConfiguration (a header name that is not an RFC 9110 token).
 * - reject() (a 401 to a request that carried the key): the key in memory is forgotten if it is
 *   still the one sent, and read again from the keychain for the replay — so a key replaced
 *   by another process is picked up. A static key cannot be renewed by Keyloop: if the keychain
 *   holds the same key, the second 401 is the caller's.
 *
 * A key must be printable ASCII without spaces (RFC 9110 §5.5 visible characters), at most
 * 4096 bytes. It is a secret: Keyloop never logs it or puts it in an error message, and only
 * ever sends it in the header, to the bound locations.
 */
class KEYLOOP_EXPORT ApiKeyCredential : public Credential
{
    Q_OBJECT
public:
    /// The key is the keychain item "api-key:" + \a name under \a serviceName.
    ApiKeyCredential(const QString &serviceName, const QString &name, QObject *parent = nullptr);
    ~ApiKeyCredential() override;

    /// The keychain service name (the application id).
    QString serviceName() const;
    /// The key's name, as given to the constructor.
    QString name() const;
    /// The keychain item's name: "api-key:" + name().
    QString keychainItemName() const;

    /// The header the key goes in. Default "X-Api-Key".
    QByteArray headerName() const;
    /// Sets headerName() to \a name (an RFC 9110 token; checked when a request is authorized).
    void setHeaderName(const QByteArray &name);
    /// An authentication scheme put before the key ("Token", "Bearer"), usually with the header
    /// name "Authorization" (RFC 9110 §11.6.2). Default empty: the key alone.
    QByteArray scheme() const;
    /// Sets scheme() (an RFC 9110 token; empty = none).
    void setScheme(const QByteArray &scheme);

    /// A job storing \a key in the keychain (not started). When it succeeds, the credential uses
    /// the new key for the next request. An invalid key fails with InvalidConfiguration and
    /// nothing is stored.
    [[nodiscard]] SecretJob *store(const QByteArray &key);
    /// A job removing the key from the keychain (not started); when it succeeds, requests fail
    /// with NotFound until a key is stored again.
    [[nodiscard]] SecretJob *remove();

    void authorize(QObject *context, AuthorizeCallback callback) override;
    void reject(const QByteArray &headerValue) override;

    /// True when \a key can be sent in a header: 1–4096 bytes of visible ASCII (RFC 9110 §5.5).
    static bool isValidKey(const QByteArray &key);

private:
    std::unique_ptr<ApiKeyCredentialPrivate> d;
};

} // namespace Keyloop
