// SPDX-License-Identifier: MIT
// What the demo tells the user about a Keyloop::Error: a headline in plain words (the banner)
// and the SDK's own message as the detail. Error messages carry no secrets (the SDK's rule).
#pragma once

#include <keyloop/error.h>

#include <QtCore/QString>

struct ErrorText
{
    QString headline; ///< e.g. "The keychain is not available."
    QString detail;   ///< the SDK's message
};

ErrorText errorText(const Keyloop::Error &error);
