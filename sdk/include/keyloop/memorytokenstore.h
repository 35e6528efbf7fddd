// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/tokenstore.h>

#include <QtCore/QStringList>

#include <memory>

namespace Keyloop {

class MemoryTokenStorePrivate;

/*!
 * \brief A TokenStore that keeps records in this object only: nothing survives the process.
 *
 * For apps that accept signing in at every launch, and for the CLI's `--no-store`.
 * Jobs complete asynchronously (queued) like every other store; probe() always succeeds.
 */
class KEYLOOP_EXPORT MemoryTokenStore : public TokenStore
{
    Q_OBJECT
public:
    /// A store with an empty appId().
    explicit MemoryTokenStore(QObject *parent = nullptr);
    /// A store of the application \a appId (it names the sessions' cross-process lock).
    explicit MemoryTokenStore(const QString &appId, QObject *parent = nullptr);
    ~MemoryTokenStore() override;

    QString appId() const override;

    /// The keys currently held (for tests and diagnostics; not secret).
    QStringList keys() const;

protected:
    void startJob(TokenStoreJob *job) override;

private:
    std::unique_ptr<MemoryTokenStorePrivate> d;
};

} // namespace Keyloop
