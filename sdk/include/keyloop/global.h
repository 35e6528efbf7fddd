// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/qglobal.h>
#include <keyloop/version.h>

#if defined(KEYLOOP_BUILD_LIBRARY)
#  define KEYLOOP_EXPORT Q_DECL_EXPORT
#else
#  define KEYLOOP_EXPORT Q_DECL_IMPORT
#endif
