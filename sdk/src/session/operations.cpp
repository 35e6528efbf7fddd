// SPDX-License-Identifier: MIT
// Session: the per-account state machine. Restore, adoption of a sign-in, each refresh and
// sign-out are operations that run one at a time, in order. An operation that touches the
// store across processes takes its own lock handle (RFC 9700 §4.14: read → refresh → write
// under one lock), released when that operation ends and never by another one. A refresh
// remembers the grant it started from; its result is applied only while that grant is current.
#include "session/session_p.h"

#include "core/crypto_p.h"
#include "core/logging_p.h"
#include "session/testhooks_p.h"
#include "store/processlock_p.h"

namespace Keyloop {

namespace {

// How long sign-out waits for another process's refresh to finish with the account lock.
constexpr std::chrono::milliseconds kSignOutLockTimeout = std::chrono::seconds(10);

} // namespace

QByteArray SessionPrivate::newGrantId()
{
    return Crypto::randomBytes(16).toHex();
}

std::chrono::milliseconds SessionPrivate::signOutLockTimeout() const
{
#if defined(KEYLOOP_TEST_HOOKS)
    bool ok = false;
    const int ms = qEnvironmentVariableIntValue("KEYLOOP_TEST_SIGNOUT_LOCK_TIMEOUT_MS", &ok);
    if (ok && ms > 0)
        return std::chrono::milliseconds(ms);
#endif
    return kSignOutLockTimeout;
}

OperationPtr SessionPrivate::enqueue(SessionOperation::Kind kind, std::function<void(const OperationPtr &)> run,
                                     std::function<void(const Error &)> done, const QString &resource)
{
    auto op = std::make_shared<SessionOperation>();
    op->kind = kind;
    op->resource = resource;
    op->run = std::move(run);
    op->done = std::move(done);
    queue.append(op);
    // Always from the event loop: the caller finishes its own bookkeeping first.
    QMetaObject::invokeMethod(q, [this] { runNext(); }, Qt::QueuedConnection);
    return op;
}

void SessionPrivate::runNext()
{
    if (current || queue.isEmpty())
        return;
    current = queue.takeFirst();
    current->phase = SessionOperation::Phase::Working;
    current->grantId = record.grantId();
    const OperationPtr op = current;
    const auto run = std::exchange(op->run, {});
    run(op);
}

void SessionPrivate::endOperation(const OperationPtr &op, const Error &error)
{
    if (op->phase == SessionOperation::Phase::Ended)
        return;
    op->phase = SessionOperation::Phase::Ended;
    if (op->lock) {
        testKillPoint("before-unlock");
        op->lock->release();
        op->lock->deleteLater();
        op->lock = nullptr;
    }
    if (op->tokenJob) {
        op->tokenJob->disconnect(q);
        op->tokenJob->cancel();
    }
    setSaving(op, false);
    if (current == op)
        current.reset();
    queue.removeAll(op);
    if (op->done) {
        const auto done = std::exchange(op->done, {});
        done(error);
    }
    // The next operation starts from the event loop: callers of this function may still be
    // inside a callback of the one that ended.
    QMetaObject::invokeMethod(q, [this] {
        runNext();
        pump();
    }, Qt::QueuedConnection);
}

void SessionPrivate::cancelOperation(const OperationPtr &op)
{
    if (op->phase == SessionOperation::Phase::Ended || op->cancelled)
        return;
    op->cancelled = true;
    qCDebug(lcSession) << "operation cancelled";
    switch (op->phase) {
    case SessionOperation::Phase::Queued:
        queue.removeAll(op);
        op->phase = SessionOperation::Phase::Ended;
        if (op->done)
            std::exchange(op->done, {})(Error(Error::Code::Cancelled, QStringLiteral("cancelled")));
        return;
    case SessionOperation::Phase::Locking:
    case SessionOperation::Phase::Requesting:
        // Nothing written yet: stop now (the lock wait, or the request in flight).
        endOperation(op, Error(Error::Code::Cancelled, QStringLiteral("cancelled")));
        return;
    case SessionOperation::Phase::Working:
    case SessionOperation::Phase::Saving:
        // A store job is in flight: the operation ends when it returns, and drops its result.
        return;
    case SessionOperation::Phase::Ended:
        return;
    }
}

void SessionPrivate::cancelGrantWork()
{
    const QList<OperationPtr> all = QList<OperationPtr>(queue) << current;
    for (const OperationPtr &op : all) {
        if (op && (op->kind == SessionOperation::Kind::Refresh || op->kind == SessionOperation::Kind::SaveRetry))
            cancelOperation(op);
    }
    pendingSave = false;
    refreshNotBefore = QDateTime();
    refreshDeferredError = Error();
}

bool SessionPrivate::hasOperation(SessionOperation::Kind kind, const QString &resource) const
{
    const auto matches = [&](const OperationPtr &op) {
        return op && !op->cancelled && op->kind == kind
            && (kind != SessionOperation::Kind::Refresh || op->resource == resource);
    };
    if (matches(current))
        return true;
    return std::any_of(queue.cbegin(), queue.cend(), matches);
}

OperationPtr SessionPrivate::findRefresh(const QString &resource) const
{
    const auto matches = [&](const OperationPtr &op) {
        return op && !op->cancelled && op->phase != SessionOperation::Phase::Ended
            && op->kind == SessionOperation::Kind::Refresh && op->resource == resource;
    };
    if (matches(current))
        return current;
    const auto it = std::find_if(queue.cbegin(), queue.cend(), matches);
    return it == queue.cend() ? OperationPtr() : *it;
}

bool SessionPrivate::hasAnyRefresh() const
{
    const auto matches = [](const OperationPtr &op) {
        return op && !op->cancelled && op->kind == SessionOperation::Kind::Refresh;
    };
    return matches(current) || std::any_of(queue.cbegin(), queue.cend(), matches);
}

void SessionPrivate::lock(const OperationPtr &op, std::chrono::milliseconds timeout,
                          std::function<void(const Error &)> then)
{
    auto *l = new ProcessLock(appId, key(), q);
    op->lock = l;
    op->phase = SessionOperation::Phase::Locking;
    QObject::connect(l, &ProcessLock::acquired, q, [op, then] {
        if (op->phase != SessionOperation::Phase::Locking)
            return;
        op->phase = SessionOperation::Phase::Working;
        then(Error());
    });
    QObject::connect(l, &ProcessLock::failed, q, [op, l, then](const Error &e) {
        if (op->lock == l)
            op->lock = nullptr;
        l->deleteLater();
        if (op->phase != SessionOperation::Phase::Locking)
            return;
        op->phase = SessionOperation::Phase::Working;
        then(e);
    });
    l->acquire(timeout);
}

void SessionPrivate::setSaving(const OperationPtr &op, bool saving)
{
    if (op->saving == saving)
        return;
    op->saving = saving;
    Q_EMIT q->savingChanged(saving);
}

} // namespace Keyloop
