// SPDX-License-Identifier: MIT
#include <keyloop/refreshschedule.h>

#include <QtCore/QSharedData>

#include <algorithm>
#include <cmath>

namespace Keyloop {

class RefreshSchedulePrivate : public QSharedData
{
public:
    double jitterFraction = 1.0;
    std::chrono::milliseconds initialBackoff{2000};
    std::chrono::milliseconds maximumBackoff{5 * 60 * 1000};
};

RefreshSchedule::RefreshSchedule() : d(new RefreshSchedulePrivate) {}
RefreshSchedule::RefreshSchedule(const RefreshSchedule &other) = default;
RefreshSchedule::RefreshSchedule(RefreshSchedule &&other) noexcept = default;
RefreshSchedule &RefreshSchedule::operator=(const RefreshSchedule &other) = default;
RefreshSchedule &RefreshSchedule::operator=(RefreshSchedule &&other) noexcept = default;
RefreshSchedule::~RefreshSchedule() = default;

double RefreshSchedule::jitterFraction() const { return d->jitterFraction; }
void RefreshSchedule::setJitterFraction(double fraction)
{
    d->jitterFraction = std::isnan(fraction) ? 0.0 : std::clamp(fraction, 0.0, 1.0);
}
std::chrono::milliseconds RefreshSchedule::initialBackoff() const { return d->initialBackoff; }
void RefreshSchedule::setInitialBackoff(std::chrono::milliseconds delay)
{
    d->initialBackoff = std::max(delay, std::chrono::milliseconds(1));
}
std::chrono::milliseconds RefreshSchedule::maximumBackoff() const { return d->maximumBackoff; }
void RefreshSchedule::setMaximumBackoff(std::chrono::milliseconds delay)
{
    d->maximumBackoff = std::max(delay, std::chrono::milliseconds(1));
}

QDateTime RefreshSchedule::next(const QDateTime &issuedAt, const QDateTime &expiresAt, const QDateTime &now,
                                std::chrono::milliseconds leadTime, double random01, int failuresSoFar,
                                std::chrono::milliseconds retryAfter) const
{
    using std::chrono::milliseconds;
    const double r = std::isnan(random01) ? 0.0 : std::clamp(random01, 0.0, 1.0);
    retryAfter = std::max(retryAfter, milliseconds(0));

    // The refresh window: it ends when the session stops handing the token out (the lead time
    // before expiry, the lead time capped at half the lifetime: session/freshness_p.h) and
    // starts at half the lifetime, before which Session::accessTokenValidFor() never refreshes.
    QDateTime windowStart, windowEnd;
    if (expiresAt.isValid()) {
        milliseconds lead = std::max(leadTime, milliseconds(0));
        if (issuedAt.isValid()) {
            const milliseconds lifetime(issuedAt.msecsTo(expiresAt));
            lead = lifetime.count() > 0 ? std::min(lead, lifetime / 2) : milliseconds(0);
            windowEnd = expiresAt.addMSecs(-lead.count());
            const QDateTime halfLife = issuedAt.addMSecs(std::max<qint64>(lifetime.count(), 0) / 2);
            windowStart = std::min(halfLife, windowEnd);
        } else {
            // Without the issue time the lifetime is unknown: the lead time itself is the span.
            windowEnd = expiresAt.addMSecs(-lead.count());
            windowStart = windowEnd.addMSecs(-lead.count());
        }
    }

    if (failuresSoFar > 0) {
        // Exponential backoff with "equal jitter" — the n-th retry waits between half and all of
        // a step that doubles, so that a failing server is not hammered (the fixed half) and
        // clients that failed together do not come back together (the random half).
        // RFC 9110 §10.2.3: never before the server's Retry-After. A Retry-After is where the
        // steps start (twice it, so that half a step is still no less) and may raise their cap:
        // every client of a fleet hears the same Retry-After, and retrying all at once when it
        // ends would make the next outage.
        const int doublings = std::min(failuresSoFar - 1, 30);
        const double unit = std::max(double(d->initialBackoff.count()), 2.0 * double(retryAfter.count()));
        const double cap = std::max(double(d->maximumBackoff.count()), 2.0 * double(retryAfter.count()));
        const double step = std::min(cap, unit * std::ldexp(1.0, doublings));
        const QDateTime earliest = now.addMSecs(qint64(step / 2));
        QDateTime latest = now.addMSecs(qint64(step));
        // A failure is no reason to hurry while the token is still handed out: the retry is drawn
        // from the rest of the refresh window (after the backoff's floor), so that the clients
        // an outage held back are spread when it ends, not queued at its end.
        if (windowEnd.isValid() && windowEnd > latest)
            latest = windowEnd;
        return earliest.addMSecs(qint64(r * double(earliest.msecsTo(latest))));
    }
    if (!expiresAt.isValid())
        return {};
    // A fresh token: drawn uniformly from the last jitterFraction() of the window, so that tokens
    // issued at the same instant (a fleet's mass start, the end of an outage) are refreshed at
    // different times — and their successors too.
    const qint64 span = qint64(d->jitterFraction * double(windowStart.msecsTo(windowEnd)));
    const QDateTime when = windowEnd.addMSecs(-span).addMSecs(qint64(r * double(span)));
    return std::max(when, std::max(now, now.addMSecs(retryAfter.count())));
}

} // namespace Keyloop
