// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QDateTime>
#include <QtCore/QSharedDataPointer>

#include <chrono>

namespace Keyloop {

class RefreshSchedulePrivate;

/*!
 * \brief When to refresh an access token in the background: a pure function with jitter and
 * backoff, so that a fleet of installed clients never refreshes in step.
 *
 * SessionCredential uses it to keep its token fresh before anyone waits for it; it is public so
 * that it can be tested, tuned and reused. next() has no side effects and reads no clock and no
 * random source: both are passed in.
 *
 * - **A fresh token** (no failure so far): a time drawn uniformly from the first
 *   jitterFraction() of the refresh window. The window is the one Session uses: it starts when
 *   the token has no more than the lead time left, the lead time being capped at half the
 *   token's lifetime (Session::refreshLeadTime()). So with the default 60 s lead time and
 *   fraction 0.5, an hour-long token is refreshed between 60 s and 30 s before it expires; a
 *   2-second token between 1 s and 0.5 s before.
 * - **After a failure** (a transient one: network, 5xx, 429): exponential backoff with "equal
 *   jitter" — the n-th retry waits between half and all of min(maximumBackoff(),
 *   initialBackoff() × 2^(n−1)) — and never less than the server's Retry-After
 *   (RFC 9110 §10.2.3).
 *
 * \code
 * const Keyloop::RefreshSchedule schedule;
 * const QDateTime when = schedule.next(token.issuedAt, token.expiresAt, clock->dateTime(),
 *                                      session->refreshLeadTime(), QRandomGenerator::global()->generateDouble());
 * \endcode
 */
class KEYLOOP_EXPORT RefreshSchedule
{
public:
    /// The defaults: jitter fraction 0.5, backoff from 2 s up to 5 minutes.
    RefreshSchedule();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    RefreshSchedule(const RefreshSchedule &other);
    RefreshSchedule(RefreshSchedule &&other) noexcept;
    RefreshSchedule &operator=(const RefreshSchedule &other);
    RefreshSchedule &operator=(RefreshSchedule &&other) noexcept;
    ///@}
    ~RefreshSchedule();

    /// The share of the refresh window the refresh time is drawn from, in [0, 1]. Default 0.5:
    /// a token is always refreshed with at least half of the lead time left.
    double jitterFraction() const;
    /// Sets jitterFraction(), clamped to [0, 1] (NaN: 0).
    void setJitterFraction(double fraction);

    /// The base delay of the first retry after a failure. Default 2 s.
    std::chrono::milliseconds initialBackoff() const;
    /// Sets initialBackoff() (at least 1 ms).
    void setInitialBackoff(std::chrono::milliseconds delay);

    /// The cap of the backoff. Default 5 minutes.
    std::chrono::milliseconds maximumBackoff() const;
    /// Sets maximumBackoff() (at least 1 ms).
    void setMaximumBackoff(std::chrono::milliseconds delay);

    /*!
     * When to refresh a token issued at \a issuedAt that expires at \a expiresAt, seen at
     * \a now, with the session's \a leadTime. \a random01 is a uniform random number in [0, 1)
     * (clamped), \a failuresSoFar the number of background refreshes that failed in a row
     * since the last success, \a retryAfter the server's last Retry-After (zero: none).
     *
     * Never earlier than \a now. Returns an invalid QDateTime when there is nothing to schedule:
     * no failure and no known expiry (RFC 6749 §5.1: `expires_in` is only RECOMMENDED).
     */
    QDateTime next(const QDateTime &issuedAt, const QDateTime &expiresAt, const QDateTime &now,
                   std::chrono::milliseconds leadTime, double random01, int failuresSoFar = 0,
                   std::chrono::milliseconds retryAfter = std::chrono::milliseconds(0)) const;

private:
    QSharedDataPointer<RefreshSchedulePrivate> d;
};

} // namespace Keyloop
