// SPDX-License-Identifier: MIT
// keyloop call URL — one request to an API with the stored session's access token, through
// Keyloop::HttpClient (the token never leaves this process except in the Authorization header).
#include "commands.h"

#include <keyloop/httpclient.h>
#include <keyloop/httpreply.h>
#include <keyloop/session.h>
#include <keyloop/sessioncredential.h>

#include <QtCore/QFile>
#include <QtNetwork/QNetworkRequest>

#include <cstdio>
#include <unistd.h>

namespace KeyloopCli {
namespace {

class CallCommand : public Command
{
public:
    QString name() const override { return QStringLiteral("call"); }
    QString summary() const override { return QStringLiteral("Call an API with a fresh access token; print the body"); }
    QString positionalSyntax() const override { return QStringLiteral("URL"); }

    void addOptions(QCommandLineParser &p) override
    {
        p.addPositionalArgument(QStringLiteral("URL"),
                                QStringLiteral("The API URL (https; plain http only to loopback with --allow-insecure-loopback)."));
        p.addOption({{QStringLiteral("X"), QStringLiteral("request")},
                     QStringLiteral("HTTP method (default GET, or POST with -d)."),
                     QStringLiteral("METHOD")});
        p.addOption({{QStringLiteral("H"), QStringLiteral("header")},
                     QStringLiteral("Extra request header \"Name: value\"; repeatable. Authorization comes from the session."),
                     QStringLiteral("HEADER")});
        p.addOption({{QStringLiteral("d"), QStringLiteral("data")},
                     QStringLiteral("Request body; @FILE reads a file, @- stdin. Content-Type defaults to "
                                    "application/x-www-form-urlencoded (as curl's -d): set it with -H."),
                     QStringLiteral("DATA")});
        addClientOptions(p, ClientCommand::Token);
    }

    QString helpEpilogue() const override
    {
        return QStringLiteral(
            "Restores the stored session without a browser, sends the request with\n"
            "\"Authorization: Bearer <token>\" for the resource (--resource, default: the first given at\n"
            "login) to URL only, and prints the response body on stdout. A session signed in with --dpop\n"
            "sends \"Authorization: DPoP <token>\" and a new DPoP proof of its key with every request, and\n"
            "answers an API's nonce challenge once (RFC 9449). The token goes to URL's scheme,\n"
            "host, port and path (and below) and nowhere else: a redirect elsewhere is followed without it,\n"
            "never from https to http. A 401 gets one fresh token and one retry; a 429/503 with a short\n"
            "Retry-After one retry for GET, HEAD, PUT, DELETE and OPTIONS.\n"
            "On HTTP 400 and above the body is still printed, the status goes to stderr, and the exit\n"
            "code is 6.\n"
            "\n"
            "Examples:\n"
            "  keyloop call https://api.example.com/items\n"
            "  keyloop call -X POST -H 'Content-Type: application/json' -d '{\"name\":\"x\"}' https://api.example.com/items\n"
            "  keyloop call -d @body.json -H 'Content-Type: application/json' https://api.example.com/items\n"
            "\n"
            "The CAs of --ca-file (or remembered by login) are trusted for the API too.\n"
            "--allow-insecure-loopback (or KEYLOOP_ALLOW_INSECURE_LOOPBACK=1) must be given for each call\n"
            "that sends the token over plain http to 127.0.0.1/::1/localhost; the one remembered by login\n"
            "covers the provider only.\n");
    }

    void start() override
    {
        // Everything the command line says is checked before the keychain is touched.
        const QStringList args = parser().positionalArguments();
        if (args.size() != 1)
            return fail(ExitUsage, QStringLiteral("give exactly one URL"));
        m_url = QUrl(args.constFirst(), QUrl::StrictMode);
        if (!m_url.isValid() || m_url.isRelative() || m_url.host().isEmpty())
            return fail(ExitUsage, QStringLiteral("the URL must be absolute, with a host"));
        if (const QString error = buildRequest(); !error.isEmpty())
            return fail(ExitUsage, error);
        if (const QString error = readBody(); !error.isEmpty())
            return fail(ExitUsage, error);

        restoreStoredSession([this](Keyloop::Session *session, const RememberedSettings &settings) {
            Keyloop::ClientConfiguration client;
            if (const Keyloop::Error e = buildClientConfiguration(settings, &client))
                return fail(e);
            // The API gets the provider's CA settings; plain http to loopback needs the opt-in
            // on this command line (or in the environment), not the one remembered for the provider.
            Keyloop::TransportOptions transport = client.transport();
            transport.setAllowInsecureLoopbackForDevelopment(
                flagSetting(parser(), QStringLiteral("allow-insecure-loopback"), "KEYLOOP_ALLOW_INSECURE_LOOPBACK", false));
            auto *http = new Keyloop::HttpClient(networkAccessManager(), transport, this);
            auto *credential = new Keyloop::SessionCredential(session, settings.resources.value(0), this);
            credential->setProactiveRefreshEnabled(false); // one request
            // The user names the URL explicitly: it is the one API location of the token (the
            // resource indicator is not a URL to match).
            const QUrl location = m_url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment);
            if (const Keyloop::Error e = http->addCredential(credential, {location}))
                return fail(e, QStringLiteral("the access token may not be sent to this URL"));
            send(http);
        });
    }

private:
    QString buildRequest()
    {
        m_request = QNetworkRequest(m_url);
        for (const QString &header : parser().values(QStringLiteral("header"))) {
            const qsizetype colon = header.indexOf(QLatin1Char(':'));
            const QByteArray name = header.left(colon).trimmed().toLatin1();
            if (colon <= 0 || name.isEmpty() || name.contains(' '))
                return QStringLiteral("a header must look like \"Name: value\"");
            if (name.compare("Authorization", Qt::CaseInsensitive) == 0)
                return QStringLiteral("the Authorization header comes from the session; do not set it with -H");
            const QByteArray value = header.mid(colon + 1).trimmed().toUtf8();
            if (value.contains('\r') || value.contains('\n'))
                return QStringLiteral("a header value must be one line");
            m_request.setRawHeader(name, value);
        }
        m_method = parser().value(QStringLiteral("request")).toLatin1();
        if (m_method.isEmpty())
            m_method = parser().isSet(QStringLiteral("data")) ? QByteArrayLiteral("POST") : QByteArrayLiteral("GET");
        if (parser().isSet(QStringLiteral("data")) && !m_request.hasRawHeader("Content-Type"))
            m_request.setRawHeader("Content-Type", "application/x-www-form-urlencoded");
        return {};
    }

    QString readBody()
    {
        if (!parser().isSet(QStringLiteral("data")))
            return {};
        const QString data = parser().value(QStringLiteral("data"));
        if (!data.startsWith(QLatin1Char('@'))) {
            m_body = data.toUtf8();
            m_hasBody = true;
            return {};
        }
        const QString path = data.mid(1);
        QFile file(path);
        const bool opened = path == QLatin1String("-") ? file.open(stdin, QIODevice::ReadOnly) : file.open(QIODevice::ReadOnly);
        if (!opened)
            return QStringLiteral("cannot read %1").arg(path == QLatin1String("-") ? QStringLiteral("stdin") : path);
        // Read before anything is sent: the same bytes are replayed after a 401 or a Retry-After.
        constexpr qint64 kMaxBody = 8 * 1024 * 1024;
        m_body = file.read(kMaxBody + 1);
        if (m_body.size() > kMaxBody)
            return QStringLiteral("the request body is larger than %1 bytes").arg(kMaxBody);
        m_hasBody = true;
        return {};
    }

    void send(Keyloop::HttpClient *http)
    {
        Keyloop::HttpReply *reply = m_hasBody ? http->sendCustomRequest(m_request, m_method, m_body)
                                              : http->sendCustomRequest(m_request, m_method);
        connect(reply, &Keyloop::Job::finished, this, [this, reply] {
            const QByteArray body = reply->body();
            std::fwrite(body.constData(), 1, size_t(body.size()), stdout);
            std::fflush(stdout);
            const Keyloop::Error e = reply->error();
            const int status = reply->statusCode();
            if (!e)
                return succeed();
            if (status > 0) {
                if (!body.isEmpty() && !body.endsWith('\n') && ::isatty(STDOUT_FILENO))
                    std::fputc('\n', stderr); // the status on a line of its own in a terminal
                return fail(ExitHttp, httpFailure(status, e));
            }
            fail(e, e.requiresSignIn() ? QStringLiteral("sign in again with `keyloop login`") : QString());
        });
    }

    static QString httpFailure(int status, const Keyloop::Error &e)
    {
        using Code = Keyloop::Error::Code;
        QString text = QStringLiteral("HTTP %1").arg(status);
        if (e.code() == Code::InsufficientScope || e.code() == Code::StepUpRequired || e.code() == Code::UnexpectedRedirect)
            text += QStringLiteral(": ") + e.message(); // names the scope / acr_values / why not followed
        else if (!e.oauthError().isEmpty())
            text += QStringLiteral(" (%1)").arg(e.oauthError());
        if (e.isTransient())
            text += QStringLiteral(" (temporary; try again)");
        return text;
    }

    QUrl m_url;
    QNetworkRequest m_request;
    QByteArray m_method;
    QByteArray m_body;
    bool m_hasBody = false;
};

} // namespace

std::unique_ptr<Command> makeCallCommand() { return std::make_unique<CallCommand>(); }

} // namespace KeyloopCli
