// SPDX-License-Identifier: MIT
#include <keyloop/job.h>

#include "core/logging_p.h"

#include <QtCore/QMetaObject>
#include <QtCore/QPointer>

namespace Keyloop {

class JobPrivate
{
public:
    Error error;
    bool started = false;
    bool finished = false;
    bool cancelled = false;
    bool autoDelete = true;
};

Job::Job(QObject *parent) : QObject(parent), d_job(std::make_unique<JobPrivate>()) {}

Job::~Job() = default;

bool Job::isStarted() const { return d_job->started; }
bool Job::isFinished() const { return d_job->finished; }
Error Job::error() const { return d_job->error; }
bool Job::autoDelete() const { return d_job->autoDelete; }
void Job::setAutoDelete(bool autoDelete) { d_job->autoDelete = autoDelete; }

void Job::doCancel() {}

void Job::start()
{
    if (d_job->started || d_job->finished)
        return;
    d_job->started = true;
    // Queued: the caller may connect after start(), and finished() never comes from inside it.
    QMetaObject::invokeMethod(this, [this] {
        if (!d_job->finished)
            doStart();
    }, Qt::QueuedConnection);
}

void Job::cancel()
{
    if (d_job->finished)
        return;
    const bool wasStarted = d_job->started;
    d_job->started = true;
    d_job->cancelled = true;
    if (wasStarted)
        doCancel();
    emitResult(Error(Error::Code::Cancelled, QStringLiteral("the operation was cancelled")));
}

void Job::startNow()
{
    if (d_job->started || d_job->finished)
        return;
    d_job->started = true;
    doStart();
}

bool Job::markFinished(const Error &error)
{
    if (d_job->finished) {
        if (!d_job->cancelled)
            qCWarning(lcCore) << metaObject()->className() << "finished twice; the second result is ignored";
        return false;
    }
    d_job->finished = true;
    d_job->error = error;
    return true;
}

void Job::deliverFinished()
{
    const QPointer<Job> self(this);
    Q_EMIT finished(QPrivateSignal());
    // A slot may have deleted the job, or kept it with setAutoDelete(false).
    if (self && d_job->autoDelete)
        deleteLater();
}

void Job::emitResult(const Error &error)
{
    if (markFinished(error))
        QMetaObject::invokeMethod(this, [this] { deliverFinished(); }, Qt::QueuedConnection);
}

void Job::emitResultFromEventLoop(const Error &error)
{
    if (markFinished(error))
        deliverFinished();
}

} // namespace Keyloop
