// SPDX-License-Identifier: MIT
// The provider metadata a sign-in (browser or device code) starts from. Private to the SDK.
#pragma once
#include <keyloop/clientconfiguration.h>
#include <keyloop/discoveryjob.h>
#include <keyloop/error.h>
#include <keyloop/providerconfiguration.h>

#include <QtCore/QPointer>

#include <functional>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Keyloop {

/*!
 * Calls \a then with \a client's provider metadata, checked against its transport rules
 * (ProviderConfiguration::validate()), or with the error: the endpoints set by hand (providers
 * without discovery; \a then is called before this returns, no network), else discovered (OIDC
 * Discovery / RFC 8414). Returns the discovery job (a child of \a parent, to cancel), or null.
 */
QPointer<DiscoveryJob> resolveSignInProvider(const ClientConfiguration &client, QNetworkAccessManager *nam,
                                             QObject *parent,
                                             const std::function<void(const Error &, const ProviderConfiguration &)> &then);

} // namespace Keyloop
