// SPDX-License-Identifier: MIT
#include "http/wwwauthenticate_p.h"

#include <algorithm>

namespace Keyloop {

namespace {

constexpr int kMaxChallenges = 16;
constexpr int kMaxParams = 32;

// RFC 9110 §5.6.2 tchar
bool isTchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

// RFC 9110 §11.2 token68 characters (without the trailing '=')
bool isToken68Char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
        || c == '_' || c == '~' || c == '+' || c == '/';
}

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Cursor
{
public:
    explicit Cursor(QByteArrayView text) : s(text) {}
    QByteArrayView s;
    qsizetype i = 0;

    bool atEnd() const { return i >= s.size(); }
    char peek() const { return atEnd() ? '\0' : s.at(i); }
    void skipSpace()
    {
        while (!atEnd() && isWhitespace(s.at(i)))
            ++i;
    }
    void skipSpaceAndCommas()
    {
        while (!atEnd() && (isWhitespace(s.at(i)) || s.at(i) == ','))
            ++i;
    }
    QByteArray token()
    {
        const qsizetype start = i;
        while (!atEnd() && isTchar(s.at(i)))
            ++i;
        return s.sliced(start, i - start).toByteArray();
    }
    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; false when unterminated.
    bool quotedString(QByteArray *out)
    {
        ++i; // opening quote
        while (!atEnd()) {
            const char c = s.at(i++);
            if (c == '"')
                return true;
            if (c == '\\') {
                if (atEnd())
                    return false;
                out->append(s.at(i++));
                continue;
            }
            out->append(c);
        }
        return false;
    }
};

// A token68 stands alone after the scheme: token68 chars, then '=' padding, then the end or a comma.
bool token68At(const Cursor &c, qsizetype *end)
{
    qsizetype j = c.i;
    while (j < c.s.size() && isToken68Char(c.s.at(j)))
        ++j;
    if (j == c.i)
        return false;
    while (j < c.s.size() && c.s.at(j) == '=')
        ++j;
    qsizetype k = j;
    while (k < c.s.size() && isWhitespace(c.s.at(k)))
        ++k;
    if (k < c.s.size() && c.s.at(k) != ',')
        return false;
    *end = j;
    return true;
}

// After a comma: does an auth-param of the current challenge follow (token BWS "="), or a new challenge?
bool paramFollows(const Cursor &c)
{
    Cursor look = c;
    look.skipSpaceAndCommas();
    if (look.token().isEmpty())
        return false;
    look.skipSpace();
    if (look.peek() != '=')
        return false;
    // "Scheme token68==" would also look like "name=": a token68 after a scheme has only '='
    // and then the end or a comma; a parameter has a value.
    ++look.i;
    look.skipSpace();
    return !look.atEnd() && look.peek() != ',' && look.peek() != '=';
}

bool isValidScopeToken(const QString &token)
{
    // RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    return !token.isEmpty() && token.size() <= 256 && std::all_of(token.cbegin(), token.cend(), [](QChar ch) {
        const char16_t u = ch.unicode();
        return u == 0x21 || (u >= 0x23 && u <= 0x5b) || (u >= 0x5d && u <= 0x7e);
    });
}

QStringList spaceSeparated(const QByteArray &value)
{
    QStringList out;
    const QList<QByteArray> parts = value.split(' ');
    for (const QByteArray &part : parts) {
        const QString token = QString::fromLatin1(part);
        if (isValidScopeToken(token) && out.size() < 64)
            out << token;
    }
    return out;
}

} // namespace

QByteArray AuthChallenge::param(QByteArrayView name) const
{
    if (duplicateParams) {
        int seen = 0;
        for (const auto &p : params)
            seen += p.first == name ? 1 : 0;
        if (seen > 1)
            return {};
    }
    for (const auto &p : params)
        if (p.first == name)
            return p.second;
    return {};
}

QList<AuthChallenge> parseWwwAuthenticate(QByteArrayView value)
{
    QList<AuthChallenge> out;
    Cursor c(value);
    while (out.size() < kMaxChallenges) {
        c.skipSpaceAndCommas();
        if (c.atEnd())
            break;
        AuthChallenge challenge;
        challenge.scheme = c.token().toLower();
        if (challenge.scheme.isEmpty())
            break; // malformed: keep what came before
        const qsizetype afterScheme = c.i;
        c.skipSpace();
        if (c.i == afterScheme && !c.atEnd() && c.peek() != ',')
            break; // the scheme must be followed by a space, a comma or the end
        qsizetype end = 0;
        if (token68At(c, &end)) {
            challenge.token68 = c.s.sliced(c.i, end - c.i).toByteArray();
            c.i = end;
            out.append(challenge);
            continue;
        }
        bool malformed = false;
        bool first = true;
        while (!c.atEnd()) {
            c.skipSpace();
            if (c.atEnd())
                break;
            if (c.peek() == ',') {
                if (!paramFollows(c))
                    break; // the next challenge
                c.skipSpaceAndCommas();
            } else if (!first) {
                malformed = true; // two parameters without a comma
                break;
            }
            const QByteArray name = c.token().toLower();
            c.skipSpace();
            if (name.isEmpty() || c.peek() != '=') {
                malformed = true;
                break;
            }
            ++c.i;
            c.skipSpace();
            QByteArray v;
            if (c.peek() == '"') {
                if (!c.quotedString(&v)) {
                    malformed = true;
                    break;
                }
            } else {
                v = c.token();
                if (v.isEmpty()) {
                    malformed = true;
                    break;
                }
            }
            first = false;
            if (challenge.params.size() >= kMaxParams)
                continue;
            for (const auto &p : std::as_const(challenge.params))
                if (p.first == name)
                    challenge.duplicateParams = true;
            challenge.params.append({name, v});
        }
        out.append(challenge);
        if (malformed)
            break;
    }
    return out;
}

BearerChallenge bearerChallenge(QByteArrayView value, QByteArrayView scheme)
{
    BearerChallenge bearer;
    const QList<AuthChallenge> challenges = parseWwwAuthenticate(value);
    for (const AuthChallenge &challenge : challenges) {
        if (challenge.scheme != scheme)
            continue;
        bearer.present = true;
        // RFC 6750 §3: error = 1*( %x20-21 / %x23-5B / %x5D-7E ), like an OAuth error code.
        const QString error = QString::fromLatin1(challenge.param("error"));
        if (isValidScopeToken(error))
            bearer.error = error;
        bearer.description = QString::fromUtf8(challenge.param("error_description"));
        bearer.scopes = spaceSeparated(challenge.param("scope"));
        bearer.acrValues = spaceSeparated(challenge.param("acr_values"));
        const QByteArray maxAge = challenge.param("max_age");
        if (!maxAge.isEmpty() && maxAge.size() <= 9
            && std::all_of(maxAge.cbegin(), maxAge.cend(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            bearer.maxAge = std::chrono::seconds(maxAge.toLongLong());
        break;
    }
    return bearer;
}

} // namespace Keyloop
