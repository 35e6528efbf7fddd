// SPDX-License-Identifier: MIT
#include "terminaltext.h"

namespace KeyloopCli {

namespace {

// Whether a terminal shows the code point as text (see printableText()).
bool isPrintable(char32_t ucs4)
{
    if (ucs4 == 0x200C || ucs4 == 0x200D) // ZWNJ, ZWJ: needed by scripts and emoji, harmless
        return true;
    switch (QChar::category(ucs4)) {
    case QChar::Other_Control:       // C0, DEL, C1: escape sequences, line breaks, bells
    case QChar::Other_Format:        // bidi overrides/isolates, zero-width characters, BOM
    case QChar::Other_Surrogate:     // a lone surrogate
    case QChar::Other_PrivateUse:
    case QChar::Other_NotAssigned:
    case QChar::Separator_Line:      // U+2028
    case QChar::Separator_Paragraph: // U+2029
        return false;
    default:
        return true;
    }
}

// Calls \a f(ucs4, utf16Units) for each code point; a lone surrogate is one code point that
// isPrintable() refuses.
template<typename F>
void forEachCodePoint(const QString &text, F f)
{
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < n && QChar::isLowSurrogate(text.at(i + 1).unicode())) {
            f(QChar::surrogateToUcs4(c, text.at(i + 1).unicode()), QStringView(text).mid(i, 2));
            ++i;
        } else {
            f(char32_t(c), QStringView(text).mid(i, 1));
        }
    }
}

} // namespace

QString printableText(const QString &text, qsizetype maxLength)
{
    QString out;
    out.reserve(qMin(text.size(), maxLength + 1));
    qsizetype kept = 0;
    bool cut = false;
    forEachCodePoint(text, [&](char32_t ucs4, QStringView units) {
        if (cut)
            return;
        if (kept == maxLength) {
            out += QChar(0x2026); // …
            cut = true;
            return;
        }
        if (isPrintable(ucs4))
            out += units;
        else
            out += QLatin1Char('?');
        ++kept;
    });
    return out;
}

QByteArray terminalSafeJson(const QByteArray &json)
{
    const QString text = QString::fromUtf8(json);
    QString out;
    out.reserve(text.size());
    forEachCodePoint(text, [&out](char32_t ucs4, QStringView units) {
        // Structural whitespace of the indented form ('\n', ' ') is printable or a C0 control
        // that QJsonDocument never leaves raw inside a string.
        if (ucs4 == U'\n' || isPrintable(ucs4)) {
            out += units;
            return;
        }
        for (const QChar unit : units) // RFC 8259 §7: a surrogate pair as two escapes
            out += QStringLiteral("\\u%1").arg(unit.unicode(), 4, 16, QLatin1Char('0'));
    });
    return out.toUtf8();
}

} // namespace KeyloopCli
