// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/error.h>
#include <keyloop/global.h>

#include <QtCore/QObject>

#include <memory>

namespace Keyloop {

class JobPrivate;

/*!
 * \brief The one asynchronous contract of every Keyloop job (DiscoveryJob, TokenJob,
 * IdTokenValidationJob, UserInfoJob, TokenStoreJob, SessionJob, SignIn, EndSessionJob, HttpReply).
 *
 * - **Running.** A job is created by a constructor or a factory (TokenClient::refresh(),
 *   TokenStore::read(), Session::restore(), …) and does nothing until start() is called. The
 *   work begins on the next event-loop turn, so connecting after start() is safe. Calling
 *   start() twice has no effect. (One exception, like QNetworkAccessManager's replies:
 *   HttpClient's get(), post() … return an HttpReply that has sent its request already.)
 * - **Finishing.** finished() is emitted exactly once, always from the event loop (never from
 *   inside start() or cancel()): on success, on failure — an immediate one included — and
 *   after cancel(). error() is null on success and set once finished.
 * - **After finishing.** The job deletes itself (deleteLater) after finished() unless
 *   setAutoDelete(false) was called; then the owner deletes it. Results stay readable in the
 *   slot connected to finished().
 * - **Cancelling.** cancel() stops the work and finishes the job with Error::Code::Cancelled.
 *   Cancelling a finished job does nothing; cancelling a job that was never started finishes it
 *   too (it will not start).
 *
 * \code
 * Keyloop::DiscoveryJob *job = new Keyloop::DiscoveryJob(nam, issuer, transport);
 * job->start();
 * connect(job, &Keyloop::Job::finished, this, [job] {
 *     if (job->error()) report(job->error()); else use(job->configuration());
 * });
 * \endcode
 *
 * The second, deliberate asynchronous shape of the SDK is the callback with a context object
 * (Session::freshAccessToken(), JwksCache::keys(), AccountIndex::upsert()), like
 * QTimer::singleShot(): the callback is always queued, called exactly once, and never after
 * the context object is destroyed. See docs/architecture.md.
 *
 * Subclasses implement doStart() (and doCancel() when they hold work that must be stopped) and
 * end with emitResult() exactly once.
 */
class KEYLOOP_EXPORT Job : public QObject
{
    Q_OBJECT
public:
    ~Job() override;

    /// Queues the work. No effect once started, cancelled or finished.
    void start();
    /// Stops the work; finished() follows (queued) with Error::Code::Cancelled. No effect once finished.
    void cancel();

    /// True once start() (or cancel()) was called.
    bool isStarted() const;
    /// True once the result is known (it is delivered by finished(), queued).
    bool isFinished() const;
    /// Null on success (and before the job has finished).
    Error error() const;

    /// Default true: the job deletes itself (deleteLater) after finished().
    bool autoDelete() const;
    /// Sets autoDelete().
    /// Sets autoDelete(). Takes effect when finished() has been delivered, so a slot connected
    /// to finished() may still call setAutoDelete(false) to keep the job.
    void setAutoDelete(bool autoDelete);

Q_SIGNALS:
    /// Emitted exactly once, from the event loop. Only Job can emit it.
    void finished(QPrivateSignal);

protected:
    /// For subclasses: a job that has not started.
    explicit Job(QObject *parent = nullptr);
    /// Called from the event loop after start(); must end, now or later, in emitResult().
    virtual void doStart() = 0;
    /// Called by cancel() on a started, unfinished job: stop the work in flight without
    /// emitting anything. The default does nothing.
    virtual void doCancel();
    /*!
     * Sets the result and queues finished() (and then the auto-deletion). A job finishes once:
     * a later call is ignored (after cancel() that is expected; otherwise it is a bug and is
     * logged).
     */
    void emitResult(const Error &error = Error());
    /*!
     * Like start(), but calls doStart() now. Only for a job whose doStart() cannot finish
     * synchronously (it ends in emitResult(), queued, or in network I/O): HttpClient's replies,
     * which send their request at once, like QNetworkAccessManager's.
     */
    void startNow();
    /*!
     * Like emitResult(), but emits finished() now. Only from a slot the event loop called for
     * this job's own I/O (a network reply's signal) — never from doStart(), doCancel() or a
     * public method — so that finished() still never comes from inside a caller's call. Saves
     * an event-loop turn per request (bench/httpclient: client.overhead).
     */
    void emitResultFromEventLoop(const Error &error = Error());

private:
    bool markFinished(const Error &error);
    void deliverFinished();

    std::unique_ptr<JobPrivate> d_job;
};

} // namespace Keyloop
