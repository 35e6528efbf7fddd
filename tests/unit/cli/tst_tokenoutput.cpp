// SPDX-License-Identifier: MIT
// The JSON that `keyloop token --json` and `--exec-credential` print: their members are an
// interface (docs/cli.md), and kubectl accepts only the ExecCredential version it asked for.
#include "tokenoutput.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

using namespace KeyloopCli;

namespace {

QJsonObject parse(const QByteArray &line)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    return error.error == QJsonParseError::NoError ? doc.object() : QJsonObject();
}

QByteArray jwt(const QJsonObject &payload)
{
    const auto b64 = [](const QByteArray &b) {
        return b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    return b64("{\"alg\":\"RS256\"}") + '.' + b64(QJsonDocument(payload).toJson(QJsonDocument::Compact)) + ".c2ln";
}

const QDateTime kNow = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);

} // namespace

class TestTokenOutput : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void accessTokenJsonHasTheDocumentedMembers()
    {
        Keyloop::SessionAccessToken info;
        info.token = "at-1";
        info.tokenType = QStringLiteral("Bearer");
        info.issuedAt = kNow.addSecs(-13);
        info.expiresAt = kNow.addMSecs(3587500);
        const QByteArray out = accessTokenJson("at-1", info, QStringLiteral("https://api.example.com"), kNow);
        QVERIFY(out.endsWith('\n'));
        QCOMPARE(out.count('\n'), 1);
        const QJsonObject o = parse(out);
        QCOMPARE(o.keys(), (QStringList{QStringLiteral("access_token"), QStringLiteral("expires_at"),
                                        QStringLiteral("expires_in"), QStringLiteral("resource"),
                                        QStringLiteral("token_type")}));
        QCOMPARE(o.value(QStringLiteral("access_token")).toString(), QStringLiteral("at-1"));
        QCOMPARE(o.value(QStringLiteral("token_type")).toString(), QStringLiteral("Bearer"));
        QCOMPARE(o.value(QStringLiteral("expires_at")).toString(), QStringLiteral("2023-11-14T23:13:07Z"));
        QCOMPARE(o.value(QStringLiteral("expires_in")).toInteger(), 3587);
        QCOMPARE(o.value(QStringLiteral("resource")).toString(), QStringLiteral("https://api.example.com"));
    }

    void accessTokenJsonKeepsTheIssuedTypeAndSaysNullForWhatIsUnknown()
    {
        Keyloop::SessionAccessToken info;
        info.token = "at-2";
        info.tokenType = QStringLiteral("DPoP");
        QJsonObject o = parse(accessTokenJson("at-2", info, QString(), kNow));
        QCOMPARE(o.value(QStringLiteral("token_type")).toString(), QStringLiteral("DPoP"));
        QVERIFY(o.value(QStringLiteral("expires_at")).isNull());
        QVERIFY(o.value(QStringLiteral("expires_in")).isNull());
        QVERIFY(o.value(QStringLiteral("resource")).isNull()); // the provider's own token

        // Stored by 0.2 (no type kept; only Bearer was accepted), and already expired.
        info.tokenType.clear();
        info.expiresAt = kNow.addSecs(-5);
        o = parse(accessTokenJson("at-2", info, QString(), kNow));
        QCOMPARE(o.value(QStringLiteral("token_type")).toString(), QStringLiteral("Bearer"));
        QCOMPARE(o.value(QStringLiteral("expires_in")).toInteger(), 0);
    }

    void execCredentialVersionFollowsKubernetesExecInfo_data()
    {
        QTest::addColumn<QByteArray>("execInfo");
        QTest::addColumn<QString>("version"); // empty: refused
        QTest::newRow("not set") << QByteArray() << execCredentialV1();
        QTest::newRow("v1") << QByteArray("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
                                          "\"spec\":{\"interactive\":false}}")
                            << execCredentialV1();
        QTest::newRow("v1beta1") << QByteArray("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
                                               "\"spec\":{\"interactive\":true}}")
                                 << execCredentialV1Beta1();
        QTest::newRow("v1alpha1 (removed in Kubernetes 1.24)")
            << QByteArray("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\",\"spec\":{}}")
            << QString();
        QTest::newRow("another kind") << QByteArray("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}") << QString();
        QTest::newRow("not JSON") << QByteArray("client.authentication.k8s.io/v1") << QString();
    }

    void execCredentialVersionFollowsKubernetesExecInfo()
    {
        QFETCH(QByteArray, execInfo);
        QFETCH(QString, version);
        QString apiVersion;
        QString problem;
        QCOMPARE(execCredentialVersion(execInfo, &apiVersion, &problem), !version.isEmpty());
        QCOMPARE(apiVersion, version);
        QCOMPARE(problem.isEmpty(), !version.isEmpty());
    }

    void versionProblemsShowOnlyPrintableText()
    {
        QString apiVersion;
        QString problem;
        QVERIFY(!execCredentialVersion("{\"kind\":\"ExecCredential\",\"apiVersion\":\"x\\u001b[31m\"}", &apiVersion, &problem));
        QVERIFY(!problem.contains(QChar(0x1b)));
    }

    void execCredentialCarriesTheIdTokenAndItsExpiry()
    {
        const QByteArray idToken = jwt({{QStringLiteral("aud"), QStringLiteral("my-cli")},
                                        {QStringLiteral("iat"), 1700000000},
                                        {QStringLiteral("exp"), 1700003600.7}});
        const QJsonObject o = parse(execCredentialJson(execCredentialV1(), idToken));
        QCOMPARE(o.value(QStringLiteral("apiVersion")).toString(), QStringLiteral("client.authentication.k8s.io/v1"));
        QCOMPARE(o.value(QStringLiteral("kind")).toString(), QStringLiteral("ExecCredential"));
        const QJsonObject status = o.value(QStringLiteral("status")).toObject();
        QCOMPARE(status.value(QStringLiteral("token")).toString().toLatin1(), idToken);
        QCOMPARE(status.value(QStringLiteral("expirationTimestamp")).toString(), QStringLiteral("2023-11-14T23:13:20Z"));
        QCOMPARE(jwtExpiry(idToken), QDateTime::fromSecsSinceEpoch(1700003600, Qt::UTC));

        const QJsonObject beta = parse(execCredentialJson(execCredentialV1Beta1(), idToken));
        QCOMPARE(beta.value(QStringLiteral("apiVersion")).toString(), QStringLiteral("client.authentication.k8s.io/v1beta1"));
    }

    void jwtExpiryIsInvalidWithoutAnExp()
    {
        QVERIFY(!jwtExpiry(jwt({{QStringLiteral("exp"), QStringLiteral("tomorrow")}})).isValid());
        QVERIFY(!jwtExpiry(jwt({})).isValid());
        QVERIFY(!jwtExpiry("not-a-jwt").isValid());
    }

    void keyBoundTokensAreRecognisedCaseInsensitively_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<bool>("bound");
        QTest::newRow("Bearer") << QStringLiteral("Bearer") << false;
        QTest::newRow("unknown (stored by 0.2)") << QString() << false;
        QTest::newRow("DPoP") << QStringLiteral("DPoP") << true;
        QTest::newRow("dpop") << QStringLiteral("dpop") << true;
        QTest::newRow("DPOP") << QStringLiteral("DPOP") << true;
    }

    void keyBoundTokensAreRecognisedCaseInsensitively()
    {
        QFETCH(QString, type);
        QFETCH(bool, bound);
        Keyloop::SessionRecord record;
        Keyloop::SessionAccessToken provider;
        provider.token = "at-provider";
        provider.tokenType = QStringLiteral("Bearer");
        record.setAccessToken(QString(), provider);
        Keyloop::SessionAccessToken api;
        api.token = "at-api";
        api.tokenType = type;
        record.setAccessToken(QStringLiteral("https://api.example.com"), api);
        QCOMPARE(hasKeyBoundTokens(record), bound);
    }
};

QTEST_GUILESS_MAIN(TestTokenOutput)
#include "tst_tokenoutput.moc"
