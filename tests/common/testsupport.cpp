// SPDX-License-Identifier: MIT
#include "testsupport.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QProcess>
#include <QtCore/QProcessEnvironment>

namespace KeyloopTest {

QList<QSslCertificate> Devstack::caCertificates() const
{
    if (caFile.isEmpty())
        return {};
    return QSslCertificate::fromPath(caFile, QSsl::Pem);
}

Devstack devstack()
{
    Devstack d;
    const QString path = qEnvironmentVariable("KEYLOOP_DEVSTACK_JSON");
    if (path.isEmpty())
        return d;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return d;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    d.raw = o;
    d.issuer = QUrl(o.value(QStringLiteral("issuer")).toString());
    d.api = QUrl(o.value(QStringLiteral("api")).toString());
    d.apiResource = o.value(QStringLiteral("apiResource")).toString();
    d.admin = QUrl(o.value(QStringLiteral("admin")).toString());
    d.caFile = o.value(QStringLiteral("caFile")).toString();
    d.publicClientId = o.value(QStringLiteral("publicClientId")).toString();
    d.serviceClientId = o.value(QStringLiteral("serviceClientId")).toString();
    d.serviceClientSecret = o.value(QStringLiteral("serviceClientSecret")).toString();
    return d;
}

QString sourcePath(const QString &relative)
{
    return qEnvironmentVariable("KEYLOOP_SOURCE_DIR") + QLatin1Char('/') + relative;
}

static bool writeWholeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(content) == content.size();
}

QString useChromiumLoginAsSystemBrowser()
{
    const QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    const QString data = qEnvironmentVariable("XDG_DATA_HOME");
    if (config.isEmpty() || data.isEmpty())
        return QStringLiteral("XDG_CONFIG_HOME and XDG_DATA_HOME must be set (the sandbox sets them)");
    const QString script = sourcePath(QStringLiteral("demo-app/devstack/chromium-login.mjs"));
    const QByteArray desktop = "[Desktop Entry]\nType=Application\nName=Keyloop test browser\n"
                               "Exec=node " + script.toUtf8() + " %u\n"
                               "MimeType=x-scheme-handler/http;x-scheme-handler/https;\nNoDisplay=true\n";
    if (!writeWholeFile(data + QStringLiteral("/applications/keyloop-test-browser.desktop"), desktop)
        || !writeWholeFile(config + QStringLiteral("/mimeapps.list"),
                           "[Default Applications]\nx-scheme-handler/http=keyloop-test-browser.desktop\n"
                           "x-scheme-handler/https=keyloop-test-browser.desktop\n"))
        return QStringLiteral("cannot write the .desktop file or mimeapps.list");
    qunsetenv("XDG_CURRENT_DESKTOP");
    qputenv("BROWSER", QByteArray("node ") + script.toUtf8());
    return QString();
}

} // namespace KeyloopTest

#include <QtCore/QJsonDocument>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QSignalSpy>

#include <memory>

namespace KeyloopTest {

static QJsonDocument adminRequest(const QUrl &base, const QByteArray &verb, const QString &path,
                                  const QJsonObject &body, bool *ok)
{
    QNetworkAccessManager nam;
    QUrl url = base;
    url.setPath(path);
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        verb == "GET" ? nam.get(request) : nam.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact)));
    QSignalSpy spy(reply.get(), &QNetworkReply::finished);
    const bool finished = reply->isFinished() || spy.wait(10000);
    const bool success = finished && reply->error() == QNetworkReply::NoError;
    if (ok)
        *ok = success;
    return success ? QJsonDocument::fromJson(reply->readAll()) : QJsonDocument();
}

QJsonObject Admin::counters(bool *ok) const { return get(QStringLiteral("/counters"), ok); }
QJsonObject Admin::get(const QString &path, bool *ok) const { return adminRequest(m_url, "GET", path, {}, ok).object(); }
QJsonArray Admin::getArray(const QString &path, bool *ok) const { return adminRequest(m_url, "GET", path, {}, ok).array(); }
QJsonObject Admin::post(const QString &path, const QJsonObject &body, bool *ok) const
{
    return adminRequest(m_url, "POST", path, body, ok).object();
}
bool Admin::rotateKeys() const { bool ok = false; post(QStringLiteral("/rotate-keys"), {}, &ok); return ok; }
bool Admin::setAccessTokenTtl(int seconds) const
{
    bool ok = false;
    post(QStringLiteral("/access-token-ttl"), QJsonObject{{QStringLiteral("seconds"), seconds}}, &ok);
    return ok;
}
bool Admin::reset() const { bool ok = false; post(QStringLiteral("/reset"), {}, &ok); return ok; }
bool Admin::revokeAll() const { bool ok = false; post(QStringLiteral("/revoke-all"), {}, &ok); return ok; }

bool runScriptedDevice(const QUrl &uri, const QString &userCode, const QByteArray &action)
{
    QProcess helper;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEYLOOP_DEVICE_ACTION"), QString::fromLatin1(action));
    helper.setProcessEnvironment(env);
    helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QStringList args{sourcePath(QStringLiteral("demo-app/devstack/scripted-device.mjs")), uri.toString(QUrl::FullyEncoded)};
    if (!userCode.isEmpty())
        args << userCode;
    QSignalSpy done(&helper, &QProcess::finished);
    helper.start(QStringLiteral("node"), args);
    if (!done.wait(60000))
        return false;
    return helper.exitStatus() == QProcess::NormalExit && helper.exitCode() == 0;
}

} // namespace KeyloopTest
