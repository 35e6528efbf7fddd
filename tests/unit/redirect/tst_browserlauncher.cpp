// SPDX-License-Identifier: MIT
// The command and system browser launchers, with real small scripts as the "browser".
#include <keyloop/browserlauncher.h>

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using Keyloop::CommandBrowserLauncher;
using Keyloop::Error;
using Keyloop::SystemBrowserLauncher;
using LaunchMode = CommandBrowserLauncher::LaunchMode;

Q_DECLARE_METATYPE(CommandBrowserLauncher::LaunchMode)

namespace {

// A URL full of characters a shell would interpret, as an authorization URL may contain.
QUrl trickyUrl()
{
    return QUrl(QStringLiteral("https://idp.example/authorize?response_type=code&client_id=a%20b"
                               "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Fcallback&scope=openid+profile"
                               "&state=x;y|z$HOME`id`&nonce='\"*?&code_challenge=abc-_"));
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    return file.readAll();
}

// Writes "<number of arguments>\n<last argument>" to $1 (the first extra argument).
const QString kRecorder = QStringLiteral("out=\"$1\"; shift; "
                                         "printf '%s\\n%s' \"$#\" \"$1\" > \"$out.tmp\" && mv \"$out.tmp\" \"$out\"");

QStringList words(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *w : list)
        out.append(QString::fromUtf8(w));
    return out;
}

} // namespace

class TestBrowserLauncher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void appendsUrlAsLastArgumentUnmodified_data();
    void appendsUrlAsLastArgumentUnmodified();
    void splitsCommandLikeAShell_data();
    void splitsCommandLikeAShell();
    void runsSplitCommandWithoutShellExpansion();
    void reportsExitCodeWhenAttached();
    void failsForInvalidProgram_data();
    void failsForInvalidProgram();
    void refusesNonHttpUrls_data();
    void refusesNonHttpUrls();
    void systemLauncherRunsXdgOpen();
    void systemLauncherFailsWithoutXdgOpen();

private:
    QTemporaryDir m_dir;
};

void TestBrowserLauncher::appendsUrlAsLastArgumentUnmodified_data()
{
    QTest::addColumn<LaunchMode>("mode");
    QTest::newRow("attached") << LaunchMode::Attached;
    QTest::newRow("detached") << LaunchMode::Detached;
}

void TestBrowserLauncher::appendsUrlAsLastArgumentUnmodified()
{
    QFETCH(LaunchMode, mode);
    QVERIFY(m_dir.isValid());
    const QString out = m_dir.filePath(QStringLiteral("url-%1.txt").arg(int(mode)));
    CommandBrowserLauncher launcher(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), kRecorder, QStringLiteral("sh"), out});
    launcher.setLaunchMode(mode);
    QSignalSpy finished(&launcher, &CommandBrowserLauncher::finished);

    const QUrl url = trickyUrl();
    QVERIFY(url.isValid());
    const Error error = launcher.openUrl(url);
    QVERIFY2(!error, qPrintable(error.toString()));
    if (mode == LaunchMode::Attached) {
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.at(0).at(0).toInt(), 0);
    }
    QTRY_VERIFY(QFile::exists(out));
    const QList<QByteArray> lines = readFile(out).split('\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines.at(0), QByteArray("1")); // the URL is exactly one argument
    QVERIFY(lines.at(1) == url.toEncoded(QUrl::FullyEncoded));
    if (mode == LaunchMode::Detached)
        QCOMPARE(finished.count(), 0);
}

void TestBrowserLauncher::splitsCommandLikeAShell_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QStringList>("words");
    QTest::newRow("plain") << QStringLiteral("firefox --private-window") << words({"firefox", "--private-window"});
    QTest::newRow("extra blanks") << QStringLiteral("  a \t b\n") << words({"a", "b"});
    QTest::newRow("single quotes") << QStringLiteral("a 'b c' 'd\"e'") << words({"a", "b c", "d\"e"});
    QTest::newRow("double quotes") << QStringLiteral("a \"b 'c'\" \"x\\\"y\\\\z\\q\"") << words({"a", "b 'c'", "x\"y\\z\\q"});
    QTest::newRow("backslash") << QStringLiteral("a\\ b c\\'d") << words({"a b", "c'd"});
    QTest::newRow("adjacent quoting joins") << QStringLiteral("a'b'\"c\"d") << words({"abcd"});
    QTest::newRow("empty quoted word") << QStringLiteral("a '' b") << words({"a", "", "b"});
    QTest::newRow("no expansion") << QStringLiteral("a $HOME ~ * `id` | > x") << words({"a", "$HOME", "~", "*", "`id`", "|", ">", "x"});
    QTest::newRow("line continuation") << QStringLiteral("a\\\nb") << words({"ab"});
}

void TestBrowserLauncher::splitsCommandLikeAShell()
{
    QFETCH(QString, command);
    QFETCH(QStringList, words);
    CommandBrowserLauncher launcher(command);
    QCOMPARE(launcher.program(), words.first());
    QCOMPARE(launcher.arguments(), words.mid(1));
}

void TestBrowserLauncher::runsSplitCommandWithoutShellExpansion()
{
    const QString out = m_dir.filePath(QStringLiteral("split.txt"));
    const QString command = QStringLiteral("/bin/sh -c 'printf \"%s|%s|%s\" \"$1\" \"$2\" \"$3\" > \"%1\"' sh 'two words' $HOME").arg(out);
    CommandBrowserLauncher launcher(command);
    QCOMPARE(launcher.program(), QStringLiteral("/bin/sh"));
    QCOMPARE(launcher.arguments().size(), 5);
    launcher.setLaunchMode(LaunchMode::Attached);
    QSignalSpy finished(&launcher, &CommandBrowserLauncher::finished);
    QVERIFY(!launcher.openUrl(QUrl(QStringLiteral("http://127.0.0.1:1/x?a=1&b=2"))));
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(0).at(0).toInt(), 0);
    QCOMPARE(readFile(out), QByteArray("two words|$HOME|http://127.0.0.1:1/x?a=1&b=2"));
}

void TestBrowserLauncher::reportsExitCodeWhenAttached()
{
    CommandBrowserLauncher launcher(QStringLiteral("/bin/sh -c 'exit 3'"));
    launcher.setLaunchMode(LaunchMode::Attached);
    QSignalSpy finished(&launcher, &CommandBrowserLauncher::finished);
    QVERIFY(!launcher.openUrl(QUrl(QStringLiteral("https://idp.example/authorize"))));
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).toInt(), 3);
}

void TestBrowserLauncher::failsForInvalidProgram_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<LaunchMode>("mode");
    for (const LaunchMode mode : {LaunchMode::Detached, LaunchMode::Attached}) {
        const char *m = mode == LaunchMode::Detached ? "detached" : "attached";
        QTest::addRow("absolute missing, %s", m) << QStringLiteral("/nonexistent/keyloop-browser --flag") << mode;
        QTest::addRow("not on PATH, %s", m) << QStringLiteral("keyloop-no-such-browser-3f9a") << mode;
        QTest::addRow("not executable, %s", m) << QStringLiteral("NOEXEC") << mode;
        QTest::addRow("directory, %s", m) << QStringLiteral("/tmp") << mode;
        QTest::addRow("empty, %s", m) << QString() << mode;
        QTest::addRow("only spaces, %s", m) << QStringLiteral("   ") << mode;
        QTest::addRow("unterminated quote, %s", m) << QStringLiteral("/bin/sh -c 'exit 0") << mode;
        QTest::addRow("trailing backslash, %s", m) << QStringLiteral("/bin/true \\") << mode;
    }
}

void TestBrowserLauncher::failsForInvalidProgram()
{
    QFETCH(QString, command);
    QFETCH(LaunchMode, mode);
    if (command == QLatin1String("NOEXEC")) { // a regular file without execute permission
        command = m_dir.filePath(QStringLiteral("not-executable"));
        QFile file(command);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("#!/bin/sh\nexit 0\n");
        file.close();
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner));
    }
    CommandBrowserLauncher launcher(command);
    launcher.setLaunchMode(mode);
    QSignalSpy finished(&launcher, &CommandBrowserLauncher::finished);
    const Error error = launcher.openUrl(QUrl(QStringLiteral("https://idp.example/authorize?state=secret-state")));
    QCOMPARE(error.code(), Error::Code::BrowserLaunchFailed);
    QVERIFY(!error.message().contains(QStringLiteral("secret-state")));
    QCOMPARE(finished.count(), 0);
}

void TestBrowserLauncher::refusesNonHttpUrls_data()
{
    QTest::addColumn<QUrl>("url");
    QTest::newRow("file") << QUrl(QStringLiteral("file:///etc/passwd"));
    QTest::newRow("javascript") << QUrl(QStringLiteral("javascript:alert(1)"));
    QTest::newRow("relative option-like") << QUrl(QStringLiteral("--new-window"));
    QTest::newRow("empty") << QUrl();
    QTest::newRow("custom scheme") << QUrl(QStringLiteral("x-handler://run"));
    QTest::newRow("http without host") << QUrl(QStringLiteral("http:/path"));
}

void TestBrowserLauncher::refusesNonHttpUrls()
{
    QFETCH(QUrl, url);
    const QString out = m_dir.filePath(QStringLiteral("never.txt"));
    CommandBrowserLauncher launcher(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), kRecorder, QStringLiteral("sh"), out});
    launcher.setLaunchMode(LaunchMode::Attached);
    QSignalSpy finished(&launcher, &CommandBrowserLauncher::finished);
    QCOMPARE(launcher.openUrl(url).code(), Error::Code::BrowserLaunchFailed);
    QCOMPARE(SystemBrowserLauncher().openUrl(url).code(), Error::Code::BrowserLaunchFailed);
    QCOMPARE(finished.count(), 0);
    QVERIFY(!QFile::exists(out));
}

void TestBrowserLauncher::systemLauncherRunsXdgOpen()
{
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    QSKIP("the fake opener is an xdg-open script");
#else
    // A fake xdg-open first on PATH records its arguments instead of opening a browser.
    QTemporaryDir bin;
    QVERIFY(bin.isValid());
    const QString out = bin.filePath(QStringLiteral("opened.txt"));
    const QString script = bin.filePath(QStringLiteral("xdg-open"));
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("#!/bin/sh\nprintf '%s\\n%s' \"$#\" \"$1\" > \"" + out.toUtf8() + ".tmp\" && mv \"" + out.toUtf8()
               + ".tmp\" \"" + out.toUtf8() + "\"\n");
    file.close();
    QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));

    const QByteArray oldPath = qgetenv("PATH");
    qputenv("PATH", bin.path().toUtf8() + ":/usr/bin:/bin");
    const QUrl url = trickyUrl();
    const Error error = SystemBrowserLauncher().openUrl(url);
    qputenv("PATH", oldPath);
    QVERIFY2(!error, qPrintable(error.toString()));
    QTRY_VERIFY(QFile::exists(out));
    const QList<QByteArray> lines = readFile(out).split('\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines.at(0), QByteArray("1"));
    QVERIFY(lines.at(1) == url.toEncoded(QUrl::FullyEncoded));
#endif
}

void TestBrowserLauncher::systemLauncherFailsWithoutXdgOpen()
{
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    QSKIP("xdg-open is the Linux/BSD opener");
#else
    QTemporaryDir empty;
    const QByteArray oldPath = qgetenv("PATH");
    qputenv("PATH", empty.path().toUtf8());
    const Error error = SystemBrowserLauncher().openUrl(QUrl(QStringLiteral("https://idp.example/authorize")));
    qputenv("PATH", oldPath);
    QCOMPARE(error.code(), Error::Code::BrowserLaunchFailed);
    QVERIFY(error.message().contains(QStringLiteral("xdg-open")));
#endif
}

QTEST_GUILESS_MAIN(TestBrowserLauncher)
#include "tst_browserlauncher.moc"
