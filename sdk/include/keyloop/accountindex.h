// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>

namespace Keyloop {

/// One stored account, without secrets.
struct KEYLOOP_EXPORT AccountIndexEntry
{
    QString issuer;       ///< the issuer identifier, as issuerIdentifier() gives it
    QString clientId;     ///< the OAuth client_id
    QString account;      ///< the app's name for the account ("" = default)
    QString subject;      ///< the ID token's `sub`
    QString displayName;  ///< a name to show (SessionRecord::displayName()); plain text
    QDateTime updatedAt;  ///< UTC

    /// TokenStore::keyFor(issuer, clientId, account).
    QString key() const;
    /// True when every field is equal.
    bool operator==(const AccountIndexEntry &other) const;
};

class AccountIndexPrivate;

/*!
 * \brief The list of stored sessions of an app, without secrets.
 *
 * QtKeychain 0.13 cannot enumerate its items, so Keyloop keeps this small JSON index next to
 * the keychain: issuer, client id, account, subject, display name and time — never a token.
 * It lives in `<GenericDataLocation>/keyloop/<app id>/accounts.json` (so that every program
 * using the same app id, e.g. the CLI with --app-id, finds it), or in an explicit directory.
 * Changes are written atomically (QSaveFile) under the app's cross-process lock.
 * Format: docs/token-storage.md.
 */
class KEYLOOP_EXPORT AccountIndex : public QObject
{
    Q_OBJECT
public:
    /// The index of \a appId in `<GenericDataLocation>/keyloop/<app id>/` (characters other
    /// than letters, digits, `.`, `-` and `_` in the app id become `_`).
    explicit AccountIndex(const QString &appId, QObject *parent = nullptr);
    /// The index of \a appId in \a directory (tests, portable installations). \a appId still
    /// names the cross-process lock.
    AccountIndex(const QString &appId, const QString &directory, QObject *parent = nullptr);
    ~AccountIndex() override;

    /// The app id: it names the directory (by default) and the cross-process lock.
    QString appId() const;
    /// The index file: `<directory>/accounts.json`.
    QString filePath() const;

    /// The entries, sorted by issuer, client id and account. A missing file is an empty list;
    /// an unreadable one sets \a error (StorageCorrupt / StorageFailed) and returns {}.
    QList<AccountIndexEntry> entries(Error *error = nullptr) const;

    /// Adds or replaces the entry with the same key; \a done is called on \a context (queued).
    void upsert(const AccountIndexEntry &entry, QObject *context, std::function<void(const Error &)> done);
    /// Removes the entry of that key (absent is success); \a done is called on \a context.
    void remove(const QString &issuer, const QString &clientId, const QString &account, QObject *context,
                std::function<void(const Error &)> done);

private:
    std::unique_ptr<AccountIndexPrivate> d;
};

} // namespace Keyloop
