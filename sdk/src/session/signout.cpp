// SPDX-License-Identifier: MIT
// Session: the sign-out operation. Under the account lock: re-read the store, revoke the
// session's tokens at the provider (RFC 7009; refresh tokens first, which ends the grant), then
// delete the stored session (keychain first, index last). A revocation that fails does not keep
// the session: it is removed on this device all the same, and the failure is reported
// (Error::Code::RevocationFailed). Also: revoking a rotated refresh token of a grant that is over.
#include "session/session_p.h"

#include <keyloop/revocationjob.h>
#include <keyloop/tokenclient.h>

#include "core/logging_p.h"

namespace Keyloop {

namespace {

struct Revocation
{
    QByteArray token;
    RevocationJob::TokenTypeHint hint;
};

const char *kindName(RevocationJob::TokenTypeHint hint)
{
    return hint == RevocationJob::TokenTypeHint::RefreshToken ? "refresh token" : "access token";
}

// What sign-out revokes, in order (RFC 7009 §2.1): the refresh tokens first — revoking one ends
// its grant, and the server SHOULD then invalidate the grant's access tokens too — then the
// access tokens, in case it does not. The stored record is the current one (another process may
// have rotated the refresh token since this one last read it); what this process held counts
// too (a rotated refresh token whose save failed lives only here). Duplicates and access tokens
// already expired (invalid anyway) are left out.
QList<Revocation> tokensToRevoke(const SessionRecord &stored, const SessionRecord &held, const QDateTime &now)
{
    QList<Revocation> out;
    QList<QByteArray> seen;
    const auto add = [&out, &seen](const QByteArray &token, RevocationJob::TokenTypeHint hint) {
        if (token.isEmpty() || seen.contains(token))
            return;
        seen.append(token);
        out.append({token, hint});
    };
    add(stored.refreshToken(), RevocationJob::TokenTypeHint::RefreshToken);
    add(held.refreshToken(), RevocationJob::TokenTypeHint::RefreshToken);
    for (const SessionRecord *record : {&stored, &held}) {
        const QMap<QString, SessionAccessToken> tokens = record->accessTokens();
        for (const SessionAccessToken &token : tokens) {
            if (!token.expiresAt.isValid() || token.expiresAt > now)
                add(token.token, RevocationJob::TokenTypeHint::AccessToken);
        }
    }
    return out;
}

// Revokes \a pending one after the other and calls \a then once with the first failure (null:
// every token is revoked, or the server does not revoke its type). A transient failure (network,
// timeout, 5xx) stops the rest: the provider is unreachable or failing, and each further request
// would only make the sign-out wait another transport timeout.
void revokeInTurn(SessionPrivate *d, QList<Revocation> pending, const Error &firstError,
                  std::function<void(const Error &)> then)
{
    if (pending.isEmpty()) {
        then(firstError);
        return;
    }
    const Revocation next = pending.takeFirst();
    RevocationJob *job = d->tokenClient->revoke(d->provider, d->client, next.token, next.hint);
    QObject::connect(job, &Job::finished, d->q, [d, job, pending, firstError, then, hint = next.hint] {
        const Error e = job->error();
        if (e) {
            // Reported by the sign-out job (RevocationFailed): an event here, not a warning.
            qCDebug(lcSession) << "revoking the session's" << kindName(hint) << "failed:" << e.code();
            if (e.isTransient())
                return then(firstError ? firstError : e);
        } else {
            qCDebug(lcSession) << "revocation of the session's" << kindName(hint) << "done:" << job->outcome();
        }
        revokeInTurn(d, pending, firstError ? firstError : e, then);
    });
    job->start();
}

} // namespace

void SessionPrivate::signOut(const OperationPtr &op, const SessionRecord &held)
{
    // Across processes: wait (bounded) for another process's refresh to finish under the account
    // lock, and revoke and delete under it, so that it can neither write the session back nor
    // keep a refresh token this sign-out has not seen.
    lock(op, signOutLockTimeout(), [this, op, held](const Error &lockError) {
        if (lockError) {
            return endOperation(op, Error(Error::Code::SessionBusy,
                                          QStringLiteral("the session is busy in another process (a refresh in "
                                                         "progress?); it was neither revoked nor removed: try again")));
        }
        const auto remove = [this, op](const Error &revocationError) {
            setSaving(op, true);
            removeStored([this, op, revocationError](const Error &e) {
                if (e) {
                    // Still stored (the keychain failed): a retry reads and revokes it again.
                    return endOperation(op, e);
                }
                stored = false;
                if (revocationError) {
                    return endOperation(op, revocationError.reclassified(
                                                Error::Code::RevocationFailed,
                                                QStringLiteral("signed out on this device (the stored session was "
                                                               "removed), but the provider did not confirm the "
                                                               "revocation of its tokens (%1); they stay valid until "
                                                               "they expire")
                                                    .arg(revocationError.message())));
                }
                endOperation(op);
            });
        };
        if (provider.revocationEndpoint().isEmpty()) {
            // Nothing to revoke with: the tokens stay valid at the provider until they expire.
            qCDebug(lcSession) << "signing out without revocation: the provider has no revocation_endpoint";
            return remove(Error());
        }
        // Re-read under the lock: another process may have rotated the refresh token.
        readStore([this, op, held, remove](const Error &readError, const SessionRecord &storedRecord) {
            if (readError && readError.code() != Error::Code::NotFound)
                qCWarning(lcSession) << "re-reading the store before revocation failed:" << readError.code();
            const QList<Revocation> tokens = tokensToRevoke(readError ? SessionRecord() : storedRecord, held, now());
            qCDebug(lcSession) << "sign-out: revoking" << tokens.size() << "tokens (RFC 7009)";
            revokeInTurn(this, tokens, Error(), remove);
        });
    });
}

// A refresh result dropped because its grant is over (refresh.cpp: dropResult()) may carry a
// rotated refresh token that is stored nowhere but still live at the provider: revoke it
// (RFC 7009 §2.1), without waiting for the answer. The request dies with the session.
void SessionPrivate::revokeDroppedRefreshToken(const QByteArray &refreshToken)
{
    if (provider.revocationEndpoint().isEmpty()) {
        qCInfo(lcSession) << "a rotated refresh token of a finished grant was dropped; the provider has no "
                             "revocation_endpoint: it stays valid until it expires";
        return;
    }
    qCInfo(lcSession) << "a rotated refresh token of a finished grant was dropped; revoking it";
    RevocationJob *job = tokenClient->revoke(provider, client, refreshToken, RevocationJob::TokenTypeHint::RefreshToken);
    QObject::connect(job, &Job::finished, q, [job] {
        if (const Error e = job->error())
            qCWarning(lcSession) << "revoking a dropped refresh token failed:" << e.code();
        else
            qCDebug(lcSession) << "a dropped refresh token was revoked";
    });
    job->start();
}

} // namespace Keyloop
