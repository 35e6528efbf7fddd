// SPDX-License-Identifier: MIT
// A real sign-in through a browser helper: node browser_login.mjs chromium|scripted
//
// The test builds the authorization request itself (PKCE S256 challenge, state, nonce), listens
// on its own loopback port, lets the browser helper (headless Debian Chromium via playwright-core,
// or the scripted HTTP agent) complete the devstack's dev login, and asserts that the browser
// landed on its listener with a code, the state and the issuer (RFC 9207). It then redeems the
// code with the verifier to prove the code is real. Secrets are compared, never printed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import process from 'node:process';
import test from 'node:test';

import { authorizationUrl, devstack, loopbackListener, pkce, postForm, runHelper, withTimeout } from './common.mjs';

const kind = process.argv[2];
const helper = { chromium: 'chromium-login.mjs', scripted: 'scripted-login.mjs' }[kind];
if (!helper) {
  process.stderr.write('usage: browser_login.mjs chromium|scripted\n');
  process.exit(2);
}
const ds = devstack();

async function signIn({ user, host = '127.0.0.1' } = {}) {
  const listener = await loopbackListener('/callback');
  try {
    const { verifier, challenge } = pkce();
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const redirectUri = listener.redirectUri.replace('127.0.0.1', host);
    const url = authorizationUrl(ds, { redirectUri, state, challenge, nonce });
    const env = user ? { KEYLOOP_TEST_USER: user } : {};
    const run = await runHelper(helper, url, env);
    assert.equal(run.code, 0, `${helper} failed: ${run.output.trim()}`);
    const params = await withTimeout(listener.callback, 5000, 'the redirect on the loopback listener');
    assert.equal(params.get('error'), null, `authorization error: ${params.get('error')}`);
    assert.ok(params.get('state') === state, 'state does not round-trip');
    assert.ok((params.get('code') ?? '').length > 0, 'no code in the redirect');
    assert.equal(params.get('iss'), ds.issuer, 'RFC 9207 iss missing or wrong');

    const token = await postForm(`${ds.issuer}/token`, {
      grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri,
      client_id: ds.publicClientId, code_verifier: verifier,
    }, { ca: ds.ca });
    assert.equal(token.status, 200, `code exchange failed: ${token.json?.error}`);
    assert.ok(token.json.refresh_token, 'no refresh token for keyloop-demo');
    const claims = JSON.parse(Buffer.from(token.json.id_token.split('.')[1], 'base64url').toString());
    assert.ok(claims.nonce === nonce, 'nonce does not round-trip');
    return claims;
  } finally {
    listener.close();
  }
}

test(`${kind}: the dev login lands on the test's loopback listener`, async () => {
  const claims = await signIn();
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.iss, ds.issuer);
  assert.equal(claims.aud, ds.publicClientId);
});

test(`${kind}: KEYLOOP_TEST_USER picks the account`, async () => {
  const claims = await signIn({ user: 'bob' });
  assert.equal(claims.sub, 'bob');
});

test(`${kind}: the cancel path delivers access_denied to the app`, async () => {
  const listener = await loopbackListener('/callback');
  try {
    const url = authorizationUrl(ds, { redirectUri: listener.redirectUri, state: 's', challenge: pkce().challenge });
    const run = await runHelper(helper, url, { KEYLOOP_LOGIN_ACTION: 'cancel' });
    assert.equal(run.code, 0, `${helper} failed: ${run.output.trim()}`);
    const params = await withTimeout(listener.callback, 5000, 'the redirect on the loopback listener');
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('code'), null);
  } finally {
    listener.close();
  }
});
