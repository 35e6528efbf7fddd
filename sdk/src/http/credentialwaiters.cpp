// SPDX-License-Identifier: MIT
#include "http/credentialwaiters_p.h"

#include <QtCore/QMetaObject>

#include <algorithm>
#include <utility>

namespace Keyloop {

void CredentialWaiters::add(QObject *context, Credential::AuthorizeCallback callback)
{
    if (!context || !callback)
        return;
    m_waiters.append({context, std::move(callback)});
}

void CredentialWaiters::succeed(const QByteArray &headerName, const QByteArray &headerValue)
{
    answer(headerName, headerValue, Error());
}

void CredentialWaiters::fail(const Error &error) { answer(QByteArray(), QByteArray(), error); }

void CredentialWaiters::answer(const QByteArray &headerName, const QByteArray &headerValue, const Error &error)
{
    const QList<Waiter> waiters = std::exchange(m_waiters, {});
    for (const Waiter &waiter : waiters) {
        if (!waiter.context)
            continue; // its context is gone: dropped
        // Queued on the context: never inside authorize(), and dropped with the context.
        QMetaObject::invokeMethod(
            waiter.context.data(),
            [callback = waiter.callback, headerName, headerValue, error] { callback(headerName, headerValue, error); },
            Qt::QueuedConnection);
    }
}

bool CredentialWaiters::isValidHeaderName(const QByteArray &name)
{
    if (name.isEmpty())
        return false;
    static const QByteArray extra = QByteArrayLiteral("!#$%&'*+-.^_`|~");
    return std::all_of(name.cbegin(), name.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || extra.contains(c);
    });
}

} // namespace Keyloop
