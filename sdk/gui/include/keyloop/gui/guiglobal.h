// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/global.h>

#if defined(KEYLOOP_BUILD_GUI_LIBRARY)
#  define KEYLOOP_GUI_EXPORT Q_DECL_EXPORT
#else
#  define KEYLOOP_GUI_EXPORT Q_DECL_IMPORT
#endif
