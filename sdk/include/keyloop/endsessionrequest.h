// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

QT_BEGIN_NAMESPACE
class QDebug;
QT_END_NAMESPACE

namespace Keyloop {

class ClientConfiguration;
class ProviderConfiguration;
class EndSessionRequestPrivate;

/*!
 * \brief One logout request to the provider's `end_session_endpoint` (OpenID Connect
 * RP-Initiated Logout 1.0 §2), opened in the user's browser.
 *
 * An implicitly shared, immutable value. url() is the endpoint with these query parameters
 * (§2: a GET with the parameters in the query; the endpoint's own query is kept):
 * - `id_token_hint` — the session's ID token, when there is one (RECOMMENDED by §2);
 * - `client_id` — always, so that the provider knows the client even without a hint (§2);
 * - `post_logout_redirect_uri` — the app's loopback URI, registered like the redirect URI (§3);
 * - `state` — 256 bits from the CSPRNG, checked when the browser comes back (§2, §3);
 * - `ui_locales` — when given (§2), space-separated BCP 47 tags.
 *
 * The ID token in the URL is what the specification asks for, but it makes url() a secret:
 * hand it to the browser, never log it, print it or put it in an error (the SDK does none of
 * these). QDebug prints the request with the hint and the state redacted.
 */
class KEYLOOP_EXPORT EndSessionRequest
{
public:
    /// A null request; see create().
    EndSessionRequest();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    EndSessionRequest(const EndSessionRequest &other);
    EndSessionRequest(EndSessionRequest &&other) noexcept;
    EndSessionRequest &operator=(const EndSessionRequest &other);
    EndSessionRequest &operator=(EndSessionRequest &&other) noexcept;
    ///@}
    ~EndSessionRequest();

    /*!
     * Builds a request with a fresh state. \a idTokenHint may be empty (the provider then
     * usually asks the user to confirm). Fails with EndSessionNotSupported when \a provider
     * has no end_session_endpoint; with InsecureEndpoint when it breaks the client's transport
     * rules; with InvalidConfiguration when the client id is missing, \a postLogoutRedirectUri
     * is not an absolute URI without fragment, or the endpoint's query already carries one of
     * the parameters above. No error message contains the hint, the state or the URL.
     */
    static EndSessionRequest create(const ClientConfiguration &client, const ProviderConfiguration &provider,
                                    const QByteArray &idTokenHint, const QUrl &postLogoutRedirectUri,
                                    Error *error, const QStringList &uiLocales = {});

    /// True for a request that was not built (default-constructed, or create() failed).
    bool isNull() const;

    /// The URL to open in the browser. Carries the ID token: never log it.
    QUrl url() const;

    /// `end_session_endpoint` (OIDC Discovery §3 / RP-Initiated Logout §2.1)
    QUrl endSessionEndpoint() const;
    /// `client_id`
    QString clientId() const;
    /// `id_token_hint`; empty when none was given; secret.
    QByteArray idTokenHint() const;
    /// `post_logout_redirect_uri`
    QUrl postLogoutRedirectUri() const;
    /// `state`; secret.
    QByteArray state() const;
    /// `ui_locales`, as sent.
    QStringList uiLocales() const;

private:
    QSharedDataPointer<EndSessionRequestPrivate> d;
};

/// Prints the endpoint's host and path, the client id and the post-logout redirect URI; the
/// ID token hint and the state are redacted.
KEYLOOP_EXPORT QDebug operator<<(QDebug debug, const EndSessionRequest &request);

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::EndSessionRequest)
