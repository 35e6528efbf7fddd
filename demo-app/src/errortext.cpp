// SPDX-License-Identifier: MIT
#include "errortext.h"

using Code = Keyloop::Error::Code;

ErrorText errorText(const Keyloop::Error &error)
{
    QString headline;
    switch (error.code()) {
    case Code::StorageUnavailable:
        headline = QStringLiteral("The keychain is not available. Unlock it (or start a Secret Service such as "
                                  "gnome-keyring) and try again; nothing stored was changed.");
        break;
    case Code::StorageFailed:
    case Code::StorageCorrupt:
        headline = QStringLiteral("The keychain could not be read or written. Your session is kept in memory.");
        break;
    case Code::NetworkError:
    case Code::TlsError:
        headline = QStringLiteral("The provider cannot be reached. Check the network and try again.");
        break;
    case Code::Timeout:
        headline = QStringLiteral("The provider did not answer in time. Try again.");
        break;
    case Code::SignInTimeout:
        headline = QStringLiteral("The sign-in timed out: it was not completed in the browser.");
        break;
    case Code::Cancelled:
        headline = QStringLiteral("The sign-in was cancelled.");
        break;
    case Code::DeviceCodeExpired:
        headline = QStringLiteral("The code expired before the sign-in was approved. Start again for a new code.");
        break;
    case Code::DeviceFlowNotSupported:
        headline = QStringLiteral("This provider does not offer sign-in with a code on another device. Use the browser.");
        break;
    case Code::PushedAuthorizationNotSupported:
        headline = QStringLiteral("This provider does not offer pushed authorization requests (PAR), which this app asks for.");
        break;
    case Code::BrowserLaunchFailed:
        headline = QStringLiteral("The browser could not be opened. Copy the sign-in address into a browser.");
        break;
    case Code::ClientAuthenticationFailed:
        headline = QStringLiteral("The provider does not accept this app's client id or secret. Check the profile.");
        break;
    case Code::InvalidConfiguration:
    case Code::InsecureEndpoint:
        headline = QStringLiteral("The profile is not usable. Check its settings.");
        break;
    case Code::SignInRequired:
        headline = QStringLiteral("Your session has ended. Sign in again.");
        break;
    case Code::SessionBusy:
        headline = QStringLiteral("Another program is using this session right now. Try again in a moment.");
        break;
    case Code::RevocationFailed:
        headline = QStringLiteral("Signed out on this computer, but the provider did not confirm it: "
                                  "the tokens stay valid until they expire.");
        break;
    case Code::InsufficientScope:
        headline = QStringLiteral("The API needs more access than you granted.");
        break;
    case Code::StepUpRequired:
        headline = QStringLiteral("The API asks you to sign in again, more strongly or more recently.");
        break;
    case Code::OAuthError:
        if (error.oauthError() == QLatin1String("access_denied"))
            headline = QStringLiteral("Access was denied: the sign-in was not approved.");
        else if (error.oauthError() == QLatin1String("login_required") || error.oauthError() == QLatin1String("consent_required"))
            headline = QStringLiteral("The provider needs you to sign in again.");
        else
            headline = QStringLiteral("The provider refused the request.");
        break;
    case Code::HttpError:
        headline = error.httpStatus() >= 500 ? QStringLiteral("The server has a problem. Try again later.")
                                             : QStringLiteral("The server refused the request.");
        break;
    default:
        headline = error.isTransient() ? QStringLiteral("A temporary problem; the app will try again.")
                                       : QStringLiteral("Something went wrong.");
        break;
    }
    return {headline, error.message()};
}
