// SPDX-License-Identifier: MIT
// The demo app's profiles (demo-app/profiles.example.json, devstack.json), its banner words and
// its redaction of anything token-like.
#include "errortext.h"
#include "profile.h"
#include "redaction.h"

#include "testsupport.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

class tst_DemoProfile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exampleProfilesLoadAndNeedClientIds()
    {
        Keyloop::Error error;
        const QList<DemoProfile> profiles =
            DemoProfile::fromFile(KeyloopTest::sourcePath(QStringLiteral("demo-app/profiles.example.json")), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        QStringList names;
        for (const DemoProfile &p : profiles) {
            names.append(p.name);
            QVERIFY2(p.missing().contains(QLatin1String("client id")), qPrintable(p.name)); // left to the user
            QVERIFY(p.client.issuer().scheme() == QLatin1String("https"));
        }
        QCOMPARE(names, (QStringList{QStringLiteral("Keycloak"), QStringLiteral("Auth0"), QStringLiteral("Okta"),
                                     QStringLiteral("Microsoft Entra ID"), QStringLiteral("Google")}));
        const DemoProfile &entra = profiles.at(3);
        QCOMPARE(entra.client.redirectHost(), Keyloop::RedirectHost::Localhost);
        QVERIFY(!entra.client.issuer().path().contains(QLatin1String("common"))); // a tenant-specific issuer
        const DemoProfile &google = profiles.at(4);
        QVERIFY(google.needsClientSecret);
        QCOMPARE(google.client.offlineAccess(), Keyloop::ClientConfiguration::OfflineAccess::DoNotRequest);
        QCOMPARE(google.client.additionalParameters().value(0).first, QStringLiteral("access_type"));
    }

    void filledInProfileIsUsable()
    {
        const QJsonObject json = QJsonDocument::fromJson(
            "{\"name\": \"Mine\", \"issuer\": \"https://login.example.com\", \"clientId\": \"desktop\","
            " \"clientSecret\": \"not-really-secret\", \"clientAuthMethod\": \"basic\", \"redirectHost\": \"[::1]\","
            " \"redirectPorts\": [53682], \"scopes\": [\"openid\", \"api\"],"
            " \"apis\": [{\"resource\": \"https://api.example.com\", \"locations\": [\"https://api.example.com/v1/\"],"
            " \"endpoints\": [{\"label\": \"Create\", \"method\": \"post\", \"url\": \"https://api.example.com/v1/items\","
            " \"body\": {\"name\": \"x\"}}]}]}").object();
        Keyloop::Error error;
        const DemoProfile p = DemoProfile::fromJson(json, QString(), &error);
        QVERIFY2(!error, qPrintable(error.message()));
        QCOMPARE(p.missing(), QString());
        QCOMPARE(p.client.clientAuthMethod(), Keyloop::ClientConfiguration::ClientAuthMethod::ClientSecretBasic);
        QCOMPARE(p.client.redirectHost(), Keyloop::RedirectHost::Ipv6);
        QCOMPARE(p.client.redirectPorts(), QList<quint16>{53682});
        QCOMPARE(p.client.resources(), QStringList{QStringLiteral("https://api.example.com")});
        QCOMPARE(p.apis.value(0).endpoints.value(0).method, QByteArray("POST"));
        QCOMPARE(p.apis.value(0).endpoints.value(0).body, QByteArray("{\"name\":\"x\"}"));
        QVERIFY(!p.client.validate());
        QVERIFY(!p.client.isDpopEnabled()); // off unless the profile says so

        QJsonObject bound = json;
        bound.insert(QStringLiteral("dpop"), true);
        QVERIFY(DemoProfile::fromJson(bound, QString(), &error).client.isDpopEnabled());
        QVERIFY2(!error, qPrintable(error.message()));
    }

    void badProfilesAreRefusedInWords()
    {
        Keyloop::Error error;
        DemoProfile::fromJson(QJsonObject{{QStringLiteral("name"), QStringLiteral("X")},
                                          {QStringLiteral("redirectHost"), QStringLiteral("0.0.0.0")}}, QString(), &error);
        QCOMPARE(error.code(), Keyloop::Error::Code::InvalidConfiguration);
        QVERIFY(error.message().contains(QLatin1String("redirectHost")));
        QTemporaryDir dir;
        DemoProfile::fromFile(dir.filePath(QStringLiteral("absent.json")), &error);
        QCOMPARE(error.code(), Keyloop::Error::Code::InvalidConfiguration);
        DemoProfile::fromDevstack(dir.filePath(QStringLiteral("devstack.json")), &error);
        QCOMPARE(error.code(), Keyloop::Error::Code::InvalidConfiguration);
    }

    void bannersSpeakPlainWords()
    {
        using Code = Keyloop::Error::Code;
        QCOMPARE(errorText(Keyloop::Error(Code::NetworkError, QStringLiteral("x"))).headline,
                 QStringLiteral("The provider cannot be reached. Check the network and try again."));
        QVERIFY(errorText(Keyloop::Error(Code::StorageUnavailable, QStringLiteral("x"))).headline.startsWith(
            QLatin1String("The keychain is not available.")));
        QCOMPARE(errorText(Keyloop::Error::oauth(QStringLiteral("access_denied"), QString(), 0)).headline,
                 QStringLiteral("Access was denied: the sign-in was not approved."));
        QCOMPARE(errorText(Keyloop::Error(Code::SignInTimeout, QStringLiteral("x"))).detail, QStringLiteral("x"));
    }

    void redactionMasksTokensOnly()
    {
        const QString jwt = QStringLiteral("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ");
        const QString line = QStringLiteral("session: refresh started for ") + jwt;
        QCOMPARE(redacted(line), QStringLiteral("session: refresh started for [redacted]"));
        QCOMPARE(redacted(QStringLiteral("http: GET request to \"127.0.0.1\" \"/api/items\"")),
                 QStringLiteral("http: GET request to \"127.0.0.1\" \"/api/items\""));
        const QByteArray token = jwt.toLatin1();
        const QString preview = tokenFingerprint(token);
        QVERIFY(preview.startsWith(QStringLiteral("%1 characters, SHA-256 ").arg(token.size())));
        QVERIFY(!preview.contains(jwt.left(12)));
    }
};

QTEST_GUILESS_MAIN(tst_DemoProfile)
#include "tst_demoprofile.moc"
