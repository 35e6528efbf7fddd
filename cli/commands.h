// SPDX-License-Identifier: MIT
#pragma once

#include "command.h"

#include <memory>

namespace KeyloopCli {
std::unique_ptr<Command> makeLoginCommand();
std::unique_ptr<Command> makeTokenCommand();
std::unique_ptr<Command> makeStatusCommand();
std::unique_ptr<Command> makeLogoutCommand();
std::unique_ptr<Command> makeCallCommand();
} // namespace KeyloopCli
