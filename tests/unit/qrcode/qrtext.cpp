// SPDX-License-Identifier: MIT
// qrtext: a test tool (built with the tests only) that prints KeyloopQr::toTerminalText() of its
// argument, so that tests/common/decode-terminal-qr.mjs can decode it back with zbarimg.
//
//   qrtext (--ansi | --plain) TEXT      the bytes of TEXT as given (no locale conversion)
//   qrtext (--ansi | --plain) --stdin   the bytes read from standard input
//
// Writes the rendering (UTF-8) to stdout and exits 0; on an encoding failure writes
// "qrtext: <errorString()>" to stderr and exits 1; usage errors exit 2.
#include "qrcode.h"
#include "qrterminal.h"

#include <QtCore/QByteArray>

#include <cstdio>
#include <cstring>

namespace {

int usage()
{
    std::fputs("usage: qrtext (--ansi | --plain) (TEXT | --stdin)\n", stderr);
    return 2;
}

QByteArray readStdin()
{
    QByteArray bytes;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0)
        bytes.append(buffer, qsizetype(n));
    return bytes;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3)
        return usage();
    KeyloopQr::TerminalColors colors;
    if (std::strcmp(argv[1], "--ansi") == 0)
        colors = KeyloopQr::TerminalColors::Ansi;
    else if (std::strcmp(argv[1], "--plain") == 0)
        colors = KeyloopQr::TerminalColors::None;
    else
        return usage();
    // argv as bytes: the test passes UTF-8 whatever the locale says.
    const QByteArray text = std::strcmp(argv[2], "--stdin") == 0 ? readStdin() : QByteArray(argv[2]);

    const KeyloopQr::QrCode code = KeyloopQr::QrCode::encode(text);
    if (code.isNull()) {
        std::fprintf(stderr, "qrtext: %s\n", code.errorString().toUtf8().constData());
        return 1;
    }
    const QByteArray out = KeyloopQr::toTerminalText(code, colors).toUtf8();
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
}
