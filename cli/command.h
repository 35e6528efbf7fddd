// SPDX-License-Identifier: MIT
// A CLI command: parses its options, runs asynchronously, and ends the process with an exit code.
#pragma once

#include "exitcodes.h"

#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/session.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QStringList>
#include <QtNetwork/QNetworkAccessManager>

#include <functional>
#include <optional>

namespace KeyloopCli {

struct RememberedSettings;

/// The CLI's own application id (keychain service name, lock and index directory).
inline QString defaultAppId() { return QStringLiteral("org.keyloop.cli"); }

class Command : public QObject
{
    Q_OBJECT
public:
    explicit Command(QObject *parent = nullptr);

    virtual QString name() const = 0;
    virtual QString summary() const = 0;
    /// Adds the command's options (global ones are added by the caller).
    virtual void addOptions(QCommandLineParser &parser) = 0;
    /// Starts the command; call finish() exactly once, from the event loop.
    virtual void start() = 0;
    /// Extra help text printed after the options (examples, environment).
    virtual QString helpEpilogue() const { return {}; }
    /// The positional arguments the command takes, as shown in its usage line (e.g. "URL");
    /// empty: none (any is a usage error).
    virtual QString positionalSyntax() const { return {}; }

    void setParser(QCommandLineParser *parser) { m_parser = parser; }
    void setAppId(const QString &appId) { m_appId = appId; }
    QString appId() const { return m_appId; }

    /// True while a session of this command writes the keychain (see Session::isSaving()).
    bool isSaving() const;

Q_SIGNALS:
    void finished(int exitCode);
    /// No session of this command writes the keychain any more.
    void savingFinished();

protected:
    QCommandLineParser &parser() const { return *m_parser; }
    QNetworkAccessManager *networkAccessManager() { return &m_nam; }

    /// Prints "keyloop <cmd>: <message>" on stderr and finishes with \a code.
    void fail(int code, const QString &message);
    void fail(const Keyloop::Error &error, const QString &context = QString());
    void succeed() { finishWith(ExitOk); }
    void finishWith(int code);
    /// Lets Ctrl-C wait (bounded) for \a session's keychain writes: a rotated refresh token
    /// received but not saved yet would otherwise be lost.
    void watchSession(Keyloop::Session *session);
    /*!
     * Restores the stored session of the account the options select, without a browser: reads
     * the keychain record once, resolves the settings (flag > environment > remembered), takes
     * the remembered endpoints (else discovery) and restores the session from the record. Calls
     * \a then with the session (a child of this command, watched for saves) and the settings;
     * on failure it fails the command itself. (storedsession.cpp)
     */
    void restoreStoredSession(std::function<void(Keyloop::Session *session, const RememberedSettings &settings)> then);

private:
    QCommandLineParser *m_parser = nullptr;
    QString m_appId;
    QNetworkAccessManager m_nam;
    QList<QPointer<Keyloop::Session>> m_sessions;
    bool m_finished = false;
};

/// Settings a login remembers (stored inside the keychain record's appData, never in a file).
struct RememberedSettings
{
    QString issuer;
    QString clientId;
    QString clientSecret;         ///< kept in the keychain record only; installed-app secrets are not secret
    QString clientAuth;           ///< "none", "client_secret_basic", "client_secret_post"
    QStringList scopes;
    QStringList resources;
    QString caFile;
    bool allowInsecureLoopback = false;
    bool dpop = false;             ///< tokens bound to a key in the keychain (RFC 9449), set by `login --dpop`
    QJsonObject provider;          ///< discovered endpoints, so that `token` needs no discovery

    QJsonObject toJson() const;
    static RememberedSettings fromJson(const QJsonObject &json);
};

/// A setting: flag > environment variable > stored value.
QString setting(const QCommandLineParser &parser, const QString &option, const char *envVar,
                const QString &stored = QString());
/// A list setting (repeatable flag, or a space-separated environment variable).
QStringList listSetting(const QCommandLineParser &parser, const QString &option, const char *envVar,
                        const QStringList &stored = {});
bool flagSetting(const QCommandLineParser &parser, const QString &option, const char *envVar, bool stored);

/// The commands that configure a provider/client: login starts from nothing, token from the
/// stored session. Only login takes --scope: the scopes are those the user consented to at
/// login (narrowing them per request is not offered yet).
enum class ClientCommand { Login, Token };

/// Adds the options that select and configure a provider/client (shared by login and token).
void addClientOptions(QCommandLineParser &parser, ClientCommand command);
/// Builds the remembered settings from flags > environment > \a stored into \a out.
/// InvalidConfiguration for an unreadable or empty --client-secret-file, or both secret flags.
Keyloop::Error resolveSettings(const QCommandLineParser &parser, ClientCommand command,
                               const RememberedSettings &stored, RememberedSettings *out);
/// Builds a ClientConfiguration from resolved settings; InvalidConfiguration for unreadable CA files.
Keyloop::Error buildClientConfiguration(const RememberedSettings &settings, Keyloop::ClientConfiguration *out);
/// The account name: --account > KEYLOOP_ACCOUNT > "" (the default account).
QString accountSetting(const QCommandLineParser &parser);
/// An issuer as typed by the user in the SDK's one string form (Keyloop::issuerIdentifier()),
/// so that it compares equal with stored sessions; text that is no URL is returned as it is.
QString canonicalIssuer(const QString &text);

} // namespace KeyloopCli
