// SPDX-License-Identifier: MIT
// Helpers shared by Keyloop's tests.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QUrl>
#include <QtNetwork/QSslCertificate>

namespace KeyloopTest {

/// Compare secrets without ever printing them: QVERIFY(KEYLOOP_SAME_SECRET(a, b)).
/// On failure only a short hash of each side could be shown (see secretFingerprint).
#define KEYLOOP_SAME_SECRET(a, b) (QByteArray(a) == QByteArray(b))

/// A short, non-reversible fingerprint of a secret, safe to print in test output.
inline QByteArray secretFingerprint(const QByteArray &secret)
{
    return QCryptographicHash::hash(secret, QCryptographicHash::Sha256).toHex().left(12);
}

/// The devstack described by the JSON file named in $KEYLOOP_DEVSTACK_JSON (written by the
/// devstack at start). Tests that need it call QSKIP only if the variable is absent *and*
/// the test is not registered with SANDBOX — sandboxed tests must fail instead.
struct Devstack
{
    QUrl issuer;          ///< https issuer (tests) or http (demo)
    QUrl api;             ///< protected API base URL
    QString apiResource;  ///< the API's resource indicator (RFC 8707)
    QUrl admin;           ///< loopback admin endpoint
    QString caFile;       ///< PEM of the devstack's CA ("" for http)
    QString publicClientId;
    QString serviceClientId;
    QString serviceClientSecret;
    QJsonObject raw;

    bool isValid() const { return issuer.isValid() && !issuer.isEmpty(); }
    QList<QSslCertificate> caCertificates() const;
};

/// Reads $KEYLOOP_DEVSTACK_JSON; an invalid Devstack if unset or unreadable.
Devstack devstack();

/// Path of a helper script in the source tree (relative to $KEYLOOP_SOURCE_DIR).
QString sourcePath(const QString &relative);

/*!
 * Makes the devstack's headless-Chromium login script (demo-app/devstack/chromium-login.mjs)
 * this test's default browser, the way a desktop names one: a .desktop file in
 * $XDG_DATA_HOME/applications and a private $XDG_CONFIG_HOME/mimeapps.list, so that
 * QDesktopServices → xdg-open reaches it (see the test notes). Also sets $BROWSER and unsets
 * $XDG_CURRENT_DESKTOP (for processes started afterwards too). Empty on success, else why not.
 */
QString useChromiumLoginAsSystemBrowser();

/*!
 * Plays the user on "another device" of a device sign-in (RFC 8628): runs the devstack's
 * scripted-device.mjs for \a uri (verification_uri with \a userCode, or verification_uri_complete
 * when \a userCode is empty), which logs in as $KEYLOOP_TEST_USER and approves, or with \a action
 * "deny" declines. Waits on the process's signal, so the caller's event loop (its polls) keeps
 * running. True when the helper says the provider approved (or denied) the code.
 */
bool runScriptedDevice(const QUrl &uri, const QString &userCode, const QByteArray &action = "approve");

} // namespace KeyloopTest

namespace KeyloopTest {

/// The devstack's admin endpoint (loopback http). Each call waits on the reply's signal (no sleeps)
/// with a timeout; a failure is reported through ok=false.
class Admin
{
public:
    explicit Admin(const QUrl &adminUrl) : m_url(adminUrl) {}
    /// GET /counters → {"token":n,"refresh":n,"jwks":n,…}
    QJsonObject counters(bool *ok = nullptr) const;
    int counter(const QString &name) const { return counters().value(name).toInt(-1); }
    bool rotateKeys() const;
    bool setAccessTokenTtl(int seconds) const;
    bool reset() const;
    bool revokeAll() const;
    QJsonObject post(const QString &path, const QJsonObject &body = {}, bool *ok = nullptr) const;
    QJsonObject get(const QString &path, bool *ok = nullptr) const;
    /// GET of a route that answers a JSON array (e.g. /device-polls).
    QJsonArray getArray(const QString &path, bool *ok = nullptr) const;

private:
    QUrl m_url;
};

} // namespace KeyloopTest
