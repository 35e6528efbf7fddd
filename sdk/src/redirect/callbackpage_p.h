// SPDX-License-Identifier: MIT
// The pages the loopback receiver shows in the browser. Private to the SDK.
#pragma once

#include <keyloop/error.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace Keyloop::CallbackPage {

/// "Signed in": the code was exchanged and the ID token validated.
QByteArray success();
/// "Sign-in failed" with a plain-words reason for \a error (see reason()).
QByteArray failure(const Error &error);
/// "Return to the application": the outcome did not come in time, or the app went away.
QByteArray neutral();
/// "Signed out": the provider redirected back after an RP-initiated logout, with this logout's state.
QByteArray signOutSuccess();
/// "Sign-out not confirmed": the logout was stopped (cancelled, timed out) or its answer refused.
QByteArray signOutFailure(const Error &error);
/// The neutral page of a logout: the app did not say how it ended.
QByteArray signOutNeutral();
/// For requests that are not this sign-in's callback. Reflects nothing from the request.
QByteArray rejected();

/// The start page (pushed authorization requests, RFC 9126): "Sign-in could not start" with a
/// plain-words reason for \a error (see reason()), and "reload" when the error is transient.
QByteArray startFailure(const Error &error);
/// The start page after the sign-in it belonged to has ended (callback accepted, or closed).
QByteArray startEnded();
/// The start page when too many of its requests wait already.
QByteArray startBusy();

/// One plain sentence for the user about why a sign-in failed, chosen by error code and
/// domain (and, for OAuth errors, by the RFC 6749 §4.1.2.1 / §5.2 `error` code). Never the
/// error's message, the provider's error_description or anything else the server or the
/// request sent, so the page can contain no token, code, state or injected markup.
QString reason(const Error &error);

} // namespace Keyloop::CallbackPage
