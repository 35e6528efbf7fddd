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
 * The **refresh window** of a token ends when the session stops handing it out: when no more
 * than the lead time is left, the lead time being capped at half the token's lifetime
 * (Session::refreshLeadTime()). It starts at half the lifetime: SessionCredential refreshes
 * early with Session::accessTokenValidFor(), which never refreshes a token with more than half
 * of its lifetime left.
 *
 * - **A fresh token** (no failure so far): a time drawn uniformly from the last jitterFraction()
 *   of the window. With the defaults (fraction 1, 60 s lead time) an hour-long token is
 *   refreshed between 30 minutes and 60 s before it expires; a 2-second token 1 s before. The
 *   window is this wide so that a fleet that got its tokens at the same instant (a mass start at
 *   9 a.m., the end of an outage) stops refreshing in step within a few token lifetimes
 *   (docs/fleet-refresh.md); the price is that tokens are used for about 3/4 of
 *   their lifetime on average, not all of it. Without an issue time the lifetime is unknown and
 *   the window is the lead time before the lead time.
 * - **After a failure** (a transient one: network, 5xx, 429): exponential backoff with "equal
 *   jitter" — the n-th retry waits between half and all of a step of
 *   min(maximumBackoff(), initialBackoff() × 2^(n−1)). A Retry-After (RFC 9110 §10.2.3) is a
 *   floor: the steps then start at twice it and their cap is at least twice it, so the first
 *   retry comes between Retry-After and twice that, the next between twice and four times, …
 *   — a fleet that heard the same Retry-After does not come back in one second. While the
 *   token's refresh window has not ended, the retry is drawn from after the backoff's floor up
 *   to the window's end instead: the token is still good, and clients that an outage held back
 *   are spread over their windows when it ends.
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
    /// The defaults: jitter fraction 1, backoff from 2 s up to 5 minutes.
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

    /// The share of the refresh window the refresh time is drawn from, counted back from the
    /// window's end, in [0, 1]. Default 1: the whole window. 0: no jitter, every token is
    /// refreshed when the session would stop handing it out.
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
