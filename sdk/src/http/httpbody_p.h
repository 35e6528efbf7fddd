// SPDX-License-Identifier: MIT
// HttpBody's private state, read by HttpClient when it buffers a body.
#pragma once

#include <keyloop/httpbody.h>

#include <QtCore/QIODevice>
#include <QtCore/QPointer>
#include <QtCore/QSharedData>

namespace Keyloop {

class HttpBodyPrivate : public QSharedData
{
public:
    QByteArray data;
    QPointer<QIODevice> device;
    bool isDevice = false;
    bool isSet = false;
};

} // namespace Keyloop
