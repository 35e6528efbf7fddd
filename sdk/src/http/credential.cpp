// SPDX-License-Identifier: MIT
#include <keyloop/credential.h>

#include <QtCore/QMetaObject>
#include <QtCore/QPointer>

namespace Keyloop {

class CredentialPrivate
{
};

Credential::Credential(QObject *parent) : QObject(parent), d(std::make_unique<CredentialPrivate>()) {}
Credential::~Credential() = default;

void Credential::reject(const QByteArray &) {}
bool Credential::currentHeader(QByteArray *, QByteArray *) const { return false; }
Credential::HeaderList Credential::requestHeaders(const QByteArray &, const QUrl &, const QByteArray &) { return {}; }
void Credential::responseReceived(const QUrl &, const QByteArray &, const HeaderList &) {}

void Credential::deliverLater(QObject *context, AuthorizeCallback callback, const QByteArray &headerName,
                              const QByteArray &headerValue, const Error &error)
{
    if (!context || !callback)
        return;
    // Queued on the context: never before authorize() returns, and dropped with the context.
    QMetaObject::invokeMethod(
        context, [callback = std::move(callback), headerName, headerValue, error] { callback(headerName, headerValue, error); },
        Qt::QueuedConnection);
}

} // namespace Keyloop
