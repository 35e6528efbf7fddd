// SPDX-License-Identifier: MIT
#include "tokenpanel.h"

#include "redaction.h"

#include <keyloop/session.h>

#include <QtCore/QTimer>
#include <QtWidgets/QLabel>
#include <QtWidgets/QVBoxLayout>

TokenPanel::TokenPanel(QWidget *parent)
    : QGroupBox(QStringLiteral("Tokens"), parent), m_label(new QLabel(this)), m_timer(new QTimer(this))
{
    setObjectName(QStringLiteral("tokenPanel"));
    m_label->setObjectName(QStringLiteral("tokenText"));
    m_label->setTextFormat(Qt::PlainText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_label->setWordWrap(true);
    m_label->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_label);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &TokenPanel::tick);
}

void TokenPanel::setSession(Keyloop::Session *session)
{
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (session)
        connect(session, &Keyloop::Session::tokensChanged, this, &TokenPanel::reload);
    reload();
}

void TokenPanel::setLastRefresh(const QDateTime &when)
{
    m_lastRefresh = when;
    tick();
}

void TokenPanel::reload()
{
    // A copy with secrets: only lengths, hashes, scopes and times leave this function.
    m_record = m_session ? m_session->record() : Keyloop::SessionRecord();
    m_dpopThumbprint = m_session ? m_session->dpopKey().thumbprint() : QByteArray(); // public, not secret
    if (m_record.isNull())
        m_timer->stop();
    else
        m_timer->start();
    tick();
}

QString TokenPanel::text() const { return m_label->text(); }

void TokenPanel::tick()
{
    if (m_record.isNull()) {
        m_label->setText(QStringLiteral("No tokens."));
        return;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList lines;
    const auto tokens = m_record.accessTokens();
    for (auto it = tokens.cbegin(); it != tokens.cend(); ++it) {
        const Keyloop::SessionAccessToken &t = it.value();
        const QString resource = it.key().isEmpty() ? QStringLiteral("the provider (UserInfo)") : it.key();
        lines.append(QStringLiteral("Access token for %1").arg(resource));
        const QStringList scopes = t.scopes.isEmpty() ? m_record.scopes() : t.scopes;
        lines.append(QStringLiteral("  scopes: %1").arg(scopes.join(QLatin1Char(' '))));
        if (t.tokenType.compare(QLatin1String("DPoP"), Qt::CaseInsensitive) == 0 && !m_dpopThumbprint.isEmpty())
            lines.append(QStringLiteral("  type: DPoP, bound to this device's key (thumbprint %1…)")
                             .arg(QString::fromLatin1(m_dpopThumbprint.left(12))));
        else if (!t.tokenType.isEmpty())
            lines.append(QStringLiteral("  type: %1").arg(t.tokenType));
        if (t.expiresAt.isValid()) {
            const qint64 left = now.secsTo(t.expiresAt);
            lines.append(left > 0 ? QStringLiteral("  expires in %1 s (%2)").arg(left).arg(t.expiresAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")))
                                  : QStringLiteral("  expired %1 s ago: refreshed at the next use").arg(-left));
        }
        if (t.issuedAt.isValid())
            lines.append(QStringLiteral("  issued at %1").arg(t.issuedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
        lines.append(QStringLiteral("  preview: %1").arg(tokenFingerprint(t.token)));
    }
    lines.append(QStringLiteral("Refresh token: %1").arg(m_record.refreshToken().isEmpty()
                                                             ? QStringLiteral("none (the session ends with its access token)")
                                                             : QStringLiteral("in the keychain, ") + tokenFingerprint(m_record.refreshToken())));
    lines.append(QStringLiteral("ID token: %1").arg(tokenFingerprint(m_record.idToken())));
    lines.append(QStringLiteral("Last refresh: %1").arg(m_lastRefresh.isValid()
                                                            ? m_lastRefresh.toLocalTime().toString(QStringLiteral("HH:mm:ss"))
                                                            : QStringLiteral("none yet in this run")));
    m_label->setText(lines.join(QLatin1Char('\n')));
}
