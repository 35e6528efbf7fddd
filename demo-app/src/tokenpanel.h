// SPDX-License-Identifier: MIT
// The token panel: for each access token its resource, scopes and an expiry countdown; the
// time of the last refresh; redacted previews (length and a hash prefix — never a token).
#pragma once

#include <keyloop/sessionrecord.h>

#include <QtCore/QDateTime>
#include <QtCore/QPointer>
#include <QtWidgets/QGroupBox>

class QLabel;
class QTimer;
namespace Keyloop { class Session; }

class TokenPanel : public QGroupBox
{
    Q_OBJECT
public:
    explicit TokenPanel(QWidget *parent = nullptr);

    /// The session whose tokens are shown (null: none). Re-read at every tokensChanged().
    void setSession(Keyloop::Session *session);
    void setLastRefresh(const QDateTime &when);
    QString text() const; ///< what the panel shows (plain text; for the tour and tests)

private:
    void reload();
    void tick();

    QPointer<Keyloop::Session> m_session;
    QByteArray m_dpopThumbprint; // RFC 7638 thumbprint of the session's DPoP key, empty without one
    Keyloop::SessionRecord m_record;
    QDateTime m_lastRefresh;
    QLabel *m_label;
    QTimer *m_timer;
};
