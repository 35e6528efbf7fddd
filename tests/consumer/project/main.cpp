// A stranger's app: only the installed headers and Keyloop::Keyloop.
#include <keyloop/error.h>
#include <keyloop/transportoptions.h>
#include <keyloop/version.h>

#include <cstdio>

int main()
{
    Keyloop::TransportOptions options;
    const Keyloop::Error error(Keyloop::Error::Code::InsecureEndpoint, QStringLiteral("consumer check"));
    const bool ok = error.domain() == Keyloop::Error::Domain::Configuration
        && !options.allowsInsecureLoopbackForDevelopment();
    std::printf("keyloop %s %s\n", KEYLOOP_VERSION_STRING, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
