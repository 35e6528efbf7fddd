// SPDX-License-Identifier: MIT
#include <keyloop/authorizationresponse.h>

#include <QtTest/QtTest>

using namespace Keyloop;

namespace {

ProviderConfiguration provider(bool issSupported)
{
    ProviderConfiguration p;
    p.setIssuer(QUrl(QStringLiteral("https://op.example/tenant")));
    p.setAuthorizationEndpoint(QUrl(QStringLiteral("https://op.example/tenant/authorize")));
    p.setTokenEndpoint(QUrl(QStringLiteral("https://op.example/tenant/token")));
    p.setAuthorizationResponseIssParameterSupported(issSupported);
    return p;
}

AuthorizationRequest request(const ProviderConfiguration &p)
{
    ClientConfiguration c;
    c.setIssuer(p.issuer());
    c.setClientId(QStringLiteral("app"));
    Error error;
    return AuthorizationRequest::create(c, p, QUrl(QStringLiteral("http://127.0.0.1:1234/callback")), &error);
}

} // namespace

class tst_AuthorizationResponse : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parses_data()
    {
        // {STATE} is replaced by the request's state.
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<bool>("issSupported");
        QTest::addColumn<int>("expectedCode");
        QTest::addColumn<QByteArray>("expectedAuthCode");
        QTest::addColumn<QString>("oauthError");

        const auto ok = int(Error::Code::NoError);
        const QString none;
        QTest::newRow("success with iss") << QByteArray("code=abc&state={STATE}&iss=https%3A%2F%2Fop.example%2Ftenant")
                                          << true << ok << QByteArray("abc") << none;
        QTest::newRow("success without iss, not advertised") << QByteArray("state={STATE}&code=abc") << false << ok
                                                             << QByteArray("abc") << none;
        QTest::newRow("form decoding of code") << QByteArray("state={STATE}&code=a%2Bb+c") << false << ok
                                               << QByteArray("a+b c") << none;
        QTest::newRow("empty segments ignored") << QByteArray("&state={STATE}&&code=abc&") << false << ok
                                                << QByteArray("abc") << none;
        QTest::newRow("duplicate code") << QByteArray("state={STATE}&code=a&code=b") << false
                                        << int(Error::Code::DuplicateParameter) << QByteArray() << none;
        QTest::newRow("duplicate state") << QByteArray("state={STATE}&state={STATE}&code=a") << false
                                         << int(Error::Code::DuplicateParameter) << QByteArray() << none;
        QTest::newRow("duplicate via encoding") << QByteArray("state={STATE}&code=a&%63ode=b") << false
                                                << int(Error::Code::DuplicateParameter) << QByteArray() << none;
        QTest::newRow("missing state") << QByteArray("code=abc") << false << int(Error::Code::StateMismatch)
                                       << QByteArray() << none;
        QTest::newRow("wrong state") << QByteArray("code=abc&state=forged") << false
                                     << int(Error::Code::StateMismatch) << QByteArray() << none;
        QTest::newRow("state checked before error") << QByteArray("error=access_denied&state=forged") << false
                                                    << int(Error::Code::StateMismatch) << QByteArray() << none;
        QTest::newRow("state checked before iss") << QByteArray("code=a&state=forged&iss=https%3A%2F%2Fevil") << true
                                                  << int(Error::Code::StateMismatch) << QByteArray() << none;
        QTest::newRow("error with description")
            << QByteArray("error=access_denied&error_description=The+user+said+no&state={STATE}") << false
            << int(Error::Code::OAuthError) << QByteArray() << QStringLiteral("access_denied");
        QTest::newRow("error with the issuer's iss")
            << QByteArray("state={STATE}&error=login_required&iss=https%3A%2F%2Fop.example%2Ftenant") << true
            << int(Error::Code::OAuthError) << QByteArray() << QStringLiteral("login_required");
        // RFC 9207 §2.4: an error response is not assumed to come from the intended provider.
        QTest::newRow("error from another issuer is a mix-up")
            << QByteArray("state={STATE}&error=access_denied&iss=https%3A%2F%2Fevil.example") << false
            << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("error with iss of a longer issuer is a mix-up")
            << QByteArray("error=temporarily_unavailable&iss=https%3A%2F%2Fop.example%2Ftenant2&state={STATE}") << true
            << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("error without iss, iss advertised")
            << QByteArray("state={STATE}&error=access_denied") << true
            << int(Error::Code::MissingParameter) << QByteArray() << none;
        QTest::newRow("iss required but missing") << QByteArray("state={STATE}&code=abc") << true
                                                  << int(Error::Code::MissingParameter) << QByteArray() << none;
        QTest::newRow("iss mismatch") << QByteArray("state={STATE}&code=abc&iss=https%3A%2F%2Fevil.example") << false
                                      << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("iss with trailing slash") << QByteArray("state={STATE}&code=abc&iss=https%3A%2F%2Fop.example%2Ftenant%2F")
                                                 << true << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("iss with suffix") << QByteArray("state={STATE}&code=abc&iss=https%3A%2F%2Fop.example%2Ftenant2")
                                         << true << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("iss prefix only") << QByteArray("state={STATE}&code=abc&iss=https%3A%2F%2Fop.example")
                                         << true << int(Error::Code::IssuerMismatch) << QByteArray() << none;
        QTest::newRow("missing code") << QByteArray("state={STATE}") << false << int(Error::Code::MissingParameter)
                                      << QByteArray() << none;
        QTest::newRow("empty code") << QByteArray("state={STATE}&code=") << false
                                    << int(Error::Code::MissingParameter) << QByteArray() << none;
        QTest::newRow("bad percent escape") << QByteArray("state={STATE}&code=%zz") << false
                                            << int(Error::Code::MalformedResponse) << QByteArray() << none;
        QTest::newRow("truncated percent escape") << QByteArray("state={STATE}&code=ab%2") << false
                                                  << int(Error::Code::MalformedResponse) << QByteArray() << none;
    }

    void parses()
    {
        QFETCH(QByteArray, query);
        QFETCH(bool, issSupported);
        QFETCH(int, expectedCode);
        QFETCH(QByteArray, expectedAuthCode);
        QFETCH(QString, oauthError);

        const ProviderConfiguration p = provider(issSupported);
        const AuthorizationRequest r = request(p);
        QVERIFY(!r.isNull());
        query.replace("{STATE}", r.state());

        Error error;
        const AuthorizationResponse response = AuthorizationResponse::parse(query, r, p, &error);
        QCOMPARE(int(error.code()), expectedCode);
        if (expectedCode == int(Error::Code::NoError)) {
            QVERIFY(response.code() == expectedAuthCode);
            QVERIFY(response.state() == r.state());
        } else {
            QVERIFY(response.isNull());
            // The message never repeats the parameter values.
            QVERIFY(!error.message().contains(QString::fromLatin1(r.state())));
            QVERIFY(!error.message().contains(QLatin1String("forged")));
        }
        QCOMPARE(error.oauthError(), oauthError);
        if (expectedCode != int(Error::Code::OAuthError))
            QVERIFY(error.oauthErrorDescription().isEmpty());
    }

    void errorDescriptionIsCarried()
    {
        const ProviderConfiguration p = provider(false);
        const AuthorizationRequest r = request(p);
        Error error;
        AuthorizationResponse::parse("error=access_denied&error_description=The+user+said+no&state=" + r.state(), r, p, &error);
        QCOMPARE(error.oauthErrorDescription(), QStringLiteral("The user said no"));
        QVERIFY(!error.isTransient());
        QVERIFY(!error.requiresSignIn());
    }

    void debugOutputIsRedacted()
    {
        const ProviderConfiguration p = provider(false);
        const AuthorizationRequest r = request(p);
        Error error;
        const auto response = AuthorizationResponse::parse("code=SECRETCODE&state=" + r.state(), r, p, &error);
        QVERIFY(!error);
        QString out;
        QDebug(&out) << response;
        QVERIFY(!out.contains(QLatin1String("SECRETCODE")));
        QVERIFY(!out.contains(QString::fromLatin1(r.state())));
    }
};

QTEST_GUILESS_MAIN(tst_AuthorizationResponse)
#include "tst_authorizationresponse.moc"
