// SPDX-License-Identifier: MIT
#include "redaction.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QRegularExpression>

QString redacted(const QString &text)
{
    static const QRegularExpression tokenLike(QStringLiteral("[A-Za-z0-9\\-_.~+/=]{24,}"));
    QString out = text;
    out.replace(tokenLike, QStringLiteral("[redacted]"));
    return out;
}

QString tokenFingerprint(const QByteArray &token)
{
    if (token.isEmpty())
        return QStringLiteral("none");
    const QByteArray digest = QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex().left(8);
    return QStringLiteral("%1 characters, SHA-256 %2…").arg(token.size()).arg(QString::fromLatin1(digest));
}
