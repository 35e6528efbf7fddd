// SPDX-License-Identifier: MIT
// EndSessionRequest: the OpenID Connect RP-Initiated Logout 1.0 §2 request URL — its
// parameters, their encoding, and that neither the ID token nor the state leaks into an error
// message, a log line or QDebug.
#include <keyloop/clientconfiguration.h>
#include <keyloop/endsessionrequest.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QLoggingCategory>
#include <QtCore/QUrlQuery>
#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

// Not a real JWT, but with every character a form encoder must escape, so that the test sees
// the encoding (a real ID token is base64url and dots).
const QByteArray kIdToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9+/=&x=y#frag%20.sig";

ProviderConfiguration provider(const QUrl &endSession = QUrl(QStringLiteral("https://op.example/session/end")))
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(QStringLiteral("https://op.example")));
    p.setAuthorizationEndpoint(QUrl(QStringLiteral("https://op.example/authorize")));
    p.setTokenEndpoint(QUrl(QStringLiteral("https://op.example/token")));
    p.setEndSessionEndpoint(endSession);
    return p;
}

ClientConfiguration client()
{
    ClientConfiguration c;
    c.setIssuer(QUrl(QStringLiteral("https://op.example")));
    c.setClientId(QStringLiteral("desktop app"));
    return c;
}

const QUrl kPostLogout(QStringLiteral("http://127.0.0.1:5555/callback"));

// Parses the query the way a provider does (form decoding: '+' is a space).
QList<QPair<QByteArray, QByteArray>> params(const QUrl &url)
{
    QList<QPair<QByteArray, QByteArray>> out;
    const QByteArray query = url.query(QUrl::FullyEncoded).toLatin1();
    for (const QByteArray &pair : query.split('&')) {
        const qsizetype eq = pair.indexOf('=');
        QByteArray name = pair.left(eq), value = pair.mid(eq + 1);
        name.replace('+', ' ');
        value.replace('+', ' ');
        out.append({QByteArray::fromPercentEncoding(name), QByteArray::fromPercentEncoding(value)});
    }
    return out;
}

QList<QByteArray> values(const QUrl &url, const QByteArray &name)
{
    QList<QByteArray> out;
    for (const auto &p : params(url))
        if (p.first == name)
            out << p.second;
    return out;
}

QStringList g_messages;
void collect(QtMsgType, const QMessageLogContext &, const QString &message)
{
    g_messages << message;
}

} // namespace

class tst_EndSessionRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void buildsTheLogoutUrlWithEveryParameter()
    {
        Error error;
        const EndSessionRequest r = EndSessionRequest::create(client(), provider(), kIdToken, kPostLogout, &error,
                                                              {QStringLiteral("de-CH"), QStringLiteral("fr")});
        QVERIFY2(!error, qPrintable(error.toString()));
        QVERIFY(!r.isNull());
        const QUrl url = r.url();
        QCOMPARE(url.scheme(), QStringLiteral("https"));
        QCOMPARE(url.host(), QStringLiteral("op.example"));
        QCOMPARE(url.path(), QStringLiteral("/session/end"));
        // §2: every parameter exactly once, decoded back to what was given.
        QVERIFY(values(url, "id_token_hint") == QList<QByteArray>{kIdToken});
        QCOMPARE(values(url, "client_id"), QList<QByteArray>{"desktop app"});
        QCOMPARE(values(url, "post_logout_redirect_uri"), QList<QByteArray>{"http://127.0.0.1:5555/callback"});
        QCOMPARE(values(url, "ui_locales"), QList<QByteArray>{"de-CH fr"});
        QCOMPARE(values(url, "state").size(), 1);
        QVERIFY(values(url, "state").first() == r.state());
        QCOMPARE(params(url).size(), 5);
        QVERIFY(r.idTokenHint() == kIdToken);
        QCOMPARE(r.clientId(), QStringLiteral("desktop app"));
        QCOMPARE(r.postLogoutRedirectUri(), kPostLogout);
        QCOMPARE(r.uiLocales(), (QStringList{QStringLiteral("de-CH"), QStringLiteral("fr")}));
    }

    void encodesReservedCharactersInValues()
    {
        const EndSessionRequest r = EndSessionRequest::create(client(), provider(), kIdToken, kPostLogout, nullptr);
        const QByteArray query = r.url().query(QUrl::FullyEncoded).toLatin1();
        // Form encoding: no raw '&', '=', '#', '+' or '/' from a value survives into the query.
        QVERIFY(!query.contains("x=y"));
        QVERIFY(!query.contains('#'));
        QVERIFY(query.contains("client_id=desktop+app"));
        QVERIFY(query.contains("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback"));
        QVERIFY(query.contains("%2B%2F%3D%26x%3Dy%23frag%2520"));
        QVERIFY(!r.url().hasFragment());
    }

    void stateIsFreshAndLong()
    {
        const EndSessionRequest a = EndSessionRequest::create(client(), provider(), kIdToken, kPostLogout, nullptr);
        const EndSessionRequest b = EndSessionRequest::create(client(), provider(), kIdToken, kPostLogout, nullptr);
        QCOMPARE(a.state().size(), 43); // 256 bits, base64url
        QVERIFY(a.state() != b.state());
    }

    void withoutAnIdTokenSendsNoHint()
    {
        const EndSessionRequest r = EndSessionRequest::create(client(), provider(), QByteArray(), kPostLogout, nullptr);
        QVERIFY(!r.isNull());
        QVERIFY(values(r.url(), "id_token_hint").isEmpty());
        QCOMPARE(values(r.url(), "client_id"), QList<QByteArray>{"desktop app"});
        QVERIFY(values(r.url(), "ui_locales").isEmpty());
    }

    void keepsTheEndpointsOwnQuery()
    {
        const EndSessionRequest r = EndSessionRequest::create(
            client(), provider(QUrl(QStringLiteral("https://op.example/logout?tenant=a%20b"))), kIdToken, kPostLogout, nullptr);
        QVERIFY(!r.isNull());
        QCOMPARE(values(r.url(), "tenant"), QList<QByteArray>{"a b"});
        QVERIFY(r.url().query(QUrl::FullyEncoded).startsWith(QStringLiteral("tenant=a%20b&")));
    }

    void refusesWhatItCannotSend_data()
    {
        QTest::addColumn<QUrl>("endpoint");
        QTest::addColumn<QString>("clientId");
        QTest::addColumn<QUrl>("postLogout");
        QTest::addColumn<Error::Code>("code");
        const QUrl ok(QStringLiteral("https://op.example/session/end"));
        QTest::newRow("no end_session_endpoint") << QUrl() << QStringLiteral("app") << kPostLogout << Error::Code::EndSessionNotSupported;
        QTest::newRow("plain http endpoint") << QUrl(QStringLiteral("http://op.example/session/end")) << QStringLiteral("app")
                                             << kPostLogout << Error::Code::InsecureEndpoint;
        QTest::newRow("no client id") << ok << QString() << kPostLogout << Error::Code::InvalidConfiguration;
        QTest::newRow("relative post-logout URI") << ok << QStringLiteral("app") << QUrl(QStringLiteral("/callback"))
                                                  << Error::Code::InvalidConfiguration;
        QTest::newRow("post-logout URI with fragment") << ok << QStringLiteral("app") << QUrl(QStringLiteral("http://127.0.0.1:1/cb#x"))
                                                       << Error::Code::InvalidConfiguration;
        QTest::newRow("endpoint query repeats state") << QUrl(QStringLiteral("https://op.example/end?state=1")) << QStringLiteral("app")
                                                      << kPostLogout << Error::Code::InvalidConfiguration;
        QTest::newRow("endpoint query repeats id_token_hint")
            << QUrl(QStringLiteral("https://op.example/end?id_token_hint=x")) << QStringLiteral("app") << kPostLogout
            << Error::Code::InvalidConfiguration;
    }
    void refusesWhatItCannotSend()
    {
        QFETCH(QUrl, endpoint);
        QFETCH(QString, clientId);
        QFETCH(QUrl, postLogout);
        QFETCH(Error::Code, code);
        ClientConfiguration c = client();
        c.setClientId(clientId);
        Error error;
        const EndSessionRequest r = EndSessionRequest::create(c, provider(endpoint), kIdToken, postLogout, &error);
        QVERIFY(r.isNull());
        QCOMPARE(error.code(), code);
        // The message names the rule, never the ID token.
        QVERIFY(!error.message().toUtf8().contains(kIdToken.left(20)));
        QVERIFY(!error.toString().toUtf8().contains(kIdToken.left(20)));
    }

    void neverLogsOrPrintsTheHintOrTheState()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("keyloop.*=true"));
        g_messages.clear();
        const QtMessageHandler previous = qInstallMessageHandler(collect);
        const EndSessionRequest r = EndSessionRequest::create(client(), provider(), kIdToken, kPostLogout, nullptr);
        qDebug() << r;
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(!g_messages.isEmpty());
        const QByteArray all = g_messages.join(QLatin1Char('\n')).toUtf8();
        QVERIFY(all.contains("<redacted>"));
        QVERIFY(!all.contains(kIdToken.left(20)));
        QVERIFY(!all.contains(r.state()));
        QVERIFY(!all.contains("id_token_hint="));
    }
};

QTEST_GUILESS_MAIN(tst_EndSessionRequest)
#include "tst_endsessionrequest.moc"
