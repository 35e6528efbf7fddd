// A stranger's app: only the installed headers and Keyloop::Keyloop.
#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>
#include <keyloop/keychaintokenstore.h>
#include <keyloop/session.h>
#include <keyloop/signin.h>
#include <keyloop/version.h>

#include <QtCore/QCoreApplication>
#include <QtNetwork/QNetworkAccessManager>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QNetworkAccessManager nam;
    Keyloop::ClientConfiguration config;
    config.setIssuer(QUrl(QStringLiteral("http://login.example.com"))); // not https: must be refused
    config.setClientId(QStringLiteral("consumer"));
    Keyloop::SignIn signIn(config, &nam);
    Keyloop::KeychainTokenStore store(QStringLiteral("org.keyloop.consumer"));

    const Keyloop::Error error(Keyloop::Error::Code::InsecureEndpoint, QStringLiteral("consumer check"));
    const bool ok = error.domain() == Keyloop::Error::Domain::Configuration
        && !config.transport().allowsInsecureLoopbackForDevelopment()
        && store.serviceName() == QStringLiteral("org.keyloop.consumer");
    std::printf("keyloop %s %s\n", KEYLOOP_VERSION_STRING, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
