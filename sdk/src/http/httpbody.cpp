// SPDX-License-Identifier: MIT
#include <keyloop/httpbody.h>

#include "http/httpbody_p.h"

namespace Keyloop {

HttpBody::HttpBody() : d(new HttpBodyPrivate) {}

HttpBody::HttpBody(const QByteArray &data) : d(new HttpBodyPrivate)
{
    d->data = data;
    d->isSet = true;
}

HttpBody::HttpBody(const HttpBody &other) = default;
HttpBody::HttpBody(HttpBody &&other) noexcept = default;
HttpBody &HttpBody::operator=(const HttpBody &other) = default;
HttpBody &HttpBody::operator=(HttpBody &&other) noexcept = default;
HttpBody::~HttpBody() = default;

HttpBody HttpBody::fromDevice(QIODevice *device)
{
    HttpBody body;
    body.d->device = device;
    body.d->isDevice = true;
    body.d->isSet = true;
    return body;
}

bool HttpBody::isNull() const { return !d->isSet; }
QIODevice *HttpBody::device() const { return d->device; }
QByteArray HttpBody::data() const { return d->data; }

} // namespace Keyloop
