// SPDX-License-Identifier: MIT
#include <keyloop/clock.h>

namespace Keyloop {

Clock::~Clock() = default;

std::chrono::system_clock::time_point Clock::now() const
{
    return std::chrono::system_clock::now();
}

QDateTime Clock::dateTime() const
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch());
    return QDateTime::fromMSecsSinceEpoch(ms.count(), Qt::UTC);
}

const Clock *Clock::system()
{
    static const Clock clock;
    return &clock;
}

} // namespace Keyloop
