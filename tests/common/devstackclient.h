// SPDX-License-Identifier: MIT
// The devstack's clients as ClientConfigurations, for the integration tests that sign in to it.
// Header-only (and apart from testsupport.h) so that the test support library needs no SDK.
#pragma once

#include <keyloop/clientconfiguration.h>

#include "testsupport.h"

namespace KeyloopTest {

/// The devstack's public client (Devstack::publicClientId) asking for \a scopes, trusting the
/// devstack's CA.
inline Keyloop::ClientConfiguration publicClient(const Devstack &devstack, const QStringList &scopes)
{
    Keyloop::ClientConfiguration c;
    c.setIssuer(devstack.issuer);
    c.setClientId(devstack.publicClientId);
    c.setScopes(scopes);
    Keyloop::TransportOptions transport;
    transport.setExtraCaCertificates(devstack.caCertificates());
    c.setTransport(transport);
    return c;
}

/// \a path on the devstack's protected API.
inline QUrl apiUrl(const Devstack &devstack, const QString &path)
{
    QUrl url = devstack.api;
    url.setPath(path);
    return url;
}

} // namespace KeyloopTest
