// SPDX-License-Identifier: MIT
// ApiKeyCredential: a static key from the keychain (SecretJob), loaded once on first use for
// every waiting request, in a header of the app's choice.
#include <keyloop/apikeycredential.h>

#include <keyloop/secretjob.h>

#include "core/logging_p.h"
#include "http/credentialwaiters_p.h"

#include <QtCore/QPointer>

#include <algorithm>

namespace Keyloop {

namespace {
constexpr int kMaxKeySize = 4096;
} // namespace

class ApiKeyCredentialPrivate
{
public:
    ApiKeyCredential *q;
    QString service;
    QString name;
    QByteArray headerName = QByteArrayLiteral("X-Api-Key");
    QByteArray scheme;
    QByteArray key;        // empty: not loaded
    quint64 version = 0;   // bumped by every successful store()/remove()
    QPointer<SecretJob> loading;
    CredentialWaiters waiters;

    explicit ApiKeyCredentialPrivate(ApiKeyCredential *credential) : q(credential) {}

    QByteArray headerValue() const { return scheme.isEmpty() ? key : scheme + ' ' + key; }
    void load();
    void answer(const Error &error);
};

void ApiKeyCredentialPrivate::answer(const Error &error)
{
    if (error)
        waiters.fail(error);
    else
        waiters.succeed(headerName, headerValue());
}

void ApiKeyCredentialPrivate::load()
{
    if (loading)
        return; // single flight: one keychain read for every waiting request
    qCDebug(lcHttp) << "API key: reading the keychain";
    SecretJob *job = SecretJob::read(service, q->keychainItemName());
    loading = job;
    const quint64 startedAt = version;
    QObject::connect(job, &Job::finished, q, [this, job, startedAt] {
        loading = nullptr;
        if (version != startedAt) {
            // store() or remove() finished meanwhile: their result is newer than this read.
            if (!key.isEmpty())
                answer(Error());
            else
                load();
            return;
        }
        Error error = job->error();
        if (error.code() == Error::Code::NotFound)
            error = Error(Error::Code::NotFound, QStringLiteral("no API key is stored for this credential"));
        else if (!error && !ApiKeyCredential::isValidKey(job->secret()))
            error = Error(Error::Code::StorageCorrupt, QStringLiteral("the stored API key is not a header-safe value"));
        if (!error)
            key = job->secret();
        // Errors are not remembered: the next request asks the keychain again.
        answer(error);
    });
    job->start();
}

ApiKeyCredential::ApiKeyCredential(const QString &serviceName, const QString &name, QObject *parent)
    : Credential(parent), d(std::make_unique<ApiKeyCredentialPrivate>(this))
{
    d->service = serviceName;
    d->name = name;
}

ApiKeyCredential::~ApiKeyCredential()
{
    // Credential contract: a waiting callback is answered with Cancelled when its provider dies.
    d->waiters.fail(Error(Error::Code::Cancelled, QStringLiteral("the API key credential was destroyed")));
}

QString ApiKeyCredential::serviceName() const { return d->service; }
QString ApiKeyCredential::name() const { return d->name; }
QString ApiKeyCredential::keychainItemName() const { return QStringLiteral("api-key:") + d->name; }

QByteArray ApiKeyCredential::headerName() const { return d->headerName; }
void ApiKeyCredential::setHeaderName(const QByteArray &name) { d->headerName = name; }
QByteArray ApiKeyCredential::scheme() const { return d->scheme; }
void ApiKeyCredential::setScheme(const QByteArray &scheme) { d->scheme = scheme; }

bool ApiKeyCredential::isValidKey(const QByteArray &key)
{
    if (key.isEmpty() || key.size() > kMaxKeySize)
        return false;
    // RFC 9110 §5.5: VCHAR only — no CR/LF (header injection), no spaces, no controls.
    return std::all_of(key.cbegin(), key.cend(), [](char c) { return c > 0x20 && c < 0x7f; });
}

SecretJob *ApiKeyCredential::store(const QByteArray &key)
{
    // An invalid key is refused by the job itself (an empty secret), so the caller still gets
    // exactly one finished() from the event loop.
    SecretJob *job = SecretJob::write(d->service, keychainItemName(), isValidKey(key) ? key : QByteArray());
    connect(job, &Job::finished, this, [this, job] {
        if (job->error())
            return;
        ++d->version;
        d->key = job->secret();
        qCDebug(lcHttp) << "API key stored";
    });
    return job;
}

SecretJob *ApiKeyCredential::remove()
{
    SecretJob *job = SecretJob::remove(d->service, keychainItemName());
    connect(job, &Job::finished, this, [this, job] {
        if (job->error())
            return;
        ++d->version;
        d->key.clear();
        qCDebug(lcHttp) << "API key removed";
    });
    return job;
}

void ApiKeyCredential::authorize(QObject *context, AuthorizeCallback callback)
{
    if (!CredentialWaiters::isValidHeaderName(d->headerName) ||
        (!d->scheme.isEmpty() && !CredentialWaiters::isValidHeaderName(d->scheme))) {
        deliverLater(context, std::move(callback), QByteArray(), QByteArray(),
                     Error(Error::Code::InvalidConfiguration,
                           QStringLiteral("RFC 9110 §5.1/§11.1: the header name and scheme of an API key must be tokens")));
        return;
    }
    if (!d->key.isEmpty()) {
        deliverLater(context, std::move(callback), d->headerName, d->headerValue(), Error());
        return;
    }
    d->waiters.add(context, std::move(callback));
    d->load();
}

void ApiKeyCredential::reject(const QByteArray &headerValue)
{
    // Only if it is still the key that was sent: another request may have brought a new one.
    if (d->key.isEmpty() || headerValue != d->headerValue())
        return;
    qCDebug(lcHttp) << "API key rejected: reading the keychain again at the next request";
    d->key.clear();
}

} // namespace Keyloop
