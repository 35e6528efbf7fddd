// SPDX-License-Identifier: MIT
// Test-build-only crash points (see store/testhooks_p.h, which the store module shares).
#pragma once

#include "store/testhooks_p.h"
