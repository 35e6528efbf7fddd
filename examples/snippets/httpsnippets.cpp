// SPDX-License-Identifier: MIT
// Code docs/http-client.md and docs/credentials.md quote: compiled with the examples (warnings are errors), never run.
// The regions between `//! [name]` lines are copied verbatim into the guide, and
// examples/check-doc-snippets.sh keeps the copies identical.

#include <keyloop/apikeycredential.h>
#include <keyloop/clientcredentialscredential.h>
#include <keyloop/clock.h>
#include <keyloop/credential.h>
#include <keyloop/dpopkey.h>
#include <keyloop/error.h>
#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/session.h>
#include <keyloop/secretjob.h>
#include <keyloop/sessioncredential.h>
#include <keyloop/tokenclient.h>

#include <QtCore/QDebug>
#include <QtCore/QFile>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>

namespace KeyloopDocSnippets {

void callAnApi(Keyloop::Session *session, QNetworkAccessManager *nam, QObject *context)
{
    //! [setup]
    // One HttpClient per QNetworkAccessManager; one credential per API (resource indicator).
    auto *http = new Keyloop::HttpClient(nam, session->clientConfiguration().transport(), context);
    auto *api = new Keyloop::SessionCredential(session, QStringLiteral("https://api.example.com"), context);
    // Where the token may go: the API's URLs, explicitly. The resource indicator above names the
    // API to the provider; it is never taken for a URL.
    if (const Keyloop::Error e = http->addCredential(api, {QUrl(QStringLiteral("https://api.example.com/v1")),
                                                           QUrl(QStringLiteral("https://files.example.com/upload"))}))
        qWarning() << "not bound:" << e; // CredentialNotAllowed: not https, a query, …
    //! [setup]

    //! [get]
    Keyloop::HttpReply *reply = http->get(QNetworkRequest(QUrl(QStringLiteral("https://api.example.com/v1/items"))));
    QObject::connect(reply, &Keyloop::Job::finished, context, [reply] {
        // The reply is started already and deletes itself after finished().
        if (const Keyloop::Error e = reply->error()) {
            if (e.requiresSignIn())
                qWarning() << "sign in again";
            else if (e.code() == Keyloop::Error::Code::InsufficientScope)
                qWarning() << "the API needs scopes" << e.requiredScopes();
            else if (e.code() == Keyloop::Error::Code::StepUpRequired)
                qWarning() << "sign in again with acr_values" << e.requiredAcrValues();
            else if (e.isTransient())
                qWarning() << "try again later" << e.retryAfter().count() << "s";
            else
                qWarning() << "HTTP" << reply->statusCode() << e; // reply->body() is still there
            return;
        }
        Keyloop::Error jsonError;
        const QJsonValue items = reply->json(&jsonError); // strict JSON (no duplicate members)
        if (!jsonError)
            qDebug() << items.toObject().keys();
    });
    //! [get]

    //! [post]
    QNetworkRequest request(QUrl(QStringLiteral("https://api.example.com/v1/items")));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    Keyloop::HttpReply *created = http->post(request, QByteArrayLiteral("{\"name\":\"new\"}"));
    QObject::connect(created, &Keyloop::Job::finished, context, [created] { qDebug() << created->statusCode(); });

    QFile file(QStringLiteral("report.pdf"));
    if (file.open(QIODevice::ReadOnly)) {
        // Read whole now (at most maxRequestBodySize()), so the file may close at once; a replay
        // after a 401 or a Retry-After sends the same bytes.
        Keyloop::HttpReply *uploaded = http->put(QNetworkRequest(QUrl(QStringLiteral("https://files.example.com/upload/report.pdf"))),
                                                 Keyloop::HttpBody::fromDevice(&file));
        QObject::connect(uploaded, &Keyloop::Job::finished, context, [uploaded] { qDebug() << uploaded->error(); });
    }
    //! [post]
}

//! [credential]
// Another scheme for another API: a value the app gets elsewhere (here: handed in), in a header
// of its own. (For a stored API key, Keyloop ships ApiKeyCredential.)
class DeviceTokenCredential : public Keyloop::Credential
{
public:
    explicit DeviceTokenCredential(const QByteArray &token, QObject *parent = nullptr) : Credential(parent), m_token(token) {}

    void authorize(QObject *context, AuthorizeCallback callback) override
    {
        // Queued, once, never after context is gone: deliverLater() keeps the contract.
        deliverLater(context, std::move(callback), QByteArrayLiteral("X-Device-Token"), m_token, Keyloop::Error());
    }
    // reject(): this value cannot be renewed here; the default (do nothing) fits.

private:
    QByteArray m_token;
};
//! [credential]

void apiKey(Keyloop::HttpClient *http, const QByteArray &keyFromTheUser, QObject *context)
{
    //! [apikey]
    // The key lives in the OS keychain under the app id, item "api-key:weather".
    auto *weather = new Keyloop::ApiKeyCredential(QStringLiteral("org.example.MyApp"), QStringLiteral("weather"), context);
    // weather->setHeaderName("Authorization"); weather->setScheme("Token");  // "Authorization: Token <key>"
    if (const Keyloop::Error e = http->addCredential(weather, {QUrl(QStringLiteral("https://weather.example.com/v2"))}))
        qWarning() << "not bound:" << e;

    // Once, e.g. from a settings dialog: never in code or a configuration file.
    Keyloop::SecretJob *job = weather->store(keyFromTheUser);
    QObject::connect(job, &Keyloop::Job::finished, context, [job] {
        if (job->error())
            qWarning() << "the key was not stored:" << job->error(); // StorageUnavailable: no keychain
    });
    job->start();
    // Later requests read it from the keychain on first use; weather->remove() forgets it.
    //! [apikey]
}

void clientCredentials(Keyloop::HttpClient *http, Keyloop::TokenClient *tokens, const Keyloop::ProviderConfiguration &provider,
                       const QByteArray &provisionedSecret, QObject *context)
{
    //! [clientcredentials]
    // A confidential client: its secret is provisioned per installation, never shipped in the app.
    Keyloop::ClientConfiguration client;
    client.setIssuer(QUrl(QStringLiteral("https://login.example.com")));
    client.setClientId(QStringLiteral("inventory-agent"));
    client.setClientAuthMethod(Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
    client.setScopes({QStringLiteral("inventory:read")});
    auto *agent = new Keyloop::ClientCredentialsCredential(QStringLiteral("org.example.InventoryAgent"), tokens, provider,
                                                           client, QStringLiteral("https://api.example.com"), context);
    if (const Keyloop::Error e = http->addCredential(agent, {QUrl(QStringLiteral("https://api.example.com/v1"))}))
        qWarning() << "not bound:" << e;

    // At provisioning time (an installer, an enrolment step), not at every start:
    Keyloop::SecretJob *job = agent->storeClientSecret(provisionedSecret);
    QObject::connect(job, &Keyloop::Job::finished, context, [job] {
        if (job->error())
            qWarning() << "the secret was not stored:" << job->error();
    });
    job->start();
    //! [clientcredentials]
}

void proactive(Keyloop::SessionCredential *api)
{
    //! [proactive]
    Keyloop::RefreshSchedule schedule;
    schedule.setJitterFraction(0.5);                            // only the last half of the window: fewer refreshes, less spread
    schedule.setInitialBackoff(std::chrono::seconds(2));        // then 2 s, 4 s, 8 s … (with jitter)
    schedule.setMaximumBackoff(std::chrono::minutes(5));
    api->setRefreshSchedule(schedule);
    QObject::connect(api, &Keyloop::SessionCredential::backgroundRefreshFailed, api, [](const Keyloop::Error &e) {
        if (e.requiresSignIn())
            qWarning() << "the session ended; the next request will say so too";
    });
    // api->setProactiveRefreshEnabled(false);                  // e.g. a one-shot command-line tool
    //! [proactive]
}

void ownTransport(Keyloop::Session *session, QNetworkAccessManager *nam, QObject *context)
{
    //! [dpop-own-transport]
    // Without HttpClient: a DPoP-bound token goes as "DPoP <token>", with a new proof of the
    // session's key for every request (RFC 9449 §7.1); a Bearer token as before.
    const QUrl url(QStringLiteral("https://api.example.com/v1/items"));
    session->freshAccessToken(QStringLiteral("https://api.example.com"), context,
                              [session, nam, url](const QByteArray &token, const Keyloop::Error &error) {
        if (error)
            return;
        QNetworkRequest request(url);
        const Keyloop::DpopKey key = session->dpopKey(); // null: the session's tokens are Bearer tokens
        if (key.isNull()) {
            request.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + token);
        } else {
            request.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("DPoP ") + token);
            request.setRawHeader(QByteArrayLiteral("DPoP"), key.createProof(QByteArrayLiteral("GET"), url,
                                                                            session->clock()->dateTime(), token,
                                                                            key.nonce(url)));
        }
        QNetworkReply *reply = nam->get(request);
        QObject::connect(reply, &QNetworkReply::finished, reply, [key, url, reply] {
            // The API's nonce, for the next proof to this origin (§9). A 401 use_dpop_nonce
            // answer is yours to send again, with a new proof.
            if (!key.isNull() && reply->hasRawHeader(QByteArrayLiteral("DPoP-Nonce")))
                key.setNonce(url, reply->rawHeader(QByteArrayLiteral("DPoP-Nonce")));
            reply->deleteLater();
        });
    });
    //! [dpop-own-transport]
}

} // namespace KeyloopDocSnippets
