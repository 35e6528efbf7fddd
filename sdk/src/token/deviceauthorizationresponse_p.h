// SPDX-License-Identifier: MIT
// The device authorization response (RFC 8628 §3.2). Private to the SDK: apps see its
// user-facing part through DeviceSignIn; the device code is a secret that only polls carry.
#pragma once
#include <keyloop/error.h>
#include <keyloop/transportoptions.h>
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QDateTime>
#include <QtCore/QString>
#include <QtCore/QUrl>
#include <chrono>

namespace Keyloop {

struct DeviceAuthorizationResponse
{
    QByteArray deviceCode;          ///< secret: only sent back to the token endpoint
    QString userCode;               ///< shown to the user
    QUrl verificationUri;           ///< where the user enters the code
    QUrl verificationUriComplete;   ///< the same with the code in it (optional, §3.3.1)
    QDateTime expiresAt;            ///< receivedAt + expires_in
    std::chrono::seconds interval{5}; ///< §3.2: default 5 s when absent

    bool isNull() const { return deviceCode.isEmpty(); }

    /*!
     * Parses the endpoint's answer: a 200 JSON object with device_code, user_code,
     * verification_uri, expires_in (required) and verification_uri_complete, interval
     * (optional). A 4xx with an OAuth error body → Error::oauth() (§3.2 refers to RFC 6749 §5.2);
     * other statuses → HttpError; anything malformed → MalformedResponse / MissingParameter.
     * The verification URIs must be http(s) URLs the \a options allow (they are opened or
     * shown to the user). Messages never quote the body.
     */
    static DeviceAuthorizationResponse parse(int httpStatus, QByteArrayView body, const QDateTime &receivedAt,
                                             const TransportOptions &options, Error *error);
};

} // namespace Keyloop
