// SPDX-License-Identifier: MIT
// The demo's main window: the thinnest composition over Keyloop::Client. No OAuth logic here —
// the window shows the client's state and forwards the user's clicks to it.
//
// Pages: "profiles" (choose a provider), "signIn" (restore, sign in, progress, the URL to copy),
// "account" (the user, the token panel, the API panel). Widgets have object names, so that
// the end-to-end test (tests/integration/demo) and the tour (demotour.h) drive the real window.
#pragma once

#include "profile.h"

#include <keyloop/client.h>

#include <QtCore/QDateTime>
#include <QtWidgets/QMainWindow>

#include <memory>

class ApiPanel;
class DeviceCodePanel;
class Banner;
class EventLog;
class TokenPanel;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QStackedWidget;
namespace Keyloop { class BrowserLauncher; }

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    struct Options
    {
        QList<DemoProfile> profiles;
        QString initialProfile;                       ///< used at once (restored) when set and usable
        QString appId = QStringLiteral("org.keyloop.demo"); ///< keychain service, lock and index name
        Keyloop::BrowserLauncher *browser = nullptr; ///< default: the system browser (QDesktopServices)
        bool rememberInSettings = true;               ///< window geometry and last profile (QSettings)
    };

    explicit MainWindow(const Options &options, QWidget *parent = nullptr);
    ~MainWindow() override;

    Keyloop::Client *client() const { return m_client.get(); }
    EventLog *eventLog() const { return m_log; }
    Banner *banner() const { return m_banner; }
    ApiPanel *apiPanel() const { return m_api; }
    TokenPanel *tokenPanel() const { return m_tokens; }
    DeviceCodePanel *deviceCodePanel() const { return m_deviceCode; }

    /// "profiles", "signIn" or "account".
    QString page() const;
    /// What the window shows, as plain text (the tour prints it; no secrets are ever shown).
    QString describe() const;

    /// Starts using profile \a index: a new Keyloop::Client, restored from the keychain.
    void useProfile(int index);
    /// The profiles the window offers.
    QList<DemoProfile> profiles() const { return m_options.profiles; }

Q_SIGNALS:
    void pageChanged(const QString &page);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    QWidget *buildProfilesPage();
    QWidget *buildSignInPage();
    QWidget *buildAccountPage();
    void connectClient();
    void showState();
    void showUser();
    void showAccounts();
    void showError(const Keyloop::Error &error);
    void refreshNow();
    void signInAnotherAccount();
    void setPage(QWidget *page);

    Options m_options;
    std::unique_ptr<Keyloop::BrowserLauncher> m_ownBrowser;
    std::unique_ptr<Keyloop::Client> m_client;
    int m_profile = -1;

    Banner *m_banner;
    EventLog *m_log;
    QStackedWidget *m_pages;
    // profiles
    QWidget *m_profilesPage;
    QListWidget *m_profileList;
    QPushButton *m_useProfile;
    // sign-in
    QWidget *m_signInPage;
    QLabel *m_signInTitle;
    QLabel *m_signInHint;
    QPushButton *m_signIn;
    QPushButton *m_deviceSignIn;
    DeviceCodePanel *m_deviceCode;
    QWidget *m_progress;
    QPushButton *m_cancelSignIn;
    QLineEdit *m_authorizationUrl;
    // account
    QWidget *m_accountPage;
    QLabel *m_name;
    QLabel *m_email;
    QLabel *m_subject;
    QComboBox *m_accounts;
    TokenPanel *m_tokens;
    ApiPanel *m_api;
    QPushButton *m_refreshNow;
    QPushButton *m_signOut;
    QCheckBox *m_endProviderSession;
    QLabel *m_stateLabel;
    QDateTime m_lastRefresh;
};
