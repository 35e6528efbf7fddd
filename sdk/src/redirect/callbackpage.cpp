// SPDX-License-Identifier: MIT
#include "redirect/callbackpage_p.h"

namespace Keyloop::CallbackPage {

namespace {

QByteArray page(const char *title, const QString &body)
{
    // Static text only; escaped anyway so that a future reason can never become markup.
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + QByteArray(title)
        + "</title></head><body><h1>" + QByteArray(title) + "</h1>" + body.toUtf8() + "</body></html>\n";
}

QString paragraph(const QString &text)
{
    return QStringLiteral("<p>") + text.toHtmlEscaped() + QStringLiteral("</p>");
}

QString oauthReason(const QString &code)
{
    // RFC 6749 §4.1.2.1 (authorization endpoint), §5.2 (token endpoint), OIDC Core §3.1.2.6.
    if (code == QLatin1String("access_denied"))
        return QStringLiteral("The request was declined, so you are not signed in.");
    if (code == QLatin1String("login_required") || code == QLatin1String("interaction_required")
        || code == QLatin1String("consent_required") || code == QLatin1String("account_selection_required"))
        return QStringLiteral("The sign-in service needs you to sign in or give your consent again.");
    if (code == QLatin1String("temporarily_unavailable") || code == QLatin1String("server_error"))
        return QStringLiteral("The sign-in service is temporarily unavailable. Try again later.");
    if (code == QLatin1String("invalid_grant"))
        return QStringLiteral("The sign-in expired or was already used. Try again.");
    return QStringLiteral("The sign-in service refused the request.");
}

} // namespace

QString reason(const Error &error)
{
    switch (error.code()) {
    case Error::Code::Cancelled:
        return QStringLiteral("The sign-in was cancelled in the application.");
    case Error::Code::SignInTimeout:
        return QStringLiteral("The sign-in took too long and was stopped.");
    case Error::Code::OAuthError:
        return oauthReason(error.oauthError());
    case Error::Code::StateMismatch:
    case Error::Code::IssuerMismatch:
        return QStringLiteral("The application could not verify the answer of the sign-in service, so it did not accept it.");
    default:
        break;
    }
    switch (error.domain()) {
    case Error::Domain::Network:
        return QStringLiteral("The application could not reach the sign-in service. Check the connection and try again.");
    case Error::Domain::Jose:
    case Error::Domain::IdToken:
        return QStringLiteral("The application could not verify the answer of the sign-in service, so it did not accept it.");
    case Error::Domain::Protocol:
        return QStringLiteral("The sign-in service sent an answer the application could not use.");
    case Error::Domain::Configuration:
        return QStringLiteral("The application is not set up correctly for this sign-in service.");
    default:
        return QStringLiteral("The sign-in could not be completed.");
    }
}

QByteArray success()
{
    return page("Signed in", paragraph(QStringLiteral("You are signed in. You can close this window and return to the application.")));
}

QByteArray failure(const Error &error)
{
    return page("Sign-in failed", paragraph(reason(error))
                                      + paragraph(QStringLiteral("Return to the application for details. You can close this window.")));
}

QByteArray neutral()
{
    return page("Return to the application",
                paragraph(QStringLiteral("The application received the answer of the sign-in service. Return to the "
                                         "application to see whether the sign-in succeeded. You can close this window.")));
}

// The logout pages claim only what the redirect proves: the provider sent the browser back
// with this logout's state (RP-Initiated Logout §3). They say nothing about the application's
// own (local) sign-out, which is not the receiver's to know.
QByteArray signOutSuccess()
{
    return page("Signed out", paragraph(QStringLiteral("The sign-in service has signed you out. You can close this "
                                                       "window and return to the application.")));
}

QByteArray signOutFailure(const Error &error)
{
    QString why;
    switch (error.code()) {
    case Error::Code::Cancelled: why = QStringLiteral("The sign-out was cancelled in the application."); break;
    case Error::Code::Timeout: why = QStringLiteral("The sign-out took too long and was stopped."); break;
    default:
        why = QStringLiteral("The application could not confirm that the sign-in service has signed you out.");
        break;
    }
    return page("Sign-out not confirmed",
                paragraph(why) + paragraph(QStringLiteral("Return to the application for details. You can close this window.")));
}

QByteArray signOutNeutral()
{
    return page("Return to the application",
                paragraph(QStringLiteral("The application received the answer of the sign-in service. Return to the "
                                         "application to see whether the sign-out succeeded. You can close this window.")));
}

QByteArray rejected()
{
    return page("Request not accepted", paragraph(QStringLiteral("This address only accepts the sign-in response of the "
                                                                 "application that opened it.")));
}

// The start page's answers when it cannot send the browser on to the provider. Like the other
// pages they reflect nothing from the request, the provider or the error's message.
QByteArray startFailure(const Error &error)
{
    QString body = paragraph(reason(error));
    if (error.isTransient())
        body += paragraph(QStringLiteral("Reload this page to try again."));
    body += paragraph(QStringLiteral("Return to the application for details. You can close this window."));
    return page("Sign-in could not start", body);
}

QByteArray startEnded()
{
    return page("Sign-in ended", paragraph(QStringLiteral("This sign-in address is no longer in use. To sign in, start "
                                                          "again in the application. You can close this window.")));
}

QByteArray startBusy()
{
    return page("Sign-in is starting", paragraph(QStringLiteral("The application is already starting this sign-in in "
                                                                "another window. Reload this page in a moment.")));
}

} // namespace Keyloop::CallbackPage
