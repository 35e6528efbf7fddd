// SPDX-License-Identifier: MIT
#include "eventlog.h"

#include "redaction.h"

#include <QtCore/QDateTime>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMetaObject>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QVBoxLayout>

namespace {

QMutex g_mutex;
QList<QPointer<EventLog>> g_logs;
QtMessageHandler g_previous = nullptr;
bool g_echo = false;

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const bool sdk = context.category && qstrncmp(context.category, "keyloop.", 8) == 0;
    if (!sdk || g_echo || type >= QtWarningMsg) {
        if (g_previous)
            g_previous(type, context, redacted(message));
    }
    if (!sdk)
        return;
    const QString line = QString::fromLatin1(context.category + 8) + QStringLiteral(": ") + message;
    QMutexLocker lock(&g_mutex);
    for (const QPointer<EventLog> &log : std::as_const(g_logs)) {
        if (log) // the SDK may log from a network thread: shown from the GUI thread
            QMetaObject::invokeMethod(log.data(), [log, line] { if (log) log->add(line); }, Qt::QueuedConnection);
    }
}

} // namespace

EventLog::EventLog(QWidget *parent) : QWidget(parent), m_view(new QPlainTextEdit(this))
{
    setObjectName(QStringLiteral("eventLog"));
    m_view->setObjectName(QStringLiteral("eventLogView"));
    m_view->setReadOnly(true);
    m_view->setMaximumBlockCount(2000);
    m_view->setAccessibleName(QStringLiteral("Event log"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *title = new QLabel(QStringLiteral("Event log (the SDK's own events; secrets are never logged)"), this);
    layout->addWidget(title);
    layout->addWidget(m_view);
    QMutexLocker lock(&g_mutex);
    g_logs.append(this);
}

EventLog::~EventLog()
{
    QMutexLocker lock(&g_mutex);
    g_logs.removeAll(this);
    g_logs.removeAll(nullptr);
}

void EventLog::installMessageHandler(bool echo)
{
    g_echo = echo;
    QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*.debug=true"));
    QtMessageHandler previous = qInstallMessageHandler(handler);
    if (previous != handler)
        g_previous = previous;
}

void EventLog::add(const QString &event)
{
    const QString line = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss.zzz  ")) + redacted(event);
    m_lines.append(line);
    m_view->appendPlainText(line);
    Q_EMIT added(line);
}
