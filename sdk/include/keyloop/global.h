// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/qglobal.h>
#include <keyloop/version.h>

/*!
 * \namespace Keyloop
 * \brief OAuth 2.0 / OpenID Connect sign-in for Qt 6 desktop apps: everything public in Keyloop
 * and Keyloop::Gui is in this namespace. Start with Keyloop::Client.
 */

#if defined(KEYLOOP_BUILD_LIBRARY)
#  define KEYLOOP_EXPORT Q_DECL_EXPORT
#else
#  define KEYLOOP_EXPORT Q_DECL_IMPORT
#endif
