// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPair>
#include <QtCore/QUrl>

#include <functional>
#include <memory>

namespace Keyloop {

class CredentialPrivate;

/*!
 * \brief The source of an `Authorization`-like header for requests to an API: the extension
 * point of HttpClient.
 *
 * HttpClient asks a credential for a header before each request it sends to one of the
 * credential's locations (HttpClient::addCredential()), and tells it when the API rejected the
 * value (a 401). A credential that binds its tokens to a key (DPoP, RFC 9449) also adds a proof
 * to each request (requestHeaders()) and learns the server's nonces (responseReceived()).
 * Keyloop ships SessionCredential (a user's access token from a Session, sent as
 * `Authorization: Bearer …`, RFC 6750 §2.1, or `Authorization: DPoP …` with a proof, RFC 9449 §7.1), ApiKeyCredential (a static key from the keychain)
 * and ClientCredentialsCredential (the client's own token, RFC 6749 §4.4); implement your own
 * for other schemes.
 *
 * \code
 * class DeviceTokenCredential : public Keyloop::Credential
 * {
 * public:
 *     void authorize(QObject *context, AuthorizeCallback callback) override
 *     {
 *         // Always queued, exactly once, never after context is gone: deliverLater() does that.
 *         deliverLater(context, std::move(callback), "X-Device-Token", m_token, Keyloop::Error());
 *     }
 * private:
 *     QByteArray m_token;
 * };
 * \endcode
 *
 * A credential belongs to the thread it lives in, like the HttpClient that uses it. It is not
 * owned by the client: destroying it removes its locations from every client.
 */
class KEYLOOP_EXPORT Credential : public QObject
{
    Q_OBJECT
public:
    /*!
     * The answer to authorize(): a header name and value (e.g. "Authorization", "Bearer …"),
     * or an error (e.g. SignInRequired, a transient refresh failure). The value is a secret:
     * never log it.
     */
    using AuthorizeCallback =
        std::function<void(const QByteArray &headerName, const QByteArray &headerValue, const Keyloop::Error &error)>;

    ~Credential() override;

    /*!
     * Calls \a callback on \a context with the header to send. The contract is the SDK's second
     * asynchronous shape (docs/architecture.md): the callback is always queued (never called
     * before this function returns), called exactly once, and never after \a context is
     * destroyed (it is dropped then). (HttpClient does not wait for a credential that is
     * destroyed before it answers: that request fails with Error::Code::Cancelled.)
     */
    virtual void authorize(QObject *context, AuthorizeCallback callback) = 0;

    /*!
     * The API answered 401 to a request that carried \a headerValue: drop that value, but only
     * if it is still the current one (another request may have caused a new one already), so
     * that the next authorize() brings a fresh value. The default does nothing.
     */
    virtual void reject(const QByteArray &headerValue);

    /*!
     * The header to send when it is known right now, without any I/O (e.g. an access token that
     * is still fresh): true and the name and value, or false (the default) — then HttpClient
     * asks authorize(). HttpClient calls it from the event loop only, so a request still never
     * finishes inside the call that made it; it saves the request an event-loop turn.
     */
    virtual bool currentHeader(QByteArray *headerName, QByteArray *headerValue) const;

    /// Header fields (name, value) to send with one request.
    using HeaderList = QList<QPair<QByteArray, QByteArray>>;

    /*!
     * Further headers bound to one request that carries \a headerValue: called right before each
     * request leaves (a replay or a redirect within the locations included), with its \a method
     * and \a url. SessionCredential and ClientCredentialsCredential add a DPoP proof here for a
     * DPoP-bound token (RFC 9449 §7.1: a new proof for every request, with the request's method
     * and URL and the token's hash). The values are secrets like the header. The default adds
     * none. A malformed name or value fails the request with InvalidConfiguration.
     */
    virtual HeaderList requestHeaders(const QByteArray &method, const QUrl &url, const QByteArray &headerValue);

    /*!
     * The response to a request that carried \a headerValue arrived from \a url with
     * \a headers: e.g. a `DPoP-Nonce` to use in the next proofs for that server (RFC 9449 §9).
     * Called before HttpClient decides what to do with the response (a 401 asking for a DPoP
     * nonce is replayed once). The default does nothing.
     */
    virtual void responseReceived(const QUrl &url, const QByteArray &headerValue, const HeaderList &headers);

protected:
    /// For subclasses.
    explicit Credential(QObject *parent = nullptr);

    /// Queues \a callback on \a context (dropped if \a context is destroyed first): the
    /// contract of authorize() for an answer known at once.
    static void deliverLater(QObject *context, AuthorizeCallback callback, const QByteArray &headerName,
                             const QByteArray &headerValue, const Keyloop::Error &error);

private:
    std::unique_ptr<CredentialPrivate> d;
};

} // namespace Keyloop
