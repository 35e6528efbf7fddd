// SPDX-License-Identifier: MIT
#include "network/httpexchange_p.h"

#include "core/logging_p.h"

#include <keyloop/version.h>

#include <QtCore/QLocale>
#include <QtCore/QMetaObject>
#include <QtCore/QTimeZone>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QSslConfiguration>

#include <algorithm>

namespace Keyloop {

bool isLoopbackHost(const QString &host)
{
    QString h = host.toLower();
    if (h.endsWith(QLatin1Char('.')))
        h.chop(1);
    if (h == QLatin1String("localhost"))
        return true;
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    QHostAddress address;
    if (!address.setAddress(h))
        return false;
    // 127.0.0.0/8 and ::1 (QHostAddress::isLoopback covers both).
    return address.isLoopback();
}

Error checkEndpointUrl(const QUrl &url, const TransportOptions &options, const QString &what)
{
    if (url.isEmpty())
        return Error(Error::Code::InvalidConfiguration, QStringLiteral("%1 is not set").arg(what));
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("%1 is not an absolute URL with a host").arg(what));
    if (url.hasFragment())
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("%1 must not have a fragment (RFC 6749 §3.1, §3.2)").arg(what));
    if (!url.userInfo().isEmpty())
        return Error(Error::Code::InvalidConfiguration,
                     QStringLiteral("%1 must not contain user information").arg(what));
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("https"))
        return {};
    if (scheme == QLatin1String("http")) {
        // RFC 6749 §3.1 / §3.2: TLS is required. The development opt-in only ever allows
        // plain http to this machine.
        if (options.allowsInsecureLoopbackForDevelopment() && isLoopbackHost(url.host()))
            return {};
        return Error(Error::Code::InsecureEndpoint,
                     QStringLiteral("%1 must use https (plain http is allowed only for loopback "
                                    "hosts with the development opt-in)").arg(what));
    }
    return Error(Error::Code::InsecureEndpoint, QStringLiteral("%1 must use https").arg(what));
}

std::optional<std::chrono::seconds> retryAfterDelay(const QByteArray &value, const QDateTime &now)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return std::nullopt;
    // delta-seconds = 1*DIGIT
    if (std::all_of(v.cbegin(), v.cend(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (v.size() > 9)
            return std::chrono::seconds(999999999); // huge: callers cap it
        return std::chrono::seconds(v.toLongLong());
    }
    // HTTP-date: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; the obsolete RFC 850 and asctime
    // forms (§5.6.7) are accepted too. Always in English and in UTC.
    const QString text = QString::fromLatin1(v);
    QDateTime when;
    for (const QString &format : {QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"),
                                  QStringLiteral("dddd, dd-MMM-yy HH:mm:ss 'GMT'"),
                                  QStringLiteral("ddd MMM d HH:mm:ss yyyy")}) {
        when = QLocale::c().toDateTime(text.simplified(), format);
        if (when.isValid()) {
            when.setTimeZone(QTimeZone::utc());
            if (when.date().year() < 1970)
                when = when.addYears(100); // RFC 850's two-digit years
            break;
        }
    }
    if (!when.isValid())
        return std::nullopt;
    return std::chrono::seconds(std::max<qint64>(0, now.secsTo(when)));
}

bool isTransportFailure(QNetworkReply::NetworkError code)
{
    return code > QNetworkReply::NoError && code < QNetworkReply::ProxyConnectionRefusedError;
}

Error transportError(QNetworkReply::NetworkError code, const QString &host)
{
    switch (code) {
    case QNetworkReply::SslHandshakeFailedError:
        return Error(Error::Code::TlsError,
                     QStringLiteral("TLS with %1 failed (certificate not trusted or handshake failed)").arg(host));
    case QNetworkReply::OperationCanceledError:
        return Error(Error::Code::Cancelled, QStringLiteral("the request was cancelled"));
    case QNetworkReply::InsecureRedirectError:
        return Error(Error::Code::UnexpectedRedirect, QStringLiteral("insecure redirect refused"));
    default:
        return Error(Error::Code::NetworkError,
                     QStringLiteral("could not talk to %1 (network error %2)").arg(host).arg(int(code)));
    }
}

QByteArray formUrlEncode(QByteArrayView data)
{
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(data.size() * 3);
    for (const char ch : data) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '*') {
            out.append(char(c));
        } else if (c == ' ') {
            out.append('+');
        } else {
            out.append('%').append(hex[c >> 4]).append(hex[c & 15]);
        }
    }
    return out;
}

QByteArray formUrlEncode(const FormFields &fields)
{
    QByteArray out;
    for (const auto &field : fields) {
        if (!out.isEmpty())
            out.append('&');
        out.append(formUrlEncode(field.first)).append('=').append(formUrlEncode(field.second));
    }
    return out;
}

QUrl withFormQuery(const QUrl &endpoint, const FormFields &fields)
{
    // Form-style encoding: '+' inside values is %2B, space is '+' (what authorization servers
    // decode; RFC 6749 Appendix B).
    QByteArray query = endpoint.query(QUrl::FullyEncoded).toLatin1();
    if (!query.isEmpty())
        query.append('&');
    query.append(formUrlEncode(fields));
    QUrl url = endpoint;
    url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    return url;
}

HttpExchange::HttpExchange(QObject *parent) : QObject(parent)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpExchange::onTimeout);
}

HttpExchange::~HttpExchange()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

HttpExchange *HttpExchange::get(QNetworkAccessManager *nam, const QUrl &url,
                                const TransportOptions &options, const HttpHeaders &headers,
                                QObject *parent)
{
    auto *exchange = new HttpExchange(parent);
    exchange->start(nam, QByteArrayLiteral("GET"), url, {}, {}, options, headers);
    return exchange;
}

HttpExchange *HttpExchange::postForm(QNetworkAccessManager *nam, const QUrl &url, const QUrlQuery &form,
                                     const TransportOptions &options, const HttpHeaders &headers,
                                     QObject *parent)
{
    FormFields fields;
    const auto items = form.queryItems(QUrl::FullyDecoded);
    for (const auto &item : items)
        fields.append({item.first.toUtf8(), item.second.toUtf8()});
    return postForm(nam, url, fields, options, headers, parent);
}

HttpExchange *HttpExchange::postForm(QNetworkAccessManager *nam, const QUrl &url, const FormFields &form,
                                     const TransportOptions &options, const HttpHeaders &headers,
                                     QObject *parent)
{
    auto *exchange = new HttpExchange(parent);
    exchange->start(nam, QByteArrayLiteral("POST"), url, formUrlEncode(form),
                    QByteArrayLiteral("application/x-www-form-urlencoded"), options, headers);
    return exchange;
}

QByteArray HttpExchange::rawHeader(const QByteArray &name) const
{
    for (const auto &header : m_responseHeaders) {
        if (header.first.compare(name, Qt::CaseInsensitive) == 0)
            return header.second;
    }
    return {};
}

void HttpExchange::abort()
{
    if (m_finished)
        return;
    finish(Error(Error::Code::Cancelled, QStringLiteral("the request was cancelled")));
}

void HttpExchange::start(QNetworkAccessManager *nam, const QByteArray &verb, const QUrl &url,
                         const QByteArray &body, const QByteArray &contentType,
                         const TransportOptions &options, const HttpHeaders &headers)
{
    m_url = url;
    m_maxSize = options.maxResponseSize();

    if (!nam) {
        finish(Error(Error::Code::InvalidConfiguration, QStringLiteral("no QNetworkAccessManager")));
        return;
    }
    if (const Error e = checkEndpointUrl(url, options, QStringLiteral("the endpoint"))) {
        qCDebug(lcNetwork) << "refusing request to" << url.host() << url.path() << e.code();
        finish(e);
        return;
    }

    QNetworkRequest request(url);
    // Never follow redirects: Qt 6 would re-send headers (even Authorization) to the new
    // origin. A 3xx becomes UnexpectedRedirect.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    // Token and discovery responses must not be cached or mixed with cookies (RFC 6749 §5.1
    // Cache-Control: no-store).
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    request.setRawHeader("Accept", "application/json");
    request.setRawHeader("User-Agent", QByteArrayLiteral("Keyloop/") + KEYLOOP_VERSION_STRING);
    if (!contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    for (const auto &header : headers)
        request.setRawHeader(header.first, header.second);

    if (url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setProtocol(QSsl::TlsV1_2OrLater);
        ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!options.extraCaCertificates().isEmpty())
            ssl.addCaCertificates(options.extraCaCertificates());
        request.setSslConfiguration(ssl);
    }

    qCDebug(lcNetwork) << verb.constData() << "request to" << url.host() << url.path();

    QNetworkReply *reply = verb == "POST" ? nam->post(request, body) : nam->get(request);
    m_reply = reply;
    connect(reply, &QNetworkReply::metaDataChanged, this, [this] {
        if (!m_reply || m_finished)
            return;
        const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
        if (length.isValid() && exceedsLimit(length.toLongLong()))
            finish(Error(Error::Code::ResponseTooLarge,
                         QStringLiteral("the response is larger than the limit of %1 bytes").arg(m_maxSize)));
    });
    connect(reply, &QNetworkReply::readyRead, this, &HttpExchange::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &HttpExchange::onReplyFinished);

    const auto timeout = options.requestTimeout();
    m_timer.start(timeout.count() > 0 ? int(qMin<qint64>(timeout.count(), INT_MAX)) : 0);
}

bool HttpExchange::exceedsLimit(qint64 size) const
{
    return m_maxSize > 0 && size > m_maxSize;
}

void HttpExchange::onReadyRead()
{
    if (!m_reply || m_finished)
        return;
    m_body.append(m_reply->readAll());
    if (exceedsLimit(m_body.size())) {
        m_body.clear();
        finish(Error(Error::Code::ResponseTooLarge,
                     QStringLiteral("the response is larger than the limit of %1 bytes").arg(m_maxSize)));
    }
}

void HttpExchange::onTimeout()
{
    if (m_finished)
        return;
    qCDebug(lcNetwork) << "request timed out:" << m_url.host() << m_url.path();
    finish(Error(Error::Code::Timeout, QStringLiteral("the request to %1 timed out").arg(m_url.host())));
}

void HttpExchange::onReplyFinished()
{
    if (!m_reply || m_finished)
        return;
    QNetworkReply *reply = m_reply;
    m_body.append(reply->readAll());
    if (exceedsLimit(m_body.size())) {
        m_body.clear();
        finish(Error(Error::Code::ResponseTooLarge,
                     QStringLiteral("the response is larger than the limit of %1 bytes").arg(m_maxSize)));
        return;
    }
    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    m_status = statusAttribute.isValid() ? statusAttribute.toInt() : 0;
    const auto headerPairs = reply->rawHeaderPairs();
    m_responseHeaders.clear();
    for (const auto &pair : headerPairs)
        m_responseHeaders.append(pair);

    if (m_status >= 300 && m_status < 400) {
        // Redirects are never followed (see start()).
        qCDebug(lcNetwork) << "unexpected redirect from" << m_url.host() << m_url.path() << m_status;
        finish(Error(Error::Code::UnexpectedRedirect,
                     QStringLiteral("the server at %1 answered with an HTTP redirect (%2), which is never followed")
                         .arg(m_url.host()).arg(m_status))
                   .setHttpStatus(m_status));
        return;
    }
    if (m_status > 0 && !isTransportFailure(reply->error())) {
        // An HTTP answer: 4xx/5xx are for the caller to interpret (e.g. RFC 6749 §5.2 bodies).
        qCDebug(lcNetwork) << "response from" << m_url.host() << m_url.path() << m_status;
        finish({});
        return;
    }

    const Error error = transportError(reply->error(), m_url.host());
    qCDebug(lcNetwork) << "request to" << m_url.host() << m_url.path() << "failed:" << error.code();
    finish(error);
}

void HttpExchange::finish(const Error &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    m_timer.stop();
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
    }
    // Always queued, so that a caller connecting after get()/postForm() sees it, and exactly once.
    QMetaObject::invokeMethod(this, [this] {
        Q_EMIT finished();
        deleteLater();
    }, Qt::QueuedConnection);
}

} // namespace Keyloop
