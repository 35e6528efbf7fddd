// SPDX-License-Identifier: MIT
// SessionCredential: a Session's access token as "Authorization: Bearer" (RFC 6750 §2.1) or, bound
// to the session's key, "Authorization: DPoP" with a proof (RFC 9449 §7.1), and the background
// timer that keeps it fresh (RefreshSchedule).
#include <keyloop/sessioncredential.h>

#include <keyloop/clock.h>
#include <keyloop/session.h>

#include "core/logging_p.h"
#include "http/dpopauthorization_p.h"
#include "session/freshness_p.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>

#include <algorithm>

namespace Keyloop {

namespace {
// The timer is re-armed at least this often and the wall clock read again, so that a
// suspended machine (monotonic timers stop, the wall clock does not) refreshes soon after resume.
constexpr std::chrono::milliseconds kMaxTimerStep{60 * 1000};
// Two background refreshes never start closer together than this (a guard against a busy loop
// should the schedule and the session ever disagree about staleness).
constexpr std::chrono::milliseconds kMinAttemptSpacing{500};
} // namespace

class SessionCredentialPrivate
{
public:
    SessionCredential *q;
    QPointer<Session> session;
    QString resource;
    bool proactive = true;
    RefreshSchedule schedule;
    std::function<double()> random;
    QTimer timer;
    QDateTime next;
    int failures = 0;
    std::chrono::milliseconds retryAfter{0};
    bool stopped = false;    // the last background refresh needs the user (or the app): wait for new tokens
    bool refreshing = false;
    QElapsedTimer sinceAttempt;

    explicit SessionCredentialPrivate(SessionCredential *credential) : q(credential) {}

    QDateTime now() const { return session ? session->clock()->dateTime() : QDateTime::currentDateTimeUtc(); }
    void reschedule();
    void arm();
    void onTimer();
    void onBackgroundResult(const Error &error);
};

void SessionCredentialPrivate::reschedule()
{
    if (!proactive || !session || !session->isSignedIn() || stopped) {
        next = QDateTime();
        timer.stop();
        return;
    }
    if (refreshing)
        return; // rescheduled when it ends
    const SessionAccessToken token = session->record().accessToken(resource);
    if (failures == 0 && token.isNull()) {
        // Nothing to keep fresh: the next use fetches a token.
        next = QDateTime();
        timer.stop();
        return;
    }
    next = schedule.next(token.issuedAt, token.expiresAt, now(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(session->refreshLeadTime()),
                         random(), failures, retryAfter);
    arm();
}

void SessionCredentialPrivate::arm()
{
    if (!next.isValid()) {
        timer.stop();
        return;
    }
    qint64 delay = std::clamp<qint64>(now().msecsTo(next), 0, kMaxTimerStep.count());
    if (sinceAttempt.isValid())
        delay = std::max<qint64>(delay, kMinAttemptSpacing.count() - sinceAttempt.elapsed());
    timer.start(int(std::max<qint64>(delay, 0)));
}

void SessionCredentialPrivate::onTimer()
{
    if (!session || !next.isValid() || refreshing)
        return;
    if (now() < next) {
        arm(); // a step of a long wait
        return;
    }
    qCDebug(lcHttp) << "background refresh due";
    refreshing = true;
    sinceAttempt.start();
    // The schedule refreshes early, while the session still hands the token out: ask for a
    // token that outlasts the one held (a token another process refreshed meanwhile does).
    const SessionAccessToken token = session->record().accessToken(resource);
    const std::chrono::milliseconds validity(token.expiresAt.isValid() ? std::max<qint64>(0, next.msecsTo(token.expiresAt)) : 0);
    session->accessTokenValidFor(resource, validity, q, [this](const QByteArray &, const Error &error) {
        refreshing = false;
        onBackgroundResult(error);
    });
}

void SessionCredentialPrivate::onBackgroundResult(const Error &error)
{
    if (!error) {
        failures = 0;
        retryAfter = std::chrono::milliseconds(0);
        reschedule();
        return;
    }
    if (error.isTransient()) {
        ++failures;
        retryAfter = std::chrono::duration_cast<std::chrono::milliseconds>(error.retryAfter());
        qCDebug(lcHttp) << "background refresh failed, retrying with backoff:" << error.code();
    } else {
        // SignInRequired, a configuration or ID token problem: retrying cannot help. Wait until
        // the session's tokens change (a sign-in, another process's refresh).
        stopped = true;
        failures = 0;
        qCDebug(lcHttp) << "background refresh failed, stopped until the tokens change:" << error.code();
    }
    reschedule();
    Q_EMIT q->backgroundRefreshFailed(error);
}

SessionCredential::SessionCredential(Session *session, const QString &resource, QObject *parent)
    : Credential(parent), d(std::make_unique<SessionCredentialPrivate>(this))
{
    d->session = session;
    d->resource = resource;
    d->random = [] { return QRandomGenerator::global()->generateDouble(); };
    d->timer.setSingleShot(true);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->onTimer(); });
    if (session) {
        connect(session, &Session::tokensChanged, this, [this] {
            d->stopped = false;
            if (!d->refreshing)
                d->failures = 0;
            d->reschedule();
        });
    }
    d->reschedule();
}

SessionCredential::~SessionCredential() = default;

Session *SessionCredential::session() const { return d->session; }
QString SessionCredential::resource() const { return d->resource; }

void SessionCredential::authorize(QObject *context, AuthorizeCallback callback)
{
    if (!d->session) {
        deliverLater(context, std::move(callback), QByteArray(), QByteArray(),
                     Error(Error::Code::SignInRequired, QStringLiteral("the session of this credential is gone")));
        return;
    }
    // Session::freshAccessToken keeps the contract: queued, once, never after context dies.
    QPointer<Session> session = d->session;
    const QString resource = d->resource;
    d->session->freshAccessToken(d->resource, context, [callback = std::move(callback), session, resource](const QByteArray &token, const Error &error) {
        if (error) {
            callback(QByteArray(), QByteArray(), error);
            return;
        }
        // The type of the token just handed out (the record holds it by now).
        const SessionAccessToken held = session ? session->record().accessToken(resource) : SessionAccessToken();
        const QString type = held.token == token ? held.tokenType : QString();
        callback(QByteArrayLiteral("Authorization"),
                 DpopAuthorization::headerValue(type, session ? session->dpopKey() : DpopKey(), token), Error());
    });
}

bool SessionCredential::currentHeader(QByteArray *headerName, QByteArray *headerValue) const
{
    Session *s = d->session;
    if (!s || !s->isSignedIn() || !s->isPersistent()) // not persistent: maybe a save to retry at use
        return false;
    const SessionAccessToken token = s->record().accessToken(d->resource);
    if (!Freshness::isFresh(token, s->clock()->dateTime(), s->refreshLeadTime()))
        return false;
    *headerName = QByteArrayLiteral("Authorization");
    *headerValue = DpopAuthorization::headerValue(token.tokenType, s->dpopKey(), token.token);
    return true;
}

void SessionCredential::reject(const QByteArray &headerValue)
{
    const QByteArray token = DpopAuthorization::tokenOf(headerValue);
    if (!d->session || token.isEmpty())
        return;
    d->session->invalidateAccessToken(d->resource, token);
}

Credential::HeaderList SessionCredential::requestHeaders(const QByteArray &method, const QUrl &url,
                                                        const QByteArray &headerValue)
{
    // A Bearer request (the common case) costs a prefix check, not a look at the session's key.
    if (!d->session || !DpopAuthorization::isDpopValue(headerValue))
        return {};
    return DpopAuthorization::proofHeaders(d->session->dpopKey(), method, url, headerValue, d->now());
}

void SessionCredential::responseReceived(const QUrl &url, const QByteArray &headerValue, const HeaderList &headers)
{
    if (d->session && DpopAuthorization::isDpopValue(headerValue))
        DpopAuthorization::rememberNonce(d->session->dpopKey(), url, headers);
}

bool SessionCredential::isProactiveRefreshEnabled() const { return d->proactive; }

void SessionCredential::setProactiveRefreshEnabled(bool enabled)
{
    d->proactive = enabled;
    d->reschedule();
}

RefreshSchedule SessionCredential::refreshSchedule() const { return d->schedule; }

void SessionCredential::setRefreshSchedule(const RefreshSchedule &schedule)
{
    d->schedule = schedule;
    d->reschedule();
}

void SessionCredential::setRandomSource(std::function<double()> random01)
{
    if (random01)
        d->random = std::move(random01);
    else
        d->random = [] { return QRandomGenerator::global()->generateDouble(); };
    d->reschedule();
}

QDateTime SessionCredential::nextRefresh() const { return d->next; }

} // namespace Keyloop
