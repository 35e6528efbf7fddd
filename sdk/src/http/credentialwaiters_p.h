// SPDX-License-Identifier: MIT
// The requests waiting for one credential value (a keychain read, a token request): answered
// all at once, each queued on its own context and dropped if that context is gone — the
// Credential::authorize() contract. Private to the SDK.
#pragma once

#include <keyloop/credential.h>

#include <QtCore/QList>
#include <QtCore/QPointer>

namespace Keyloop {

class CredentialWaiters
{
public:
    void add(QObject *context, Credential::AuthorizeCallback callback);
    bool isEmpty() const { return m_waiters.isEmpty(); }
    int size() const { return int(m_waiters.size()); }

    /// Answers every waiter with (\a headerName, \a headerValue) and forgets them.
    void succeed(const QByteArray &headerName, const QByteArray &headerValue);
    /// Answers every waiter with \a error and forgets them.
    void fail(const Error &error);

    /// RFC 9110 §5.6.2: a token (tchar+), as a field name or an auth-scheme must be.
    static bool isValidHeaderName(const QByteArray &name);

private:
    void answer(const QByteArray &headerName, const QByteArray &headerValue, const Error &error);

    struct Waiter
    {
        QPointer<QObject> context;
        Credential::AuthorizeCallback callback;
    };
    QList<Waiter> m_waiters;
};

} // namespace Keyloop
