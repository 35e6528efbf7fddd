// SPDX-License-Identifier: MIT
// A provider profile: what the demo needs to sign in at one provider and call its APIs. Loaded
// from the devstack's devstack.json (the default profile) or from a profiles file (JSON,
// docs/demo-app.md#profiles). Values only: no secrets but a desktop client's "secret", which
// providers such as Google issue to installed apps and document as not confidential
// (RFC 8252 §8.5).
#pragma once

#include <keyloop/clientconfiguration.h>
#include <keyloop/error.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QUrl>

struct ApiEndpoint
{
    QString label;
    QByteArray method;
    QUrl url;
    QByteArray body; ///< JSON sent with POST/PUT/PATCH
};

struct ApiProfile
{
    QString resource;       ///< RFC 8707 resource indicator ("" = the provider's own token)
    QList<QUrl> locations;  ///< where that token may go (never the resource itself)
    QList<ApiEndpoint> endpoints;
};

struct DemoProfile
{
    QString name;
    QString notes;
    Keyloop::ClientConfiguration client;
    QList<ApiProfile> apis;
    bool needsClientSecret = false; ///< the file has "clientSecret" (e.g. Google), still empty

    /// Empty when the profile can be used; else what the user must fill in first.
    QString missing() const;

    /// The local devstack's profile from its devstack.json.
    static DemoProfile fromDevstack(const QString &devstackJson, Keyloop::Error *error);
    /// Every profile of a profiles file: {"profiles": [ {...}, ... ]}.
    static QList<DemoProfile> fromFile(const QString &path, Keyloop::Error *error);
    static DemoProfile fromJson(const QJsonObject &json, const QString &baseDir, Keyloop::Error *error);
};
