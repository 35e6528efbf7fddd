// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#include <QtCore/QDateTime>

#include <chrono>

namespace Keyloop {

/*!
 * \brief The wall clock the SDK reads, injectable for tests.
 *
 * Token expiry and ID-token time checks use the wall clock (system_clock), not a
 * monotonic one, so that they stay right across sleep/resume. Pass your own subclass
 * to freeze or move time in tests. The SDK never takes ownership of a Clock.
 */
class KEYLOOP_EXPORT Clock
{
public:
    virtual ~Clock();
    /// The current time. The default reads std::chrono::system_clock; override it in tests.
    virtual std::chrono::system_clock::time_point now() const;
    /// now() as a UTC QDateTime (millisecond precision).
    QDateTime dateTime() const;

    /// The process-wide system clock (stateless; never null).
    static const Clock *system();
};

} // namespace Keyloop
