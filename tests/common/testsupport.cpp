// SPDX-License-Identifier: MIT
#include "testsupport.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
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

} // namespace KeyloopTest
