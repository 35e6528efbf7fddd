// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/job.h>

#include <QtCore/QByteArray>
#include <QtCore/QJsonValue>
#include <QtCore/QList>
#include <QtCore/QPair>
#include <QtCore/QUrl>

#include <memory>

namespace Keyloop {

class HttpReplyPrivate;

/*!
 * \brief The answer to one logical request made with HttpClient: one reply however many times
 * the request was sent (a replay after a 401, a Retry-After, redirects).
 *
 * A Job (job.h), but one that HttpClient starts itself: get(), post() … send the request at
 * once and return the reply started, like QNetworkAccessManager. finished() always comes from
 * the event loop, so connecting to Job::finished() afterwards is safe. finished() comes exactly once; then the reply deletes itself unless setAutoDelete(false).
 * cancel() aborts whatever is in flight and finishes it with Cancelled.
 *
 * After finished():
 * - error() is null for a final status below 400 (a 3xx that was not followed, e.g. 304,
 *   included). It is set for a status of 400 or more — HttpError (transient for 408, 429 and
 *   5xx, with Error::retryAfter() from a Retry-After), InsufficientScope (403, RFC 6750 §3.1),
 *   StepUpRequired (RFC 9470 §3) — and then statusCode(), the headers and body() are still
 *   there. A Bearer challenge's `error` is in Error::oauthError(). Other errors: the request
 *   was not allowed (InsecureEndpoint, CredentialNotAllowed, RequestBodyTooLarge), the
 *   credential could not give a header (e.g. SignInRequired), a redirect was refused
 *   (UnexpectedRedirect), or the transport failed (NetworkError, TlsError, Timeout,
 *   ResponseTooLarge): then statusCode() may be 0.
 * - The values describe the last response received.
 */
class KEYLOOP_EXPORT HttpReply : public Job
{
    Q_OBJECT
public:
    ~HttpReply() override;

    /// The method of the last request sent (a 303 turns a POST into a GET).
    QByteArray method() const;
    /// The URL of the last request sent (after redirects).
    QUrl url() const;
    /// The HTTP status of the last response; 0 when none was received.
    int statusCode() const;
    /// A response header (case-insensitive name); several headers of one name are joined by ", ".
    QByteArray rawHeader(const QByteArray &name) const;
    /// All headers of the last response, as QNetworkReply::rawHeaderPairs() gives them.
    QList<QPair<QByteArray, QByteArray>> rawHeaderPairs() const;
    /// The response body (complete, within TransportOptions::maxResponseSize()).
    QByteArray body() const;
    /*!
     * body() as strict JSON (RFC 8259: duplicate member names, invalid UTF-8, trailing text
     * are rejected). Any JSON value at the top level. On failure returns an undefined value and
     * sets \a error (MalformedResponse, DuplicateParameter, ResponseTooLarge).
     */
    QJsonValue json(Error *error = nullptr) const;

protected:
    void doStart() override;
    void doCancel() override;

private:
    friend class HttpClientPrivate;
    friend class HttpReplyPrivate;
    explicit HttpReply(QObject *parent = nullptr);
    std::unique_ptr<HttpReplyPrivate> d;
};

} // namespace Keyloop
