// SPDX-License-Identifier: MIT
#include <keyloop/accountindex.h>
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"
#include "store/processlock_p.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QPointer>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>

#include <algorithm>
#include <memory>

namespace Keyloop {

QString AccountIndexEntry::key() const
{
    return TokenStore::keyFor(issuer, clientId, account);
}

bool AccountIndexEntry::operator==(const AccountIndexEntry &other) const
{
    return issuer == other.issuer && clientId == other.clientId && account == other.account
        && subject == other.subject && displayName == other.displayName && updatedAt == other.updatedAt;
}

namespace {

const QString kFormatTag = QStringLiteral("keyloop.accounts");
constexpr int kVersion = 1;

QString safeComponent(const QString &s)
{
    QString out;
    for (const QChar c : s) {
        const bool ok = c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_';
        out += (ok && c.unicode() < 128) ? c : QChar(u'_');
    }
    return out.isEmpty() ? QStringLiteral("_") : out;
}

QJsonObject toJson(const AccountIndexEntry &e)
{
    QJsonObject o;
    o.insert(QStringLiteral("issuer"), e.issuer);
    o.insert(QStringLiteral("client_id"), e.clientId);
    o.insert(QStringLiteral("account"), e.account);
    o.insert(QStringLiteral("subject"), e.subject);
    o.insert(QStringLiteral("display_name"), e.displayName);
    o.insert(QStringLiteral("updated_at"), e.updatedAt.isValid() ? e.updatedAt.toMSecsSinceEpoch() : 0);
    return o;
}

bool fromJson(const QJsonValue &v, AccountIndexEntry *e)
{
    if (!v.isObject())
        return false;
    const QJsonObject o = v.toObject();
    for (const char *name : {"issuer", "client_id", "account", "subject", "display_name"}) {
        const QJsonValue m = o.value(QLatin1String(name));
        if (!m.isUndefined() && !m.isString())
            return false;
    }
    e->issuer = o.value(QStringLiteral("issuer")).toString();
    e->clientId = o.value(QStringLiteral("client_id")).toString();
    e->account = o.value(QStringLiteral("account")).toString();
    e->subject = o.value(QStringLiteral("subject")).toString();
    e->displayName = o.value(QStringLiteral("display_name")).toString();
    const qint64 ms = o.value(QStringLiteral("updated_at")).toInteger(0);
    e->updatedAt = ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime();
    return !e->issuer.isEmpty() && !e->clientId.isEmpty();
}

bool lessThan(const AccountIndexEntry &a, const AccountIndexEntry &b)
{
    return std::tie(a.issuer, a.clientId, a.account) < std::tie(b.issuer, b.clientId, b.account);
}

} // namespace

class AccountIndexPrivate
{
public:
    QString appId;
    QString directory;

    QString filePath() const { return directory + QStringLiteral("/accounts.json"); }

    QList<AccountIndexEntry> load(Error *error) const
    {
        QFile file(filePath());
        if (!file.exists())
            return {};
        if (!file.open(QIODevice::ReadOnly)) {
            if (error)
                *error = Error(Error::Code::StorageFailed, QStringLiteral("cannot read the account index"));
            return {};
        }
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(file.read(4 * 1024 * 1024), &pe);
        const QJsonObject root = doc.object();
        if (pe.error != QJsonParseError::NoError || !doc.isObject() || root.value(QStringLiteral("format")).toString() != kFormatTag
            || root.value(QStringLiteral("version")).toInteger(-1) != kVersion || !root.value(QStringLiteral("accounts")).isArray()) {
            if (error)
                *error = Error(Error::Code::StorageCorrupt, QStringLiteral("the account index is damaged or of an unknown version"));
            return {};
        }
        QList<AccountIndexEntry> list;
        for (const QJsonValue &v : root.value(QStringLiteral("accounts")).toArray()) {
            AccountIndexEntry e;
            if (fromJson(v, &e))
                list.append(e);
        }
        std::sort(list.begin(), list.end(), lessThan);
        return list;
    }

    Error save(const QList<AccountIndexEntry> &list) const
    {
        if (!QDir().mkpath(directory))
            return Error(Error::Code::StorageFailed, QStringLiteral("cannot create the account index directory"));
        QFile::setPermissions(directory, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        QJsonArray accounts;
        for (const AccountIndexEntry &e : list)
            accounts.append(toJson(e));
        QJsonObject root;
        root.insert(QStringLiteral("format"), kFormatTag);
        root.insert(QStringLiteral("version"), kVersion);
        root.insert(QStringLiteral("accounts"), accounts);
        QSaveFile file(filePath());
        if (!file.open(QIODevice::WriteOnly))
            return Error(Error::Code::StorageFailed, QStringLiteral("cannot write the account index"));
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        file.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
        if (!file.commit())
            return Error(Error::Code::StorageFailed, QStringLiteral("cannot write the account index"));
        return {};
    }

    // Runs \a change on the entries under the per-app lock, then saves.
    void modify(QObject *owner, QObject *context, std::function<void(QList<AccountIndexEntry> &)> change,
                std::function<void(const Error &)> done)
    {
        // The lock is a child of the AccountIndex: destroying the index cancels the change.
        auto *lock = new ProcessLock(appId, QStringLiteral("account-index"), owner);
        QPointer<QObject> guard(context);
        auto finished = std::make_shared<bool>(false);
        // Destroying the index destroys the lock: the caller still hears once (queued).
        QObject::connect(lock, &QObject::destroyed, [finished, guard, done] {
            if (*finished || !guard || !done)
                return;
            QMetaObject::invokeMethod(guard.data(), [done] {
                done(Error(Error::Code::Cancelled, QStringLiteral("the account index was destroyed")));
            }, Qt::QueuedConnection);
        });
        const auto finish = [lock, guard, done, finished](const Error &e) {
            *finished = true;
            lock->release();
            lock->deleteLater();
            if (guard && done)
                done(e);
        };
        QObject::connect(lock, &ProcessLock::failed, lock, finish);
        QObject::connect(lock, &ProcessLock::acquired, lock, [this, change, finish] {
            Error readError;
            QList<AccountIndexEntry> list = load(&readError);
            if (readError.code() == Error::Code::StorageCorrupt)
                qCWarning(lcStore) << "the account index was damaged; rewriting it";
            else if (readError) {
                finish(readError);
                return;
            }
            change(list);
            std::sort(list.begin(), list.end(), lessThan);
            finish(save(list));
        });
        lock->acquire(std::chrono::seconds(10));
    }
};

AccountIndex::AccountIndex(const QString &appId, QObject *parent)
    : AccountIndex(appId,
                   QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/keyloop/")
                       + safeComponent(appId),
                   parent)
{
}

AccountIndex::AccountIndex(const QString &appId, const QString &directory, QObject *parent)
    : QObject(parent), d(std::make_unique<AccountIndexPrivate>())
{
    d->appId = appId;
    d->directory = directory;
}

AccountIndex::~AccountIndex() = default;

QString AccountIndex::appId() const { return d->appId; }
QString AccountIndex::filePath() const { return d->filePath(); }

QList<AccountIndexEntry> AccountIndex::entries(Error *error) const
{
    if (error)
        *error = Error();
    return d->load(error);
}

void AccountIndex::upsert(const AccountIndexEntry &entry, QObject *context, std::function<void(const Error &)> done)
{
    d->modify(this, context, [entry](QList<AccountIndexEntry> &list) {
        const QString key = entry.key();
        list.erase(std::remove_if(list.begin(), list.end(), [&](const AccountIndexEntry &e) { return e.key() == key; }),
                   list.end());
        list.append(entry);
    }, std::move(done));
}

void AccountIndex::remove(const QString &issuer, const QString &clientId, const QString &account, QObject *context,
                          std::function<void(const Error &)> done)
{
    const QString key = TokenStore::keyFor(issuer, clientId, account);
    d->modify(this, context, [key](QList<AccountIndexEntry> &list) {
        list.erase(std::remove_if(list.begin(), list.end(), [&](const AccountIndexEntry &e) { return e.key() == key; }),
                   list.end());
    }, std::move(done));
}

} // namespace Keyloop
