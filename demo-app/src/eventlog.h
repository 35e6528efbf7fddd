// SPDX-License-Identifier: MIT
// The event log panel: what the SDK did, as it happened — the SDK's own log events
// (keyloop.session, keyloop.http, …: events, never values) and the app's, each line passed
// through redacted() before it is shown.
#pragma once

#include <QtCore/QStringList>
#include <QtWidgets/QWidget>

class QPlainTextEdit;

class EventLog : public QWidget
{
    Q_OBJECT
public:
    explicit EventLog(QWidget *parent = nullptr);
    ~EventLog() override;

    /// Routes the SDK's debug events (categories "keyloop.*") to every EventLog; other messages
    /// go to the previous handler. With \a echo, the SDK's events are also written to stderr.
    static void installMessageHandler(bool echo);

    void add(const QString &event);
    /// Every line shown so far (for the tour and the tests).
    QStringList lines() const { return m_lines; }

Q_SIGNALS:
    void added(const QString &line);

private:
    QPlainTextEdit *m_view;
    QStringList m_lines;
};
