// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/tokenstore.h>

#include <memory>

namespace Keyloop {

class KeychainTokenStorePrivate;

/*!
 * \brief The OS keychain as a TokenStore, through QtKeychain (libsecret / Keychain Services /
 * Windows Credential Manager).
 *
 * Items live under the service name (the application id, reverse-DNS, e.g.
 * "org.example.MyApp"); each session is split into items: one main item with the refresh
 * token and metadata, one item per access token and one for the raw ID token. An item larger
 * than maxItemSize() (default 2,560 bytes, the Windows Credential Manager's limit, on every
 * platform) is stored as a small head item plus chunk items, so a large ID or access token (or
 * refresh token) is never refused by the backend. Layout, key derivation, write order and
 * versioning: docs/token-storage.md.
 *
 * QtKeychain's insecure (plaintext) fallback is always off. When no secure backend works
 * (no secret service, locked keyring, denied access), jobs fail with
 * Error::Code::StorageUnavailable; nothing is ever written to a file instead.
 */
class KEYLOOP_EXPORT KeychainTokenStore : public TokenStore
{
    Q_OBJECT
public:
    /// A store whose items live under \a serviceName (the application id).
    explicit KeychainTokenStore(const QString &serviceName, QObject *parent = nullptr);
    ~KeychainTokenStore() override;

    /// The keychain service name (the application id).
    QString serviceName() const;
    /// The service name.
    QString appId() const override;

    /// The largest single keychain item written, in bytes; larger items are written in chunks.
    /// Default 2,560 (the Windows Credential Manager's limit for one secret). Values below 512
    /// are raised to 512. Reading does not depend on it.
    int maxItemSize() const;
    /// Sets maxItemSize() (at least 512).
    void setMaxItemSize(int bytes);

protected:
    void startJob(TokenStoreJob *job) override;

private:
    std::unique_ptr<KeychainTokenStorePrivate> d;
};

} // namespace Keyloop
