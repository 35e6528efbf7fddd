// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "apipanel.h"
#include "devicecodepanel.h"
#include "banner.h"
#include "errortext.h"
#include "eventlog.h"
#include "tokenpanel.h"

#include <keyloop/browserlauncher.h>
#include <keyloop/gui/desktopservicesbrowserlauncher.h>
#include <keyloop/session.h>

#include <QtCore/QSettings>
#include <QtGui/QClipboard>
#include <QtGui/QCloseEvent>
#include <QtGui/QGuiApplication>
#include <QtGui/QIcon>
#include <QtGui/QPainter>
#include <QtGui/QPixmap>
#include <QtGui/QPolygonF>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QGroupBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QInputDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QStackedWidget>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QVBoxLayout>

using Keyloop::Client;

namespace {

QLabel *valueLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setTextFormat(Qt::PlainText); // claims are the provider's text: never rich text
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return label;
}

QString stateName(Client::State state)
{
    switch (state) {
    case Client::State::Idle: return QStringLiteral("Not started");
    case Client::State::Restoring: return QStringLiteral("Restoring the session from the keychain…");
    case Client::State::SignInRequired: return QStringLiteral("Signed out");
    case Client::State::SigningIn: return QStringLiteral("Signing in…");
    case Client::State::SignedIn: return QStringLiteral("Signed in");
    case Client::State::SigningOut: return QStringLiteral("Signing out…");
    }
    return QString();
}

// The app icon (resources/keyloop-demo.svg for desktops), drawn here at each size: Qt's SVG
// image plugin is not part of qt6-base.
QIcon demoIcon()
{
    QIcon icon;
    for (const int size : {16, 24, 32, 48, 64, 128, 256}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.scale(size / 64.0, size / 64.0);
        painter.setPen(Qt::NoPen);
        painter.setBrush(QColor(0x1f, 0x5f, 0xa8));
        painter.drawRoundedRect(QRectF(2, 2, 60, 60), 14, 14);
        painter.setPen(QPen(Qt::white, 6));
        painter.setBrush(Qt::NoBrush);
        painter.drawEllipse(QPointF(24, 32), 11, 11);
        painter.setPen(Qt::NoPen);
        painter.setBrush(Qt::white);
        painter.drawPolygon(QPolygonF({{35, 32}, {56, 32}, {56, 40}, {50, 40}, {50, 36}, {45, 36}, {45, 42}, {39, 42}, {39, 36}, {35, 36}}));
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace

MainWindow::MainWindow(const Options &options, QWidget *parent)
    : QMainWindow(parent), m_options(options), m_banner(new Banner(this)), m_log(new EventLog(this)),
      m_pages(new QStackedWidget(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("Keyloop Demo"));
    setWindowIcon(demoIcon());
    if (!m_options.browser) {
        m_ownBrowser = std::make_unique<Keyloop::DesktopServicesBrowserLauncher>();
        m_options.browser = m_ownBrowser.get();
    }
    m_profilesPage = buildProfilesPage();
    m_signInPage = buildSignInPage();
    m_accountPage = buildAccountPage();
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->addWidget(m_profilesPage);
    m_pages->addWidget(m_signInPage);
    m_pages->addWidget(m_accountPage);

    auto *central = new QWidget(this);
    auto *splitter = new QSplitter(Qt::Vertical, central);
    splitter->addWidget(m_pages);
    splitter->addWidget(m_log);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);
    m_stateLabel = new QLabel(this);
    m_stateLabel->setObjectName(QStringLiteral("stateLabel"));
    statusBar()->addWidget(m_stateLabel);

    for (const DemoProfile &p : std::as_const(m_options.profiles)) {
        auto *item = new QListWidgetItem(p.missing().isEmpty() ? p.name : QStringLiteral("%1 — needs %2").arg(p.name, p.missing()),
                                         m_profileList);
        item->setToolTip(p.notes);
        if (!p.missing().isEmpty())
            item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
    }

    QString initial = m_options.initialProfile;
    bool placed = false;
    if (m_options.rememberInSettings) { // window geometry and the last profile; never a token
        QSettings settings;
        placed = restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
        if (initial.isEmpty())
            initial = settings.value(QStringLiteral("lastProfile")).toString();
    }
    if (!placed)
        resize(1000, 720);
    setPage(m_profilesPage);
    for (int i = 0; i < m_options.profiles.size(); ++i) {
        if (m_options.profiles.at(i).name == initial && m_options.profiles.at(i).missing().isEmpty()) {
            useProfile(i);
            break;
        }
    }
}

MainWindow::~MainWindow()
{
    m_api->setClient(nullptr, {});
    m_tokens->setSession(nullptr);
}

QWidget *MainWindow::buildProfilesPage()
{
    auto *page = new QWidget(this);
    page->setObjectName(QStringLiteral("profilesPage"));
    m_profileList = new QListWidget(page);
    m_profileList->setObjectName(QStringLiteral("profileList"));
    m_profileList->setAccessibleName(QStringLiteral("Provider profiles"));
    m_useProfile = new QPushButton(QStringLiteral("&Continue"), page);
    m_useProfile->setObjectName(QStringLiteral("useProfileButton"));
    m_useProfile->setDefault(true);
    auto *hint = new QLabel(QStringLiteral("Choose a provider. Profiles come from the devstack (--devstack) and from a "
                                           "profiles file (--profiles); see docs/demo-app.md."), page);
    hint->setWordWrap(true);
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(hint);
    layout->addWidget(m_profileList, 1);
    layout->addWidget(m_useProfile, 0, Qt::AlignRight);
    connect(m_useProfile, &QPushButton::clicked, this, [this] {
        if (m_profileList->currentRow() >= 0)
            useProfile(m_profileList->currentRow());
    });
    connect(m_profileList, &QListWidget::itemActivated, this, [this] { useProfile(m_profileList->currentRow()); });
    return page;
}

QWidget *MainWindow::buildSignInPage()
{
    auto *page = new QWidget(this);
    page->setObjectName(QStringLiteral("signInPage"));
    m_signInTitle = new QLabel(page);
    m_signInTitle->setObjectName(QStringLiteral("signInTitle"));
    QFont big = m_signInTitle->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    m_signInTitle->setFont(big);
    m_signInHint = new QLabel(QStringLiteral("Sign-in happens in your own browser (RFC 8252): this app never sees your password."), page);
    m_signInHint->setWordWrap(true);
    m_signIn = new QPushButton(QStringLiteral("&Sign in with the browser"), page);
    m_signIn->setObjectName(QStringLiteral("signInButton"));
    m_signIn->setDefault(true);
    // RFC 8628: for machines where no browser can reach this app (SSH, containers); the user
    // chooses it (§5.4), and it is offered only when the provider has the grant.
    m_deviceSignIn = new QPushButton(QStringLiteral("Sign in with a &code on another device"), page);
    m_deviceSignIn->setObjectName(QStringLiteral("deviceSignInButton"));
    m_deviceCode = new DeviceCodePanel(page);
    auto *change = new QPushButton(QStringLiteral("C&hange provider"), page);
    change->setObjectName(QStringLiteral("changeProviderButton"));

    m_progress = new QWidget(page);
    m_progress->setObjectName(QStringLiteral("signInProgress"));
    auto *bar = new QProgressBar(m_progress);
    bar->setRange(0, 0);
    bar->setAccessibleName(QStringLiteral("Waiting for the browser"));
    m_cancelSignIn = new QPushButton(QStringLiteral("&Cancel"), m_progress);
    m_cancelSignIn->setObjectName(QStringLiteral("cancelSignInButton"));
    m_authorizationUrl = new QLineEdit(m_progress);
    m_authorizationUrl->setObjectName(QStringLiteral("authorizationUrlEdit"));
    m_authorizationUrl->setReadOnly(true);
    m_authorizationUrl->setAccessibleName(QStringLiteral("Sign-in address"));
    auto *copy = new QPushButton(QStringLiteral("Cop&y"), m_progress);
    copy->setObjectName(QStringLiteral("copyUrlButton"));
    auto *waiting = new QLabel(QStringLiteral("Waiting for you to finish in the browser. If no browser opened, copy "
                                              "this address into one:"), m_progress);
    waiting->setWordWrap(true);
    auto *barRow = new QHBoxLayout;
    barRow->addWidget(bar, 1);
    barRow->addWidget(m_cancelSignIn);
    auto *urlRow = new QHBoxLayout;
    urlRow->addWidget(m_authorizationUrl, 1);
    urlRow->addWidget(copy);
    auto *progressLayout = new QVBoxLayout(m_progress);
    progressLayout->addLayout(barRow);
    progressLayout->addWidget(waiting);
    progressLayout->addLayout(urlRow);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_signIn);
    buttons->addWidget(m_deviceSignIn);
    buttons->addWidget(change);
    buttons->addStretch(1);
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(m_signInTitle);
    layout->addWidget(m_signInHint);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_deviceCode);
    layout->addStretch(1);

    connect(m_signIn, &QPushButton::clicked, this, [this] {
        m_banner->clear();
        if (m_client)
            m_client->signIn();
    });
    connect(m_deviceSignIn, &QPushButton::clicked, this, [this] {
        m_banner->clear();
        if (m_client)
            m_client->signInWithDeviceCode();
    });
    connect(m_cancelSignIn, &QPushButton::clicked, this, [this] {
        if (m_client)
            m_client->cancelSignIn();
    });
    connect(copy, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_authorizationUrl->text());
        m_log->add(QStringLiteral("demo: sign-in address copied to the clipboard"));
    });
    connect(change, &QPushButton::clicked, this, [this] { setPage(m_profilesPage); });
    return page;
}

QWidget *MainWindow::buildAccountPage()
{
    auto *page = new QWidget(this);
    page->setObjectName(QStringLiteral("accountPage"));
    auto *user = new QGroupBox(QStringLiteral("Signed in as"), page);
    m_name = valueLabel(QStringLiteral("nameLabel"), user);
    m_email = valueLabel(QStringLiteral("emailLabel"), user);
    m_subject = valueLabel(QStringLiteral("subjectLabel"), user);
    auto *form = new QFormLayout(user);
    form->addRow(QStringLiteral("Name:"), m_name);
    form->addRow(QStringLiteral("Email:"), m_email);
    form->addRow(QStringLiteral("Subject:"), m_subject);

    auto *accountsBox = new QGroupBox(QStringLiteral("Accounts"), page);
    m_accounts = new QComboBox(accountsBox);
    m_accounts->setObjectName(QStringLiteral("accountBox"));
    m_accounts->setAccessibleName(QStringLiteral("Stored accounts"));
    auto *another = new QPushButton(QStringLiteral("Sign in &another account…"), accountsBox);
    another->setObjectName(QStringLiteral("addAccountButton"));
    auto *accountsLayout = new QHBoxLayout(accountsBox);
    accountsLayout->addWidget(m_accounts, 1);
    accountsLayout->addWidget(another);

    m_tokens = new TokenPanel(page);
    m_refreshNow = new QPushButton(QStringLiteral("&Refresh now"), page);
    m_refreshNow->setObjectName(QStringLiteral("refreshNowButton"));
    m_signOut = new QPushButton(QStringLiteral("Sign &out"), page);
    m_signOut->setObjectName(QStringLiteral("signOutButton"));
    m_endProviderSession = new QCheckBox(QStringLiteral("Also sign out at the &provider"), page);
    m_endProviderSession->setObjectName(QStringLiteral("endProviderSessionCheck"));
    m_endProviderSession->setToolTip(QStringLiteral("OpenID Connect RP-Initiated Logout: the browser ends your session at "
                                                    "the provider too, so the next sign-in asks for your password again"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_refreshNow);
    buttons->addStretch(1);
    buttons->addWidget(m_endProviderSession);
    buttons->addWidget(m_signOut);

    auto *left = new QWidget(page);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(user);
    leftLayout->addWidget(accountsBox);
    leftLayout->addWidget(m_tokens, 1);
    leftLayout->addLayout(buttons);
    m_api = new ApiPanel(page);
    auto *splitter = new QSplitter(Qt::Horizontal, page);
    splitter->addWidget(left);
    splitter->addWidget(m_api);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({400, 600});
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_refreshNow, &QPushButton::clicked, this, &MainWindow::refreshNow);
    connect(m_signOut, &QPushButton::clicked, this, [this] {
        if (!m_client)
            return;
        // Revocation and removal first; the provider's logout (in the browser) only after.
        const bool provider = m_endProviderSession->isEnabled() && m_endProviderSession->isChecked();
        m_client->signOut(provider ? Client::SignOutScope::ProviderSession : Client::SignOutScope::Application);
    });
    connect(another, &QPushButton::clicked, this, &MainWindow::signInAnotherAccount);
    connect(m_accounts, &QComboBox::activated, this, [this](int index) {
        const QString account = m_accounts->itemData(index).toString();
        if (m_client && account != m_client->account()) {
            m_log->add(QStringLiteral("demo: switching to another stored account"));
            m_client->switchAccount(account);
        }
    });
    connect(m_api, &ApiPanel::answered, this, [this](int status, const Keyloop::Error &error) {
        m_log->add(QStringLiteral("demo: API answered %1").arg(status));
        if (error.code() == Keyloop::Error::Code::InsufficientScope) {
            const QStringList scopes = error.requiredScopes();
            m_banner->showMessage(errorText(error).headline, error.message(), QStringLiteral("&Grant access"),
                                  [this, scopes] { if (m_client) m_client->signIn(scopes); });
        }
    });
    return page;
}

void MainWindow::useProfile(int index)
{
    if (index < 0 || index >= m_options.profiles.size() || !m_options.profiles.at(index).missing().isEmpty())
        return;
    const DemoProfile &profile = m_options.profiles.at(index);
    m_profile = index;
    m_banner->clear();
    m_api->setClient(nullptr, {});
    m_tokens->setSession(nullptr);
    m_client = std::make_unique<Client>(profile.client, m_options.appId);
    m_client->setBrowserLauncher(m_options.browser);
    for (const ApiProfile &api : profile.apis)
        m_client->addApi(api.resource, api.locations);
    m_api->setClient(m_client.get(), profile.apis);
    setWindowTitle(QStringLiteral("Keyloop Demo — %1").arg(profile.name));
    m_signInTitle->setText(QStringLiteral("Sign in to %1").arg(profile.name));
    m_profileList->setCurrentRow(index);
    if (m_options.rememberInSettings)
        QSettings().setValue(QStringLiteral("lastProfile"), profile.name);
    m_log->add(QStringLiteral("demo: profile \"%1\"; restoring the session from the keychain").arg(profile.name));
    connectClient();
    setPage(m_signInPage);
    m_client->restore(); // the keychain only: no discovery, no browser
}

void MainWindow::connectClient()
{
    Client *c = m_client.get();
    connect(c, &Client::stateChanged, this, &MainWindow::showState);
    connect(c, &Client::userChanged, this, &MainWindow::showUser);
    connect(c, &Client::accountChanged, this, &MainWindow::showAccounts);
    connect(c, &Client::authorizationUrlChanged, this, [this](const QUrl &url) {
        m_authorizationUrl->setText(url.toString(QUrl::FullyEncoded));
        m_authorizationUrl->setCursorPosition(0);
    });
    connect(c, &Client::userCodeChanged, this, [this] {
        m_deviceCode->showCode(m_client->userCode(), m_client->verificationUri(), m_client->verificationUriComplete());
        if (!m_client->userCode().isEmpty())
            m_log->add(QStringLiteral("demo: showing the code to enter on another device"));
        showState();
    });
    connect(c, &Client::browserLaunchFailed, this, [this](const Keyloop::Error &error) {
        m_log->add(QStringLiteral("demo: no browser opened: %1").arg(error.message()));
        if (m_client && m_client->isDeviceSignInAvailable())
            m_banner->showMessage(QStringLiteral("No browser could be opened"),
                                  QStringLiteral("Copy the sign-in address into a browser, or sign in with a code on "
                                                 "your phone or another computer."),
                                  QStringLiteral("Use a &code instead"),
                                  [this] { if (m_client) m_client->signInWithDeviceCode(); });
        else
            m_banner->showMessage(QStringLiteral("No browser could be opened"),
                                  QStringLiteral("Copy the sign-in address into a browser."));
    });
    connect(c, &Client::signedIn, this, [this] {
        m_log->add(QStringLiteral("demo: signed in"));
        m_banner->clear();
        m_tokens->setSession(m_client->session());
        // Offered only when the provider has an end_session_endpoint (RP-Initiated Logout §2.1).
        const bool endSession = m_client->session()
            && !m_client->session()->providerConfiguration().endSessionEndpoint().isEmpty();
        m_endProviderSession->setEnabled(endSession);
        if (!endSession)
            m_endProviderSession->setChecked(false);
        showUser();
        showAccounts();
    });
    connect(c, &Client::signInRequired, this, [this] { m_log->add(QStringLiteral("demo: sign-in required")); });
    connect(c, &Client::providerSessionEnded, this, [this] {
        m_log->add(QStringLiteral("demo: signed out at the provider too"));
    });
    connect(c, &Client::failed, this, [this](const Keyloop::Error &error) {
        m_log->add(QStringLiteral("demo: failed: %1").arg(error.message()));
        showError(error);
    });
    connect(c, &Client::tokensRefreshed, this, [this] {
        m_lastRefresh = QDateTime::currentDateTimeUtc();
        m_tokens->setLastRefresh(m_lastRefresh);
        m_log->add(QStringLiteral("demo: tokens refreshed and saved"));
    });
    connect(c, &Client::signedOut, this, [this] {
        m_log->add(QStringLiteral("demo: signed out"));
        m_tokens->setSession(nullptr);
        m_lastRefresh = QDateTime(); // the next session has not refreshed yet
        m_tokens->setLastRefresh(m_lastRefresh);
        showAccounts();
    });
    connect(c, &Client::stepUpRequired, this, [this](const Keyloop::Error &challenge) {
        const QStringList acr = challenge.requiredAcrValues();
        const int maxAge = challenge.requiredMaxAge() ? int(challenge.requiredMaxAge()->count()) : -1;
        m_banner->showMessage(errorText(challenge).headline, challenge.message(), QStringLiteral("Sign in &again"),
                              [this, acr, maxAge] { if (m_client) m_client->signIn({}, acr, maxAge); });
    });
    connect(c, &Client::transientError, this, [this](const Keyloop::Error &error) {
        m_log->add(QStringLiteral("demo: temporary problem, kept and retried: %1").arg(error.message()));
    });
    connect(c, &Client::storageFailed, this, [this](const Keyloop::Error &error) {
        m_log->add(QStringLiteral("demo: keychain: %1").arg(error.message()));
        showError(error);
    });
    showState();
}

void MainWindow::setPage(QWidget *page)
{
    if (m_pages->currentWidget() == page)
        return;
    m_pages->setCurrentWidget(page);
    Q_EMIT pageChanged(this->page());
}

QString MainWindow::page() const
{
    if (m_pages->currentWidget() == m_accountPage)
        return QStringLiteral("account");
    if (m_pages->currentWidget() == m_signInPage)
        return QStringLiteral("signIn");
    return QStringLiteral("profiles");
}

void MainWindow::showState()
{
    if (!m_client)
        return;
    const Client::State state = m_client->state();
    m_stateLabel->setText(stateName(state));
    const bool signingIn = state == Client::State::SigningIn;
    const bool deviceCode = signingIn && !m_client->userCode().isEmpty();
    m_progress->setVisible(signingIn && !deviceCode);
    m_deviceCode->setVisible(deviceCode);
    m_signIn->setEnabled(state == Client::State::SignInRequired);
    m_deviceSignIn->setEnabled(state == Client::State::SignInRequired
                               || (signingIn && !deviceCode && m_client->isDeviceSignInAvailable()));
    m_signIn->setText(state == Client::State::Restoring ? QStringLiteral("Restoring…")
                                                        : QStringLiteral("&Sign in with the browser"));
    m_refreshNow->setEnabled(state == Client::State::SignedIn);
    m_signOut->setEnabled(state == Client::State::SignedIn);
    if (!signingIn)
        m_authorizationUrl->clear();
    if (state == Client::State::SignedIn || state == Client::State::SigningOut)
        setPage(m_accountPage);
    else if (m_pages->currentWidget() != m_profilesPage)
        setPage(m_signInPage);
    if (signingIn)
        m_cancelSignIn->setFocus();
}

void MainWindow::showUser()
{
    if (!m_client)
        return;
    m_name->setText(m_client->displayName());
    m_email->setText(m_client->email());
    m_subject->setText(m_client->subject());
}

void MainWindow::showAccounts()
{
    m_accounts->clear();
    if (!m_client)
        return;
    for (const Keyloop::AccountIndexEntry &e : m_client->accounts()) {
        const QString label = e.account.isEmpty() ? QStringLiteral("%1 (default)").arg(e.displayName.isEmpty() ? e.subject : e.displayName)
                                                  : QStringLiteral("%1 (%2)").arg(e.displayName.isEmpty() ? e.subject : e.displayName, e.account);
        m_accounts->addItem(label, e.account);
        if (e.account == m_client->account())
            m_accounts->setCurrentIndex(m_accounts->count() - 1);
    }
}

void MainWindow::showError(const Keyloop::Error &error)
{
    const ErrorText text = errorText(error);
    if (error.code() == Keyloop::Error::Code::Cancelled) {
        m_log->add(QStringLiteral("demo: %1").arg(text.headline));
        return;
    }
    m_banner->showMessage(text.headline, text.detail);
}

void MainWindow::refreshNow()
{
    Keyloop::Session *session = m_client ? m_client->session() : nullptr;
    if (!session || m_profile < 0)
        return;
    m_log->add(QStringLiteral("demo: refresh requested"));
    // Drop the current access tokens (only if still current), then ask for fresh ones: the
    // session refreshes once, saves the rotated refresh token, then answers.
    const Keyloop::SessionRecord record = session->record();
    QStringList resources;
    for (const ApiProfile &api : m_options.profiles.at(m_profile).apis)
        resources.append(api.resource);
    if (resources.isEmpty())
        resources.append(QString());
    for (const QString &resource : std::as_const(resources)) {
        session->invalidateAccessToken(resource, record.accessToken(resource).token);
        m_client->freshAccessToken(resource, this, [this](const QByteArray &, const Keyloop::Error &error) {
            if (error)
                showError(error);
        });
    }
}

void MainWindow::signInAnotherAccount()
{
    if (!m_client)
        return;
    bool ok = false;
    const QString name = QInputDialog::getText(this, QStringLiteral("Another account"),
                                               QStringLiteral("A name for the account on this computer (e.g. work):"),
                                               QLineEdit::Normal, QString(), &ok).trimmed();
    if (!ok || name.isEmpty())
        return;
    m_log->add(QStringLiteral("demo: switching to a new account"));
    m_client->switchAccount(name); // no session stored for it: signInRequired(), the user signs in
}

QString MainWindow::describe() const
{
    QStringList lines;
    lines.append(QStringLiteral("Window: %1").arg(windowTitle()));
    lines.append(QStringLiteral("State: %1").arg(m_stateLabel->text()));
    if (!m_banner->isHidden())
        lines.append(QStringLiteral("Banner: %1").arg(m_banner->headline()));
    const QString p = page();
    if (p == QLatin1String("profiles")) {
        lines.append(QStringLiteral("Page: provider profiles (%1)").arg(m_profileList->count()));
    } else if (p == QLatin1String("signIn")) {
        lines.append(QStringLiteral("Page: %1").arg(m_signInTitle->text()));
        if (m_progress->isVisibleTo(this))
            lines.append(QStringLiteral("  waiting for the browser (Cancel, or copy the sign-in address)"));
        if (m_deviceCode->isVisibleTo(this))
            lines.append(QStringLiteral("  code %1 to enter at %2%3").arg(m_deviceCode->userCode(),
                m_deviceCode->verificationUri().toString(QUrl::FullyEncoded),
                m_deviceCode->qrImage().isNull() ? QString() : QStringLiteral(" (QR code shown)")));
    } else {
        lines.append(QStringLiteral("Page: account"));
        lines.append(QStringLiteral("  Name: %1").arg(m_name->text()));
        lines.append(QStringLiteral("  Email: %1").arg(m_email->text()));
        lines.append(QStringLiteral("  Subject: %1").arg(m_subject->text()));
        for (const QString &l : m_tokens->text().split(QLatin1Char('\n')))
            lines.append(QStringLiteral("  ") + l);
        lines.append(QStringLiteral("  API: %1").arg(m_api->statusText()));
    }
    return lines.join(QLatin1Char('\n'));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_options.rememberInSettings)
        QSettings().setValue(QStringLiteral("window/geometry"), saveGeometry());
    QMainWindow::closeEvent(event);
}
