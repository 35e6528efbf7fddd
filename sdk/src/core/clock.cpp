// SPDX-License-Identifier: MIT
#include <keyloop/clock.h>

namespace Keyloop {

Clock::~Clock() = default;

std::chrono::system_clock::time_point Clock::now() const
{
    return std::chrono::system_clock::now();
}

const Clock *Clock::system()
{
    static const Clock clock;
    return &clock;
}

} // namespace Keyloop
