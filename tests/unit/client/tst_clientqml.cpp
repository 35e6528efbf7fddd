// SPDX-License-Identifier: MIT
// Keyloop::Client's Q_PROPERTYs with NOTIFY signals, bound from QML: a widget or a QML view can
// show the state and the signed-in user without glue code. The session comes from a
// MemoryTokenStore holding a record with remembered provider metadata, so restore() needs no
// network (and no keychain).
#include <keyloop/accountindex.h>
#include <keyloop/client.h>
#include <keyloop/memorytokenstore.h>
#include <keyloop/tokenstore.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlContext>
#include <QtQml/QQmlEngine>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace Keyloop;

namespace {

QByteArray b64url(const QByteArray &data) { return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals); }

// A stored ID token (validated when it was received; its signature is not looked at here).
QByteArray idToken(const QJsonObject &claims)
{
    return b64url(R"({"alg":"RS256","kid":"k"})") + '.' + b64url(QJsonDocument(claims).toJson(QJsonDocument::Compact))
        + '.' + b64url("signature");
}

const QString kIssuer = QStringLiteral("https://login.example.com");

} // namespace

class tst_ClientQml : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void qmlBindsToStateAndUser()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        ClientConfiguration config;
        config.setIssuer(QUrl(kIssuer));
        config.setClientId(QStringLiteral("desktop-app"));
        MemoryTokenStore store(QStringLiteral("org.keyloop.test.clientqml"));
        AccountIndex index(QStringLiteral("org.keyloop.test.clientqml"), dir.path());

        // What an earlier run stored: tokens, the validated ID token, the provider's metadata.
        SessionRecord record;
        record.setIssuer(kIssuer);
        record.setClientId(QStringLiteral("desktop-app"));
        record.setRefreshToken("rt");
        SessionAccessToken token;
        token.token = "at";
        token.issuedAt = QDateTime::currentDateTimeUtc();
        token.expiresAt = token.issuedAt.addSecs(3600);
        record.setAccessToken(QString(), token);
        record.setIdToken(idToken({{QStringLiteral("iss"), kIssuer}, {QStringLiteral("sub"), QStringLiteral("u-42")},
                                   {QStringLiteral("name"), QStringLiteral("Ada Lovelace")},
                                   {QStringLiteral("email"), QStringLiteral("ada@example.com")}}));
        record.setProviderMetadata({{QStringLiteral("issuer"), kIssuer},
                                    {QStringLiteral("authorization_endpoint"), kIssuer + QStringLiteral("/authorize")},
                                    {QStringLiteral("token_endpoint"), kIssuer + QStringLiteral("/token")},
                                    {QStringLiteral("jwks_uri"), kIssuer + QStringLiteral("/jwks")},
                                    {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}}});
        TokenStoreJob *write = store.write(TokenStore::keyFor(kIssuer, QStringLiteral("desktop-app"), QString()), record);
        QSignalSpy written(write, &Job::finished);
        write->start();
        QVERIFY(written.wait());

        Client client(config, QStringLiteral("org.keyloop.test.clientqml"));
        client.setTokenStore(&store);
        client.setAccountIndex(&index);

        QQmlEngine engine;
        engine.rootContext()->setContextProperty(QStringLiteral("client"), &client);
        QQmlComponent component(&engine);
        component.setData(R"(
            import QtQml
            QtObject {
                property bool signedIn: client.signedIn
                property string who: client.signedIn ? client.displayName + " <" + client.email + ">" : "signed out"
                property string subject: client.subject
            }
        )", QUrl());
        std::unique_ptr<QObject> view(component.create());
        QVERIFY2(view, qPrintable(component.errorString()));
        QCOMPARE(view->property("signedIn").toBool(), false);
        QCOMPARE(view->property("who").toString(), QStringLiteral("signed out"));

        QSignalSpy signedIn(&client, &Client::signedIn);
        client.restore();
        QVERIFY(signedIn.wait());
        QCOMPARE(client.state(), Client::State::SignedIn);
        QCOMPARE(view->property("signedIn").toBool(), true);
        QCOMPARE(view->property("who").toString(), QStringLiteral("Ada Lovelace <ada@example.com>"));
        QCOMPARE(view->property("subject").toString(), QStringLiteral("u-42"));

        QSignalSpy signedOut(&client, &Client::signedOut);
        client.signOut();
        QVERIFY(signedOut.wait());
        QCOMPARE(view->property("signedIn").toBool(), false);
        QCOMPARE(view->property("subject").toString(), QString());
    }

    void nothingStoredMeansSignInRequired()
    {
        QTemporaryDir dir;
        ClientConfiguration config;
        config.setIssuer(QUrl(kIssuer));
        config.setClientId(QStringLiteral("desktop-app"));
        MemoryTokenStore store(QStringLiteral("org.keyloop.test.clientqml.empty"));
        AccountIndex index(QStringLiteral("org.keyloop.test.clientqml.empty"), dir.path());
        Client client(config, QStringLiteral("org.keyloop.test.clientqml.empty"));
        client.setTokenStore(&store);
        client.setAccountIndex(&index);
        QSignalSpy required(&client, &Client::signInRequired);
        QSignalSpy failed(&client, &Client::failed);
        client.restore();
        QVERIFY(required.wait());
        QCOMPARE(client.state(), Client::State::SignInRequired);
        QCOMPARE(failed.count(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_ClientQml)
#include "tst_clientqml.moc"
