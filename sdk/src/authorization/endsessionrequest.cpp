// SPDX-License-Identifier: MIT
#include <keyloop/endsessionrequest.h>

#include <keyloop/clientconfiguration.h>
#include <keyloop/providerconfiguration.h>

#include "core/crypto_p.h"
#include "core/logging_p.h"

#include "network/httpexchange_p.h"

#include <QtCore/QDebug>
#include <QtCore/QUrlQuery>

namespace Keyloop {

class EndSessionRequestPrivate : public QSharedData
{
public:
    QUrl url;
    QUrl endpoint;
    QString clientId;
    QByteArray idTokenHint;
    QUrl postLogoutRedirectUri;
    QByteArray state;
    QStringList uiLocales;
};

namespace {

// RP-Initiated Logout 1.0 §2: the parameters this request sets (logout_hint is never sent).
const char *const kParameters[] = {"id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"};

Error invalid(const QString &message)
{
    return Error(Error::Code::InvalidConfiguration, message);
}

} // namespace

EndSessionRequest::EndSessionRequest() : d(new EndSessionRequestPrivate) {}
EndSessionRequest::EndSessionRequest(const EndSessionRequest &other) = default;
EndSessionRequest::EndSessionRequest(EndSessionRequest &&other) noexcept = default;
EndSessionRequest &EndSessionRequest::operator=(const EndSessionRequest &other) = default;
EndSessionRequest &EndSessionRequest::operator=(EndSessionRequest &&other) noexcept = default;
EndSessionRequest::~EndSessionRequest() = default;

EndSessionRequest EndSessionRequest::create(const ClientConfiguration &client, const ProviderConfiguration &provider,
                                            const QByteArray &idTokenHint, const QUrl &postLogoutRedirectUri,
                                            Error *error, const QStringList &uiLocales)
{
    Error local;
    Error &err = error ? *error : local;
    err = Error();

    // Every message below names a rule, never the hint, the state or a URL with its query.
    const QUrl endpoint = provider.endSessionEndpoint();
    if (endpoint.isEmpty()) {
        err = Error(Error::Code::EndSessionNotSupported,
                    QStringLiteral("the provider has no end_session_endpoint: it does not offer RP-initiated logout "
                                   "(OpenID Connect RP-Initiated Logout 1.0 §2.1)"));
        return {};
    }
    if (const Error e = checkEndpointUrl(endpoint, client.transport(), QStringLiteral("end_session_endpoint"))) {
        err = e;
        return {};
    }
    if (client.clientId().isEmpty()) {
        err = invalid(QStringLiteral("the client id is not set (RFC 6749 §2.2)"));
        return {};
    }
    // RP-Initiated Logout §3: the post-logout redirect URI is an absolute, registered URI; like
    // a redirect URI (RFC 6749 §3.1.2) it has no fragment.
    if (!postLogoutRedirectUri.isValid() || postLogoutRedirectUri.isRelative() || postLogoutRedirectUri.hasFragment()) {
        err = invalid(QStringLiteral("the post_logout_redirect_uri must be absolute and have no fragment "
                                     "(RP-Initiated Logout §3)"));
        return {};
    }
    // The endpoint's own query is kept (as for the authorization endpoint, RFC 6749 §3.1), and
    // no parameter may occur twice.
    const QUrlQuery existing(endpoint);
    for (const char *name : kParameters) {
        if (existing.hasQueryItem(QLatin1String(name))) {
            err = invalid(QStringLiteral("the end_session_endpoint's query already contains %1").arg(QLatin1String(name)));
            return {};
        }
    }

    EndSessionRequest request;
    EndSessionRequestPrivate *p = request.d.data();
    p->endpoint = endpoint;
    p->clientId = client.clientId();
    p->idTokenHint = idTokenHint;
    p->postLogoutRedirectUri = postLogoutRedirectUri;
    // RP-Initiated Logout §2 `state`: 256 bits from the CSPRNG, so that a redirect to the
    // loopback port that did not come from this logout is recognised (§3).
    p->state = Crypto::randomToken(32);
    for (const QString &locale : uiLocales) {
        if (!locale.isEmpty() && !p->uiLocales.contains(locale))
            p->uiLocales.append(locale);
    }

    // RP-Initiated Logout §2: the RP sends the parameters with GET, in the query. The ID token
    // as a hint is what the specification asks for; it makes the URL a secret (see url()).
    FormFields fields;
    if (!idTokenHint.isEmpty())
        fields.append({QByteArrayLiteral("id_token_hint"), idTokenHint});
    fields.append({QByteArrayLiteral("client_id"), p->clientId.toUtf8()});
    fields.append({QByteArrayLiteral("post_logout_redirect_uri"),
                   postLogoutRedirectUri.toString(QUrl::FullyEncoded).toUtf8()});
    fields.append({QByteArrayLiteral("state"), p->state});
    if (!p->uiLocales.isEmpty())
        fields.append({QByteArrayLiteral("ui_locales"), p->uiLocales.join(QLatin1Char(' ')).toUtf8()});

    p->url = withFormQuery(endpoint, fields);
    qCDebug(lcAuthorization) << "end-session request built for" << endpoint.host() << endpoint.path();
    return request;
}

bool EndSessionRequest::isNull() const { return d->url.isEmpty(); }
QUrl EndSessionRequest::url() const { return d->url; }
QUrl EndSessionRequest::endSessionEndpoint() const { return d->endpoint; }
QString EndSessionRequest::clientId() const { return d->clientId; }
QByteArray EndSessionRequest::idTokenHint() const { return d->idTokenHint; }
QUrl EndSessionRequest::postLogoutRedirectUri() const { return d->postLogoutRedirectUri; }
QByteArray EndSessionRequest::state() const { return d->state; }
QStringList EndSessionRequest::uiLocales() const { return d->uiLocales; }

QDebug operator<<(QDebug debug, const EndSessionRequest &request)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Keyloop::EndSessionRequest(endpoint=" << request.endSessionEndpoint().host()
                    << request.endSessionEndpoint().path() << ", clientId=" << request.clientId()
                    << ", postLogoutRedirectUri="
                    << request.postLogoutRedirectUri().toString(QUrl::RemoveQuery | QUrl::RemoveFragment)
                    << ", idTokenHint=" << (request.idTokenHint().isEmpty() ? "<none>" : "<redacted>")
                    << ", state=<redacted>)";
    return debug;
}

} // namespace Keyloop
