// SPDX-License-Identifier: MIT
// The error banner at the top of the window: a headline in plain words, the SDK's detail, an
// optional action ("Grant access", "Sign in again") and a close button.
#pragma once

#include <QtWidgets/QFrame>

#include <functional>

class QLabel;
class QPushButton;

class Banner : public QFrame
{
    Q_OBJECT
public:
    explicit Banner(QWidget *parent = nullptr);

    void showMessage(const QString &headline, const QString &detail, const QString &actionText = QString(),
                     std::function<void()> action = {});
    void clear();
    QString headline() const;

private:
    QLabel *m_headline;
    QLabel *m_detail;
    QPushButton *m_action;
    std::function<void()> m_onAction;
};
