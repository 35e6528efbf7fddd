// SPDX-License-Identifier: MIT
// ClientCredentialsCredential: RFC 6749 §4.4 tokens for a confidential client whose secret is in
// the keychain; cached, single-flight, refreshed before expiry while in use.
#include <keyloop/clientcredentialscredential.h>

#include <keyloop/clock.h>
#include <keyloop/issueridentifier.h>
#include <keyloop/secretjob.h>
#include <keyloop/tokenclient.h>
#include <keyloop/tokenstore.h>

#include "core/logging_p.h"
#include "http/dpopauthorization_p.h"
#include "session/dpopkeyfor_p.h"
#include "http/credentialwaiters_p.h"
#include "session/freshness_p.h"

#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>

#include <algorithm>

namespace Keyloop {

namespace {
constexpr std::chrono::milliseconds kMaxTimerStep{60 * 1000}; // re-read the wall clock at least this often
} // namespace

class ClientCredentialsCredentialPrivate
{
public:
    ClientCredentialsCredential *q;
    QString service;
    QPointer<TokenClient> tokens;
    ProviderConfiguration provider;
    ClientConfiguration client;
    QString resource;
    std::chrono::seconds leadTime{60};

    QByteArray secret;            // empty: not read yet
    SessionAccessToken token;     // null: none
    bool tokenUsed = false;       // handed out since it was obtained: worth refreshing ahead
    quint64 secretVersion = 0;    // bumped by store/remove of the secret
    QPointer<SecretJob> reading;
    QPointer<TokenJob> requesting;
    CredentialWaiters waiters;

    bool proactive = true;
    RefreshSchedule schedule;
    QTimer timer;
    QDateTime next;
    int failures = 0;
    std::chrono::milliseconds retryAfter{0};
    bool background = false; // the fetch in flight was started by the timer

    explicit ClientCredentialsCredentialPrivate(ClientCredentialsCredential *credential) : q(credential) {}

    DpopKey dpopKey; // RFC 9449, with ClientConfiguration::isDpopEnabled(): this credential's own, in memory

    QDateTime now() const { return tokens ? tokens->clock()->dateTime() : QDateTime::currentDateTimeUtc(); }
    QByteArray headerValue() const { return DpopAuthorization::headerValue(token.tokenType, dpopKey, token.token); }
    bool isFresh() const { return Freshness::isFresh(token, now(), std::chrono::duration_cast<std::chrono::milliseconds>(leadTime)); }
    void fetch();
    void requestToken();
    void finish(const Error &error);
    void reschedule();
    void arm();
};

void ClientCredentialsCredentialPrivate::fetch()
{
    if (reading || requesting)
        return; // single flight
    if (!tokens) {
        finish(Error(Error::Code::InvalidConfiguration, QStringLiteral("the token client of this credential is gone")));
        return;
    }
    if (client.clientAuthMethod() == ClientConfiguration::ClientAuthMethod::None) {
        // RFC 6749 §4.4 / §2.1: the grant is for confidential clients only (RFC 8252 §8.5).
        finish(Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("RFC 6749 §4.4: client credentials need a confidential client (client_secret_basic or client_secret_post)")));
        return;
    }
    if (!secret.isEmpty()) {
        requestToken();
        return;
    }
    qCDebug(lcHttp) << "client credentials: reading the client secret from the keychain";
    SecretJob *job = SecretJob::read(service, q->keychainItemName());
    reading = job;
    const quint64 startedAt = secretVersion;
    QObject::connect(job, &Job::finished, q, [this, job, startedAt] {
        reading = nullptr;
        if (secretVersion != startedAt) {
            fetch(); // the secret was stored or removed meanwhile
            return;
        }
        if (const Error error = job->error()) {
            finish(error.code() == Error::Code::NotFound
                       ? Error(Error::Code::NotFound, QStringLiteral("no client secret is provisioned for this client"))
                       : error);
            return;
        }
        secret = job->secret();
        requestToken();
    });
    job->start();
}

void ClientCredentialsCredentialPrivate::requestToken()
{
    ClientConfiguration config = client;
    config.setClientSecret(QString::fromUtf8(secret));
    qCDebug(lcHttp) << "client credentials: token request started";
    // RFC 9449: a key for this credential's lifetime, in memory; its tokens are useless elsewhere.
    if (const Error e = ensureDpopKey(client, provider, &dpopKey)) {
        finish(e);
        return;
    }
    TokenJob *job = tokens->clientCredentials(provider, config, client.scopes(), resource);
    job->setDpopKey(dpopKey);
    requesting = job;
    const quint64 startedAt = secretVersion;
    QObject::connect(job, &Job::finished, q, [this, job, startedAt] {
        requesting = nullptr;
        if (secretVersion != startedAt) {
            fetch(); // the secret changed meanwhile: this answer is for the old one
            return;
        }
        if (const Error error = job->error()) {
            if (error.code() == Error::Code::ClientAuthenticationFailed)
                secret.clear(); // read the keychain again next time: it may have been rotated
            finish(error);
            return;
        }
        const TokenResponse response = job->response();
        token = SessionAccessToken();
        token.token = response.accessToken();
        token.tokenType = response.tokenType();
        token.issuedAt = response.receivedAt();
        token.expiresAt = response.expiresAt();
        tokenUsed = false;
        qCDebug(lcHttp) << "client credentials: token received";
        finish(Error());
    });
    job->start();
}

void ClientCredentialsCredentialPrivate::finish(const Error &error)
{
    const bool wasBackground = std::exchange(background, false);
    if (error) {
        if (wasBackground) {
            if (error.isTransient()) {
                ++failures;
                retryAfter = std::chrono::duration_cast<std::chrono::milliseconds>(error.retryAfter());
            } else {
                failures = 0;
                next = QDateTime(); // stop until the next request
                timer.stop();
            }
            if (error.isTransient())
                reschedule();
            Q_EMIT q->backgroundRefreshFailed(error);
        }
        waiters.fail(error);
        return;
    }
    failures = 0;
    retryAfter = std::chrono::milliseconds(0);
    if (!waiters.isEmpty()) {
        tokenUsed = true;
        waiters.succeed(QByteArrayLiteral("Authorization"), headerValue());
    }
    reschedule();
}

void ClientCredentialsCredentialPrivate::reschedule()
{
    if (!proactive || token.isNull() || (!tokenUsed && failures == 0)) {
        next = QDateTime();
        timer.stop();
        return;
    }
    next = schedule.next(token.issuedAt, token.expiresAt, now(), std::chrono::duration_cast<std::chrono::milliseconds>(leadTime),
                         QRandomGenerator::global()->generateDouble(), failures, retryAfter);
    arm();
}

void ClientCredentialsCredentialPrivate::arm()
{
    if (!next.isValid()) {
        timer.stop();
        return;
    }
    timer.start(int(std::clamp<qint64>(now().msecsTo(next), 0, kMaxTimerStep.count())));
}

ClientCredentialsCredential::ClientCredentialsCredential(const QString &serviceName, TokenClient *tokens,
                                                         const ProviderConfiguration &provider,
                                                         const ClientConfiguration &client, const QString &resource,
                                                         QObject *parent)
    : Credential(parent), d(std::make_unique<ClientCredentialsCredentialPrivate>(this))
{
    d->service = serviceName;
    d->tokens = tokens;
    d->provider = provider;
    d->client = client;
    d->client.setClientSecret(QString()); // the secret comes from the keychain only
    d->resource = resource;
    d->timer.setSingleShot(true);
    connect(&d->timer, &QTimer::timeout, this, [this] {
        if (!d->next.isValid() || d->reading || d->requesting)
            return;
        if (d->now() < d->next) {
            d->arm(); // a step of a long wait
            return;
        }
        qCDebug(lcHttp) << "client credentials: background refresh due";
        d->background = true;
        d->fetch();
    });
}

ClientCredentialsCredential::~ClientCredentialsCredential()
{
    if (d->requesting)
        d->requesting->cancel();
    if (d->reading)
        d->reading->cancel();
    d->waiters.fail(Error(Error::Code::Cancelled, QStringLiteral("the client credentials credential was destroyed")));
}

QString ClientCredentialsCredential::serviceName() const { return d->service; }
QString ClientCredentialsCredential::resource() const { return d->resource; }

QString ClientCredentialsCredential::keychainItemName() const
{
    return QStringLiteral("client-secret:") + TokenStore::keyFor(issuerIdentifier(d->client.issuer()), d->client.clientId(), QString());
}

SecretJob *ClientCredentialsCredential::storeClientSecret(const QByteArray &secret)
{
    SecretJob *job = SecretJob::write(d->service, keychainItemName(), secret);
    connect(job, &Job::finished, this, [this, job] {
        if (job->error())
            return;
        ++d->secretVersion;
        d->secret = job->secret();
        qCDebug(lcHttp) << "client credentials: client secret stored";
    });
    return job;
}

SecretJob *ClientCredentialsCredential::removeClientSecret()
{
    SecretJob *job = SecretJob::remove(d->service, keychainItemName());
    connect(job, &Job::finished, this, [this, job] {
        if (job->error())
            return;
        ++d->secretVersion;
        d->secret.clear();
        d->token = SessionAccessToken();
        d->reschedule();
        qCDebug(lcHttp) << "client credentials: client secret removed";
    });
    return job;
}

void ClientCredentialsCredential::authorize(QObject *context, AuthorizeCallback callback)
{
    if (d->isFresh()) {
        d->tokenUsed = true;
        if (!d->next.isValid())
            d->reschedule();
        deliverLater(context, std::move(callback), QByteArrayLiteral("Authorization"), d->headerValue(), Error());
        return;
    }
    d->waiters.add(context, std::move(callback));
    d->fetch();
}

void ClientCredentialsCredential::reject(const QByteArray &headerValue)
{
    // Only if it is still the current token: a replay after a newer token must keep that one.
    if (d->token.isNull() || headerValue != d->headerValue())
        return;
    qCDebug(lcHttp) << "client credentials: token rejected, dropped";
    d->token = SessionAccessToken();
    d->reschedule();
}

Credential::HeaderList ClientCredentialsCredential::requestHeaders(const QByteArray &method, const QUrl &url,
                                                                  const QByteArray &headerValue)
{
    return DpopAuthorization::proofHeaders(d->dpopKey, method, url, headerValue, d->now());
}

void ClientCredentialsCredential::responseReceived(const QUrl &url, const QByteArray &, const HeaderList &headers)
{
    DpopAuthorization::rememberNonce(d->dpopKey, url, headers);
}

std::chrono::seconds ClientCredentialsCredential::refreshLeadTime() const { return d->leadTime; }
void ClientCredentialsCredential::setRefreshLeadTime(std::chrono::seconds lead) { d->leadTime = std::max(lead, std::chrono::seconds(0)); }

bool ClientCredentialsCredential::isProactiveRefreshEnabled() const { return d->proactive; }
void ClientCredentialsCredential::setProactiveRefreshEnabled(bool enabled)
{
    d->proactive = enabled;
    d->reschedule();
}

RefreshSchedule ClientCredentialsCredential::refreshSchedule() const { return d->schedule; }
void ClientCredentialsCredential::setRefreshSchedule(const RefreshSchedule &schedule)
{
    d->schedule = schedule;
    d->reschedule();
}

QDateTime ClientCredentialsCredential::nextRefresh() const { return d->next; }

} // namespace Keyloop
