// SPDX-License-Identifier: MIT
// Defence in depth for what the demo shows: the SDK logs events, not values, but a line that
// still looked like a token (a long base64url run, a JWT) is masked before it is displayed.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

/// \a text with every run of 24 or more token characters (base64url, '.', '~', '+', '/')
/// replaced by "[redacted]".
QString redacted(const QString &text);

/// A short, safe preview of a secret: its length and the first 8 hex digits of its SHA-256 —
/// enough to see it change after a refresh, never enough to use it.
QString tokenFingerprint(const QByteArray &token);
