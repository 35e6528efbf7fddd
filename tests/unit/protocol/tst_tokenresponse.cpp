// SPDX-License-Identifier: MIT
#include <keyloop/tokenresponse.h>

#include <QtTest/QtTest>

using namespace Keyloop;
using namespace std::chrono_literals;

namespace {

class FixedClock : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override
    {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    }
};

} // namespace

class tst_TokenResponse : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parses_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("idTokenRequired");
        QTest::addColumn<int>("expectedCode");
        QTest::addColumn<QString>("oauthError");
        QTest::addColumn<int>("httpStatus");
        QTest::addColumn<bool>("transient");

        const int ok = int(Error::Code::NoError);
        const QString none;
        const QByteArray idt = R"(,"id_token":"h.p.s")";
        auto row = [](const char *name) -> QTestData & { return QTest::newRow(name); };

        row("minimal") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer"})") << false << ok << none << 0 << false;
        row("full") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"openid email")" + idt + "}")
                    << true << ok << none << 0 << false;
        row("BEARER uppercase") << 200 << QByteArray(R"({"access_token":"at","token_type":"BEARER"})") << false << ok << none << 0 << false;
        row("bearer lowercase") << 200 << QByteArray(R"({"access_token":"at","token_type":"bearer"})") << false << ok << none << 0 << false;
        row("unknown members ignored") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","x":{"y":[1,2]},"z":null})") << false << ok << none << 0 << false;
        row("expires_in zero") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":0})") << false << ok << none << 0 << false;

        row("missing access_token") << 200 << QByteArray(R"({"token_type":"Bearer"})") << false << int(Error::Code::MissingParameter) << none << 0 << false;
        row("empty access_token") << 200 << QByteArray(R"({"access_token":"","token_type":"Bearer"})") << false << int(Error::Code::MissingParameter) << none << 0 << false;
        row("access_token number") << 200 << QByteArray(R"({"access_token":42,"token_type":"Bearer"})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("missing token_type") << 200 << QByteArray(R"({"access_token":"at"})") << false << int(Error::Code::MissingParameter) << none << 0 << false;
        row("token_type mac") << 200 << QByteArray(R"({"access_token":"at","token_type":"mac"})") << false << int(Error::Code::UnsupportedTokenType) << none << 0 << false;
        row("token_type DPoP") << 200 << QByteArray(R"({"access_token":"at","token_type":"DPoP"})") << false << int(Error::Code::UnsupportedTokenType) << none << 0 << false;
        row("token_type array") << 200 << QByteArray(R"({"access_token":"at","token_type":["Bearer"]})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("expires_in string") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":"3600"})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("expires_in negative") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":-1})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("expires_in fractional") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":1.5})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("expires_in huge") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":1e300})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("refresh_token number") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","refresh_token":1})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("scope array") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","scope":["a"]})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("id_token object") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer","id_token":{}})") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("no id_token with openid") << 200 << QByteArray(R"({"access_token":"at","token_type":"Bearer"})") << true << int(Error::Code::MissingParameter) << none << 0 << false;
        row("duplicate access_token") << 200 << QByteArray(R"({"access_token":"a","access_token":"b","token_type":"Bearer"})") << false << int(Error::Code::DuplicateParameter) << none << 0 << false;
        row("duplicate via escape") << 200 << QByteArray(R"({"access_token":"a","\u0061ccess_token":"b","token_type":"Bearer"})") << false << int(Error::Code::DuplicateParameter) << none << 0 << false;
        row("duplicate nested") << 200 << QByteArray(R"({"access_token":"a","token_type":"Bearer","x":{"k":1,"k":2}})") << false << int(Error::Code::DuplicateParameter) << none << 0 << false;
        row("same key in sibling objects ok") << 200 << QByteArray(R"({"access_token":"a","token_type":"Bearer","x":{"k":1},"y":{"k":2},"k":[{"k":1}]})") << false << ok << none << 0 << false;
        row("non-JSON 200") << 200 << QByteArray("<html>hello</html>") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("form-encoded 200") << 200 << QByteArray("access_token=at&token_type=bearer") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("array instead of object") << 200 << QByteArray(R"([{"access_token":"at","token_type":"Bearer"}])") << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("empty body 200") << 200 << QByteArray() << false << int(Error::Code::MalformedResponse) << none << 0 << false;
        row("200 with error object") << 200 << QByteArray(R"({"error":"bad_verification_code","error_description":"expired"})") << false << int(Error::Code::OAuthError) << QStringLiteral("bad_verification_code") << 200 << false;

        row("400 invalid_grant") << 400 << QByteArray(R"({"error":"invalid_grant","error_description":"grant expired"})") << false << int(Error::Code::OAuthError) << QStringLiteral("invalid_grant") << 400 << false;
        row("401 invalid_client") << 401 << QByteArray(R"({"error":"invalid_client"})") << false << int(Error::Code::OAuthError) << QStringLiteral("invalid_client") << 401 << false;
        row("400 temporarily_unavailable") << 400 << QByteArray(R"({"error":"temporarily_unavailable"})") << false << int(Error::Code::OAuthError) << QStringLiteral("temporarily_unavailable") << 400 << true;
        row("401 bare") << 401 << QByteArray() << false << int(Error::Code::HttpError) << none << 401 << false;
        row("400 html") << 400 << QByteArray("<h1>Bad Request</h1>") << false << int(Error::Code::HttpError) << none << 400 << false;
        row("400 error not a string") << 400 << QByteArray(R"({"error":7})") << false << int(Error::Code::HttpError) << none << 400 << false;
        row("500") << 500 << QByteArray("Internal Server Error: secret-stack-trace") << false << int(Error::Code::HttpError) << none << 500 << true;
        row("503 with json error") << 503 << QByteArray(R"({"error":"temporarily_unavailable"})") << false << int(Error::Code::HttpError) << none << 503 << true;
        row("204") << 204 << QByteArray() << false << int(Error::Code::HttpError) << none << 204 << false;
    }

    void parses()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, idTokenRequired);
        QFETCH(int, expectedCode);
        QFETCH(QString, oauthError);
        QFETCH(int, httpStatus);
        QFETCH(bool, transient);

        FixedClock clock;
        TokenRequestContext context;
        context.requestedScopes = {QStringLiteral("openid"), QStringLiteral("profile")};
        context.idToken = idTokenRequired ? TokenRequestContext::IdToken::Required : TokenRequestContext::IdToken::Optional;
        context.clock = &clock;
        Error error;
        const TokenResponse response = TokenResponse::parse(status, "application/json", body, context, &error);
        QCOMPARE(int(error.code()), expectedCode);
        QCOMPARE(error.oauthError(), oauthError);
        QCOMPARE(error.httpStatus(), httpStatus);
        QCOMPARE(error.isTransient(), transient);
        QCOMPARE(response.isNull(), expectedCode != int(Error::Code::NoError));
        // Never the body in the message.
        QVERIFY(!error.message().contains(QLatin1String("secret-stack-trace")));
        QVERIFY(!error.message().contains(QLatin1String("\"at\"")));
    }

    void readsEveryMember()
    {
        FixedClock clock;
        TokenRequestContext context;
        context.requestedScopes = {QStringLiteral("openid")};
        context.idToken = TokenRequestContext::IdToken::Required;
        context.clock = &clock;
        Error error;
        const TokenResponse r = TokenResponse::parse(200, "application/json",
            R"({"access_token":"AT","token_type":"bearer","expires_in":3600,"refresh_token":"RT","scope":"openid  email","id_token":"h.p.s"})",
            context, &error);
        QVERIFY(!error);
        QVERIFY(r.accessToken() == "AT");
        QVERIFY(r.refreshToken() == "RT");
        QVERIFY(r.idToken() == "h.p.s");
        QCOMPARE(r.tokenType(), QStringLiteral("bearer"));
        QCOMPARE(r.expiresIn(), std::optional<std::chrono::seconds>(3600s));
        QCOMPARE(r.receivedAt(), QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC));
        QCOMPARE(r.expiresAt(), QDateTime::fromSecsSinceEpoch(1700003600, Qt::UTC));
        QCOMPARE(r.scopes(), (QStringList{QStringLiteral("openid"), QStringLiteral("email")}));
    }

    void absentScopeMeansRequested()
    {
        TokenRequestContext context;
        context.requestedScopes = {QStringLiteral("openid"), QStringLiteral("offline_access")};
        Error error;
        const TokenResponse r = TokenResponse::parse(200, {}, R"({"access_token":"a","token_type":"Bearer"})", context, &error);
        QVERIFY(!error);
        QCOMPARE(r.scopes(), context.requestedScopes); // RFC 6749 §5.1
        QVERIFY(!r.expiresIn());
        QVERIFY(!r.expiresAt().isValid());
        QVERIFY(!r.hasRefreshToken());
        QVERIFY(!r.hasIdToken());
    }

    void invalidGrantRequiresSignIn()
    {
        Error error;
        TokenResponse::parse(400, {}, R"({"error":"invalid_grant"})", {}, &error);
        QVERIFY(error.requiresSignIn());
        QVERIFY(!error.isTransient());
    }

    void debugOutputIsRedacted()
    {
        Error error;
        const TokenResponse r = TokenResponse::parse(200, {},
            R"({"access_token":"ACCESSSECRET","token_type":"Bearer","refresh_token":"REFRESHSECRET","id_token":"IDSECRET"})", {}, &error);
        QVERIFY(!error);
        QString out;
        QDebug(&out) << r;
        QVERIFY(!out.contains(QLatin1String("ACCESSSECRET")));
        QVERIFY(!out.contains(QLatin1String("REFRESHSECRET")));
        QVERIFY(!out.contains(QLatin1String("IDSECRET")));
        QVERIFY(out.contains(QLatin1String("redacted")));
    }
};

QTEST_GUILESS_MAIN(tst_TokenResponse)
#include "tst_tokenresponse.moc"
