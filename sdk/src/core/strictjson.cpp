// SPDX-License-Identifier: MIT
#include "core/strictjson_p.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QtEndian>
#include <QtCore/qalgorithms.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <cstring>
#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>
#include <vector>

namespace Keyloop {

namespace {

// The member names of the objects being scanned, innermost last: on the stack for typical
// documents (no allocation), on the heap beyond that. A cheap fingerprint of each name makes
// the duplicate check of a small object a comparison of integers.
class KeyStack
{
public:
    KeyStack() = default;
    KeyStack(const KeyStack &) = delete;
    KeyStack &operator=(const KeyStack &) = delete;

    void push(std::string_view name)
    {
        if (m_size == m_capacity)
            grow();
        m_data[m_size++] = Key{name.data(), std::uint32_t(name.size()), fingerprint(name)};
    }
    size_t size() const { return m_size; }
    void resize(size_t size) { m_size = size; }

    /// Whether the names from \a base to the top contain a duplicate.
    bool hasDuplicate(size_t base)
    {
        Key *first = m_data + base;
        Key *last = m_data + m_size;
        if (m_size - base <= 48) {
            for (Key *i = first + 1; i < last; ++i) {
                for (Key *j = first; j < i; ++j) {
                    if (*j == *i)
                        return true;
                }
            }
            return false;
        }
        std::sort(first, last, [](const Key &a, const Key &b) { return a.name() < b.name(); });
        return std::adjacent_find(first, last) != last;
    }

private:
    struct Key // trivially constructible: the inline array costs nothing to set up
    {
        const char *data;
        std::uint32_t size;
        std::uint32_t fingerprint;
        std::string_view name() const { return std::string_view(data, size); }
        bool operator==(const Key &other) const { return fingerprint == other.fingerprint && name() == other.name(); }
    };

    static std::uint32_t fingerprint(std::string_view name)
    {
        const size_t n = name.size();
        if (n == 0)
            return 0;
        const auto *p = reinterpret_cast<const unsigned char *>(name.data());
        return std::uint32_t(n) ^ (std::uint32_t(p[0]) << 8) ^ (std::uint32_t(p[n / 2]) << 16) ^ (std::uint32_t(p[n - 1]) << 24);
    }

    void grow()
    {
        const size_t capacity = m_capacity * 2;
        std::vector<Key> bigger(capacity);
        std::copy(m_data, m_data + m_size, bigger.begin());
        m_heap.swap(bigger);
        m_data = m_heap.data();
        m_capacity = capacity;
    }

    static constexpr size_t kInline = 64;
    Key m_inline[kInline];
    std::vector<Key> m_heap;
    Key *m_data = m_inline;
    size_t m_size = 0;
    size_t m_capacity = kInline;
};

class Scanner
{
public:
    Scanner(QByteArrayView json, int maxDepth, StrictJson::MemberVisitor visit = nullptr, void *context = nullptr)
        : m_p(reinterpret_cast<const unsigned char *>(json.data())),
          m_end(m_p + json.size()),
          m_maxDepth(maxDepth),
          m_visit(visit),
          m_context(context)
    {
    }

    /// Scans the whole text; on failure error() describes it. Builds no Error on success.
    bool run()
    {
        skipWhitespace();
        if (!value())
            return false;
        skipWhitespace();
        if (m_p != m_end)
            return setError("trailing data after the JSON value");
        return true;
    }

    Error error() const
    {
        return Error(m_code, QStringLiteral("RFC 8259: %1").arg(QLatin1String(m_what ? m_what : "invalid JSON")));
    }

    Error::Code code() const { return m_code; }

    /// Report the elements of the top-level array (scanElements()) instead of object members.
    void reportArrayElements() { m_reportArray = true; }

private:

    bool setError(const char *what, Error::Code code = Error::Code::MalformedResponse)
    {
        if (!m_what) {
            m_what = what;
            m_code = code;
        }
        return false;
    }

    void skipWhitespace()
    {
        // RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ); one comparison for everything else.
        while (m_p != m_end && *m_p <= ' ' && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }

    bool value()
    {
        if (m_p == m_end)
            return setError("unexpected end of input");
        switch (*m_p) {
        case '{': return object();
        case '[': return array();
        case '"': return string(nullptr);
        case 't': return literal("true", 4);
        case 'f': return literal("false", 5);
        case 'n': return literal("null", 4);
        default:
            if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9'))
                return number();
            return setError("unexpected character");
        }
    }

    bool literal(const char *word, size_t length)
    {
        if (size_t(m_end - m_p) < length || std::memcmp(m_p, word, length) != 0)
            return setError("invalid literal");
        m_p += length;
        return true;
    }

    static bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }

    bool number()
    {
        // RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT )
        const unsigned char *start = m_p;
        bool exponent = false;
        if (*m_p == '-')
            ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return setError("invalid number");
        if (*m_p == '0') {
            ++m_p;
            if (m_p != m_end && isDigit(*m_p))
                return setError("invalid number (leading zero)");
        } else {
            while (m_p != m_end && isDigit(*m_p))
                ++m_p;
        }
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return setError("invalid number");
            while (m_p != m_end && isDigit(*m_p))
                ++m_p;
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return setError("invalid number");
            while (m_p != m_end && isDigit(*m_p))
                ++m_p;
            exponent = true;
        }
        // RFC 8259 §6 lets implementations limit the range: numbers that do not fit a double
        // (1e400, 1e-400, 400-digit integers) are refused, as QJsonDocument refuses them.
        if (exponent || m_p - start > 300) {
            double value = 0;
            const auto r = std::from_chars(reinterpret_cast<const char *>(start), reinterpret_cast<const char *>(m_p), value);
            if (r.ec != std::errc())
                return setError("number out of range");
        }
        return true;
    }

    static int hexValue(unsigned char c)
    {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool hex4(unsigned *out)
    {
        if (m_end - m_p < 4)
            return setError("invalid \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hexValue(m_p[i]);
            if (h < 0)
                return setError("invalid \\u escape");
            v = (v << 4) | unsigned(h);
        }
        m_p += 4;
        *out = v;
        return true;
    }

public:
    static void appendUtf8(std::string &out, unsigned cp)
    {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

private:
    // Validates one UTF-8 sequence starting at m_p (a byte >= 0x80), RFC 3629 §4.
    bool utf8Sequence(std::string *decoded)
    {
        const unsigned char *start = m_p;
        const unsigned char c = *m_p;
        int extra;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else return setError("invalid UTF-8");
        if (m_end - m_p <= extra)
            return setError("invalid UTF-8");
        for (int i = 1; i <= extra; ++i) {
            const unsigned char cc = m_p[i];
            if ((cc & 0xC0) != 0x80)
                return setError("invalid UTF-8");
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return setError("invalid UTF-8");
        m_p += extra + 1;
        if (decoded)
            decoded->append(reinterpret_cast<const char *>(start), size_t(extra + 1));
        return true;
    }

    // Advances to the first byte of a string that needs a closer look (", \\, a control
    // character, a byte >= 0x80) or to the end, eight bytes at a time. The masks are the
    // "haszero"/"hasless" tricks of Bit Twiddling Hacks: a borrow only ever propagates upwards
    // from a special byte, so the lowest flagged byte is exactly the first special one.
    void skipPlain()
    {
        constexpr std::uint64_t ones = 0x0101010101010101ull;
        constexpr std::uint64_t high = 0x8080808080808080ull;
        while (m_end - m_p >= 8) {
            const std::uint64_t v = qFromLittleEndian<quint64>(m_p);
            const std::uint64_t quote = v ^ (ones * '"');
            const std::uint64_t backslash = v ^ (ones * '\\');
            const std::uint64_t special = ((((v - ones * 0x20) | (quote - ones) | (backslash - ones)) & ~v) | v) & high;
            if (special) {
                m_p += qCountTrailingZeroBits(special) / 8;
                return;
            }
            m_p += 8;
        }
        while (m_p != m_end && *m_p >= 0x20 && *m_p < 0x80 && *m_p != '"' && *m_p != '\\')
            ++m_p;
    }

    // Scans a string; when \a key is set, stores the unescaped name for duplicate detection.
    bool string(std::string_view *key)
    {
        ++m_p; // opening quote
        const unsigned char *begin = m_p;
        std::string *decoded = nullptr;
        m_escaped = false;
        while (true) {
            const unsigned char *run = m_p;
            skipPlain();
            if (decoded)
                decoded->append(reinterpret_cast<const char *>(run), size_t(m_p - run));
            if (m_p == m_end)
                return setError("unterminated string");
            const unsigned char c = *m_p;
            if (c == '"')
                break;
            if (c < 0x20)
                return setError("control character in string");
            if (c == '\\') {
                m_escaped = true;
                if (key && !decoded) {
                    m_decodedKeys.emplace_front(reinterpret_cast<const char *>(begin), size_t(m_p - begin));
                    decoded = &m_decodedKeys.front();
                }
                ++m_p;
                if (m_p == m_end)
                    return setError("unterminated string");
                const unsigned char e = *m_p++;
                char plain = 0;
                switch (e) {
                case '"': plain = '"'; break;
                case '\\': plain = '\\'; break;
                case '/': plain = '/'; break;
                case 'b': plain = '\b'; break;
                case 'f': plain = '\f'; break;
                case 'n': plain = '\n'; break;
                case 'r': plain = '\r'; break;
                case 't': plain = '\t'; break;
                case 'u': {
                    unsigned cp;
                    if (!hex4(&cp))
                        return false;
                    if (cp >= 0xDC00 && cp <= 0xDFFF)
                        return setError("unpaired surrogate escape");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned low;
                        if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
                            return setError("unpaired surrogate escape");
                        m_p += 2;
                        if (!hex4(&low))
                            return false;
                        if (low < 0xDC00 || low > 0xDFFF)
                            return setError("unpaired surrogate escape");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    if (decoded)
                        appendUtf8(*decoded, cp);
                    continue;
                }
                default:
                    return setError("invalid escape");
                }
                if (decoded)
                    *decoded += plain;
                continue;
            }
            // c >= 0x80: skipPlain() stops only at special bytes.
            if (!utf8Sequence(decoded))
                return false;
        }
        if (key) {
            *key = decoded ? std::string_view(*decoded)
                           : std::string_view(reinterpret_cast<const char *>(begin), size_t(m_p - begin));
        }
        ++m_p; // closing quote
        return true;
    }

    bool enter()
    {
        if (++m_depth > m_maxDepth)
            return setError("nesting too deep");
        ++m_p;
        return true;
    }

    bool array()
    {
        if (!enter())
            return false;
        skipWhitespace();
        if (m_p != m_end && *m_p == ']') {
            ++m_p;
            --m_depth;
            return true;
        }
        while (true) {
            skipWhitespace();
            const unsigned char *valueStart = m_p;
            if (!value())
                return false;
            if (m_reportArray && m_depth == 1)
                report(std::string_view(), valueStart);
            skipWhitespace();
            if (m_p == m_end)
                return setError("unterminated array");
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p == ']') {
                ++m_p;
                break;
            }
            return setError("expected ',' or ']'");
        }
        --m_depth;
        return true;
    }

    bool object()
    {
        if (!enter())
            return false;
        const size_t base = m_keys.size();
        skipWhitespace();
        if (m_p != m_end && *m_p == '}') {
            ++m_p;
            --m_depth;
            return true;
        }
        while (true) {
            skipWhitespace();
            if (m_p == m_end || *m_p != '"')
                return setError("expected a member name");
            std::string_view key;
            if (!string(&key))
                return false;
            m_keys.push(key);
            skipWhitespace();
            if (m_p == m_end || *m_p != ':')
                return setError("expected ':'");
            ++m_p;
            skipWhitespace();
            const unsigned char *valueStart = m_p;
            if (!value())
                return false;
            if (m_visit && !m_reportArray && m_depth == 1)
                report(key, valueStart);
            skipWhitespace();
            if (m_p == m_end)
                return setError("unterminated object");
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p == '}') {
                ++m_p;
                break;
            }
            return setError("expected ',' or '}'");
        }
        // Duplicate member names, RFC 7515 §5.2 step 4 / RFC 7519 §7.2 step 10: reject.
        if (m_keys.hasDuplicate(base))
            return setError("duplicate member name", Error::Code::DuplicateParameter);
        m_keys.resize(base);
        --m_depth;
        return true;
    }

    void report(std::string_view key, const unsigned char *valueStart)
    {
        StrictJson::Member member;
        member.name = key;
        member.value = QByteArrayView(reinterpret_cast<const char *>(valueStart), m_p - valueStart);
        member.hasEscapes = *valueStart == '"' && m_escaped;
        switch (*valueStart) {
        case '{': member.type = StrictJson::ValueType::Object; break;
        case '[': member.type = StrictJson::ValueType::Array; break;
        case '"': member.type = StrictJson::ValueType::String; break;
        case 't': member.type = StrictJson::ValueType::True; break;
        case 'f': member.type = StrictJson::ValueType::False; break;
        case 'n': member.type = StrictJson::ValueType::Null; break;
        default: member.type = StrictJson::ValueType::Number; break;
        }
        m_visit(m_context, member);
    }

    const unsigned char *m_p;
    const unsigned char *m_end;
    int m_maxDepth;
    StrictJson::MemberVisitor m_visit;
    void *m_context;
    int m_depth = 0;
    bool m_escaped = false;     // the last string scanned had an escape
    bool m_reportArray = false;
    const char *m_what = nullptr;
    Error::Code m_code = Error::Code::MalformedResponse;
    KeyStack m_keys;
    std::forward_list<std::string> m_decodedKeys; // stable addresses for unescaped names; rarely used
};

// Whether the first non-whitespace byte of json is c.
bool startsWith(QByteArrayView json, char c)
{
    qsizetype i = 0;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t'))
        ++i;
    return i < json.size() && json[i] == c;
}

Error tooLarge()
{
    return Error(Error::Code::ResponseTooLarge, QStringLiteral("RFC 8259: JSON text exceeds the size limit"));
}

std::optional<QJsonDocument> parseDocument(QByteArrayView json, const StrictJson::Limits &limits, Error *error)
{
    Error e = StrictJson::check(json, limits);
    if (e) {
        if (error)
            *error = e;
        return std::nullopt;
    }
    QJsonParseError parseError;
    // fromRawData: no copy; QJsonDocument copies what it keeps.
    QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(json.data(), json.size()), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (error)
            *error = Error(Error::Code::MalformedResponse, QStringLiteral("RFC 8259: the JSON text could not be parsed"));
        return std::nullopt;
    }
    return doc;
}

} // namespace

Error StrictJson::check(QByteArrayView json, const Limits &limits)
{
    if (json.size() > limits.maxSize)
        return tooLarge();
    Scanner scanner(json, limits.maxDepth);
    return scanner.run() ? Error() : scanner.error();
}

Error StrictJson::scanObject(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context)
{
    if (json.size() > limits.maxSize)
        return tooLarge();
    if (!startsWith(json, '{'))
        return Error(Error::Code::MalformedResponse, QStringLiteral("RFC 8259: expected a JSON object"));
    Scanner scanner(json, limits.maxDepth, visit, context);
    return scanner.run() ? Error() : scanner.error();
}

Error::Code StrictJson::scanMembers(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context)
{
    if (json.size() > limits.maxSize)
        return Error::Code::ResponseTooLarge;
    if (!startsWith(json, '{'))
        return Error::Code::MalformedResponse;
    Scanner scanner(json, limits.maxDepth, visit, context);
    return scanner.run() ? Error::Code::NoError : scanner.code();
}

Error::Code StrictJson::scanElements(QByteArrayView json, const Limits &limits, MemberVisitor visit, void *context)
{
    if (json.size() > limits.maxSize)
        return Error::Code::ResponseTooLarge;
    if (!startsWith(json, '['))
        return Error::Code::MalformedResponse;
    Scanner scanner(json, limits.maxDepth, visit, context);
    scanner.reportArrayElements();
    return scanner.run() ? Error::Code::NoError : scanner.code();
}

namespace {

int hexDigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10; // validated by the scanner
}

unsigned hex4At(QByteArrayView text, qsizetype at)
{
    return unsigned(hexDigit(text[at]) << 12 | hexDigit(text[at + 1]) << 8 | hexDigit(text[at + 2]) << 4 | hexDigit(text[at + 3]));
}

// Unescapes the inside of a string value the scanner has validated, as UTF-8.
std::string unescape(QByteArrayView inner)
{
    std::string out;
    out.reserve(size_t(inner.size()));
    for (qsizetype i = 0; i < inner.size(); ++i) {
        const char c = inner[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        const char e = inner[++i];
        switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            unsigned cp = hex4At(inner, i + 1);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                const unsigned low = hex4At(inner, i + 3); // after "\\u"
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            Scanner::appendUtf8(out, cp);
            break;
        }
        default: out += e; break; // " \\ /
        }
    }
    return out;
}

QByteArrayView innerOf(QByteArrayView raw)
{
    return raw.size() < 2 ? QByteArrayView() : raw.sliced(1, raw.size() - 2);
}

} // namespace

QString StrictJson::decodeString(QByteArrayView raw)
{
    if (raw.size() < 2)
        return QString();
    const QByteArrayView inner = innerOf(raw);
    if (!inner.contains('\\'))
        return QString::fromUtf8(inner);
    // Rare: unescape (the scanner has validated every escape already).
    const std::string out = unescape(inner);
    return QString::fromUtf8(out.data(), qsizetype(out.size()));
}

QByteArray StrictJson::decodeStringUtf8(QByteArrayView raw)
{
    const QByteArrayView inner = innerOf(raw);
    if (!inner.contains('\\'))
        return inner.toByteArray();
    const std::string out = unescape(inner);
    return QByteArray(out.data(), qsizetype(out.size()));
}

bool StrictJson::stringEquals(QByteArrayView raw, bool hasEscapes, QByteArrayView utf8)
{
    const QByteArrayView inner = innerOf(raw);
    if (!hasEscapes)
        return inner == utf8;
    const std::string out = unescape(inner);
    return QByteArrayView(out.data(), qsizetype(out.size())) == utf8;
}

qsizetype StrictJson::stringUtf16Length(QByteArrayView raw, bool hasEscapes)
{
    if (hasEscapes)
        return decodeString(raw).size();
    // Valid UTF-8 (checked by the scanner): one UTF-16 unit per lead byte, two for the
    // 4-byte sequences (surrogate pairs).
    const QByteArrayView inner = innerOf(raw);
    qsizetype units = 0;
    for (const char ch : inner) {
        const auto c = static_cast<unsigned char>(ch);
        units += ((c & 0xC0) != 0x80) + (c >= 0xF0);
    }
    return units;
}

double StrictJson::decodeNumber(QByteArrayView raw)
{
    // The scanner has checked the RFC 8259 number grammar. Plain integers of up to 15 digits
    // (every NumericDate in practice) are exact in a double: summed directly.
    if (!raw.isEmpty() && raw.size() <= 15) {
        qint64 integer = 0;
        qsizetype i = 0;
        for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i)
            integer = integer * 10 + (raw[i] - '0');
        if (i == raw.size())
            return double(integer);
    }
    // std::from_chars is locale-independent (strtod would read "1.5" as 1 under a German
    // LC_NUMERIC, which QCoreApplication sets).
    double value = 0;
    const auto result = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (result.ec == std::errc::result_out_of_range) {
        if (raw.contains("e-") || raw.contains("E-"))
            return 0.0; // underflow
        return raw.startsWith('-') ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    return value;
}

std::optional<QJsonObject> StrictJson::parseObject(QByteArrayView json, Error *error)
{
    return parseObject(json, Limits(), error);
}

std::optional<QJsonObject> StrictJson::parseObject(QByteArrayView json, const Limits &limits, Error *error)
{
    // Fast rejection before scanning: an object starts with '{' after optional whitespace.
    qsizetype i = 0;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t'))
        ++i;
    if (i == json.size() || json[i] != '{') {
        if (json.size() > limits.maxSize) {
            if (error)
                *error = tooLarge();
        } else if (error) {
            *error = Error(Error::Code::MalformedResponse, QStringLiteral("RFC 8259: expected a JSON object"));
        }
        return std::nullopt;
    }
    std::optional<QJsonDocument> doc = parseDocument(json, limits, error);
    if (!doc)
        return std::nullopt;
    return doc->object();
}

std::optional<QJsonValue> StrictJson::parse(QByteArrayView json, const Limits &limits, Error *error)
{
    // QJsonDocument only holds objects and arrays: wrap scalars in an array.
    Error e = check(json, limits);
    if (e) {
        if (error)
            *error = e;
        return std::nullopt;
    }
    QByteArray wrapped;
    wrapped.reserve(json.size() + 2);
    wrapped.append('[').append(json.data(), json.size()).append(']');
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray() || doc.array().size() != 1) {
        if (error)
            *error = Error(Error::Code::MalformedResponse, QStringLiteral("RFC 8259: the JSON text could not be parsed"));
        return std::nullopt;
    }
    return doc.array().at(0);
}

} // namespace Keyloop
