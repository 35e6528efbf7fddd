// SPDX-License-Identifier: MIT
#include <keyloop/refreshschedule.h>

#include <QtCore/QSharedData>

#include <algorithm>
#include <cmath>

namespace Keyloop {

class RefreshSchedulePrivate : public QSharedData
{
public:
    double jitterFraction = 0.5;
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
    if (failuresSoFar > 0) {
        // Exponential backoff with "equal jitter": half of the step is fixed (a floor, so that
        // a failing server is not hammered), half is random (so that clients that failed
        // together do not come back together).
        const int doublings = std::min(failuresSoFar - 1, 30);
        const double step = std::min(double(d->maximumBackoff.count()),
                                     double(d->initialBackoff.count()) * std::ldexp(1.0, doublings));
        milliseconds delay(qint64(step / 2 + r * step / 2));
        // RFC 9110 §10.2.3: never before the server's Retry-After.
        delay = std::max(delay, retryAfter);
        return now.addMSecs(delay.count());
    }
    if (!expiresAt.isValid())
        return {};
    // The window Session uses (session/freshness_p.h): the lead time capped at half the lifetime.
    milliseconds lead = std::max(leadTime, milliseconds(0));
    if (issuedAt.isValid()) {
        const milliseconds lifetime(issuedAt.msecsTo(expiresAt));
        lead = lifetime.count() > 0 ? std::min(lead, lifetime / 2) : milliseconds(0);
    }
    const QDateTime windowStart = expiresAt.addMSecs(-lead.count());
    const QDateTime when = windowStart.addMSecs(qint64(r * d->jitterFraction * double(lead.count())));
    return std::max(when, std::max(now, now.addMSecs(retryAfter.count())));
}

} // namespace Keyloop
