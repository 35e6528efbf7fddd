// SPDX-License-Identifier: MIT
#include "tokenoutput.h"

#include "terminaltext.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>

#include <algorithm>
#include <cmath>

namespace KeyloopCli {

namespace {

// RFC 3339 §5.6 in UTC, whole seconds: "2026-01-31T09:12:44Z" (what Kubernetes' metav1.Time reads).
QString rfc3339(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODate);
}

QByteArray line(const QJsonObject &object)
{
    // Compact, one object per line. Values are tokens, times and the user's own resource URIs;
    // terminalSafeJson() keeps a resource with control characters from reaching a terminal raw.
    return terminalSafeJson(QJsonDocument(object).toJson(QJsonDocument::Compact)) + '\n';
}

} // namespace

QByteArray accessTokenJson(const QByteArray &token, const Keyloop::SessionAccessToken &info,
                           const QString &resource, const QDateTime &now)
{
    QJsonObject o;
    o.insert(QStringLiteral("access_token"), QString::fromUtf8(token));
    o.insert(QStringLiteral("token_type"), info.tokenType.isEmpty() ? QStringLiteral("Bearer") : info.tokenType);
    if (info.expiresAt.isValid()) {
        o.insert(QStringLiteral("expires_at"), rfc3339(info.expiresAt));
        o.insert(QStringLiteral("expires_in"), std::max<qint64>(0, now.secsTo(info.expiresAt)));
    } else {
        // RFC 6749 §5.1: expires_in is only RECOMMENDED; no expiry known is not "expired".
        o.insert(QStringLiteral("expires_at"), QJsonValue::Null);
        o.insert(QStringLiteral("expires_in"), QJsonValue::Null);
    }
    o.insert(QStringLiteral("resource"), resource.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(resource));
    return line(o);
}

bool execCredentialVersion(const QByteArray &execInfo, QString *apiVersion, QString *problem)
{
    if (execInfo.trimmed().isEmpty()) {
        *apiVersion = execCredentialV1();
        return true;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(execInfo, &error);
    const QJsonObject o = doc.object();
    if (error.error != QJsonParseError::NoError || !doc.isObject()
        || o.value(QStringLiteral("kind")).toString() != QLatin1String("ExecCredential")) {
        *problem = QStringLiteral("KUBERNETES_EXEC_INFO is not an ExecCredential object");
        return false;
    }
    const QString version = o.value(QStringLiteral("apiVersion")).toString();
    if (version != execCredentialV1() && version != execCredentialV1Beta1()) {
        // Only printable characters of what the environment says reach the terminal.
        *problem = QStringLiteral("kubectl asks for an ExecCredential of apiVersion \"%1\"; keyloop writes %2 and %3: "
                                  "set users[].user.exec.apiVersion in the kubeconfig to one of them")
                       .arg(printableText(version, 80), execCredentialV1(), execCredentialV1Beta1());
        return false;
    }
    // spec.interactive needs no answer: `keyloop token` never prompts and never opens a browser.
    *apiVersion = version;
    return true;
}

QDateTime jwtExpiry(const QByteArray &jwt)
{
    const QList<QByteArray> parts = jwt.split('.');
    if (parts.size() != 3)
        return QDateTime();
    const QByteArray payload = QByteArray::fromBase64(parts.at(1), QByteArray::Base64UrlEncoding
                                                                       | QByteArray::OmitTrailingEquals);
    const QJsonValue exp = QJsonDocument::fromJson(payload).object().value(QStringLiteral("exp"));
    if (!exp.isDouble() || exp.toDouble() <= 0)
        return QDateTime();
    return QDateTime::fromSecsSinceEpoch(qint64(std::floor(exp.toDouble())), Qt::UTC);
}

QByteArray execCredentialJson(const QString &apiVersion, const QByteArray &idToken)
{
    QJsonObject status;
    status.insert(QStringLiteral("token"), QString::fromUtf8(idToken));
    // client-go keeps the credential until then and runs the plugin again afterwards; without
    // it, the credential would be used until the API server rejects it.
    const QDateTime exp = jwtExpiry(idToken);
    if (exp.isValid())
        status.insert(QStringLiteral("expirationTimestamp"), rfc3339(exp));
    return line(QJsonObject{{QStringLiteral("apiVersion"), apiVersion},
                            {QStringLiteral("kind"), QStringLiteral("ExecCredential")},
                            {QStringLiteral("status"), status}});
}

bool hasKeyBoundTokens(const Keyloop::SessionRecord &record)
{
    const QMap<QString, Keyloop::SessionAccessToken> tokens = record.accessTokens();
    return std::any_of(tokens.cbegin(), tokens.cend(), [](const Keyloop::SessionAccessToken &t) {
        return t.tokenType.compare(QLatin1String("DPoP"), Qt::CaseInsensitive) == 0;
    });
}

} // namespace KeyloopCli
