// SPDX-License-Identifier: MIT
#include "banner.h"

#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

Banner::Banner(QWidget *parent)
    : QFrame(parent), m_headline(new QLabel(this)), m_detail(new QLabel(this)), m_action(new QPushButton(this))
{
    setObjectName(QStringLiteral("banner"));
    m_headline->setObjectName(QStringLiteral("bannerHeadline"));
    m_detail->setObjectName(QStringLiteral("bannerDetail"));
    m_action->setObjectName(QStringLiteral("bannerAction"));
    setFrameShape(QFrame::StyledPanel);
    setStyleSheet(QStringLiteral("#banner { background: #fdecea; border: 1px solid #e0a39b; border-radius: 4px; }"
                                 "#bannerHeadline { font-weight: bold; color: #611a15; }"));
    setAccessibleName(QStringLiteral("Error"));
    m_headline->setWordWrap(true);
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *close = new QPushButton(QStringLiteral("&Dismiss"), this);
    close->setObjectName(QStringLiteral("bannerClose"));
    auto *text = new QVBoxLayout;
    text->addWidget(m_headline);
    text->addWidget(m_detail);
    auto *layout = new QHBoxLayout(this);
    layout->addLayout(text, 1);
    layout->addWidget(m_action);
    layout->addWidget(close);
    connect(close, &QPushButton::clicked, this, &Banner::clear);
    connect(m_action, &QPushButton::clicked, this, [this] {
        const auto action = m_onAction;
        clear();
        if (action)
            action();
    });
    hide();
}

void Banner::showMessage(const QString &headline, const QString &detail, const QString &actionText,
                         std::function<void()> action)
{
    m_headline->setText(headline);
    m_detail->setText(detail);
    m_onAction = std::move(action);
    m_action->setText(actionText);
    m_action->setVisible(!actionText.isEmpty() && m_onAction);
    show();
}

void Banner::clear()
{
    m_headline->clear();
    m_detail->clear();
    m_onAction = nullptr;
    hide();
}

QString Banner::headline() const { return m_headline->text(); }
