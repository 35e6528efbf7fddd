// SPDX-License-Identifier: MIT
// Provider behaviour the SDK relies on, checked against the running devstack with the scripted
// browser: RFC 8252 loopback redirects on any port for 127.0.0.1, localhost and [::1]; PKCE S256
// required; refresh-token rotation where reuse revokes the grant; opaque tokens for userinfo.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';

import { authorizationUrl, devstack, loopbackListener, pkce, postForm, request, runHelper, withTimeout } from './common.mjs';

const ds = devstack();
const token = (fields) => postForm(`${ds.issuer}/token`, { client_id: ds.publicClientId, ...fields }, { ca: ds.ca });

async function signIn({ scope, resource, redirectHost = '127.0.0.1' } = {}) {
  const listener = await loopbackListener('/callback');
  try {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const redirectUri = listener.redirectUri.replace('127.0.0.1', redirectHost);
    const run = await runHelper('scripted-login.mjs', authorizationUrl(ds, { redirectUri, state, challenge, scope, resource }));
    assert.equal(run.code, 0, run.output);
    const params = await withTimeout(listener.callback, 5000, 'the redirect');
    assert.ok(params.get('state') === state);
    const res = await token({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri,
      code_verifier: verifier, ...(resource ? { resource } : {}) });
    assert.equal(res.status, 200, `code exchange: ${res.json?.error}`);
    return res.json;
  } finally {
    listener.close();
  }
}

test('loopback redirects match on any port for 127.0.0.1 and localhost (RFC 8252 §7.3)', async () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    const tokens = await signIn({ redirectHost: host });
    assert.ok(tokens.access_token, `no token via ${host}`);
  }
});

test('[::1] redirects match on any port too', async (t) => {
  let listener;
  try {
    listener = await loopbackListener('/callback', '::1');
  } catch {
    t.skip('no IPv6 loopback in this namespace');
    return;
  }
  try {
    const { verifier, challenge } = pkce();
    const run = await runHelper('scripted-login.mjs', authorizationUrl(ds, { redirectUri: listener.redirectUri, state: 's', challenge }));
    assert.equal(run.code, 0, run.output);
    const params = await withTimeout(listener.callback, 5000, 'the redirect');
    const res = await token({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: listener.redirectUri, code_verifier: verifier });
    assert.equal(res.status, 200);
  } finally {
    listener.close();
  }
});

test('an unregistered redirect path is refused', async () => {
  const url = authorizationUrl(ds, { redirectUri: 'http://127.0.0.1:4000/elsewhere', state: 's', challenge: pkce().challenge });
  const res = await request(url, { ca: ds.ca });
  assert.equal(res.status, 400);
});

test('PKCE: S256 required, plain and missing challenges refused', async () => {
  const u = new URL(authorizationUrl(ds, { redirectUri: 'http://127.0.0.1:4000/callback', state: 's', challenge: 'x'.repeat(43) }));
  u.searchParams.set('code_challenge_method', 'plain');
  let res = await request(u.href, { ca: ds.ca });
  assert.equal(res.status, 303);
  assert.equal(new URL(res.headers.location).searchParams.get('error'), 'invalid_request');
  u.searchParams.delete('code_challenge');
  u.searchParams.delete('code_challenge_method');
  res = await request(u.href, { ca: ds.ca });
  assert.equal(new URL(res.headers.location).searchParams.get('error'), 'invalid_request');
});

test('refresh tokens rotate; reusing an old one revokes the grant', async () => {
  const first = await signIn();
  const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
  assert.equal(second.status, 200);
  assert.ok(second.json.refresh_token && second.json.refresh_token !== first.refresh_token, 'refresh token did not rotate');
  const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  const after = await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token });
  assert.equal(after.json.error, 'invalid_grant', 'the rotated token must die with the grant');
});

// Session::freshIdToken() (`keyloop token --exec-credential`) refreshes without a resource, also
// after a sign-in for the API: the answer must carry a new ID token for the client (OIDC Core §12.2).
test('a refresh without resource after a sign-in for the API brings a new ID token', async () => {
  const first = await signIn({ scope: 'openid profile offline_access api:read', resource: ds.apiResource });
  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
  assert.equal(refreshed.status, 200, refreshed.json?.error);
  assert.ok(refreshed.json.id_token && refreshed.json.id_token !== first.id_token, 'no new ID token');
  const claims = JSON.parse(Buffer.from(refreshed.json.id_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.aud, ds.publicClientId);
  assert.equal(claims.sub, 'alice');
  assert.equal(refreshed.json.access_token.split('.').length, 1, 'without a resource the access token is opaque');
});

test('refresh tokens are issued even with prompt=login (offline_access dropped)', async () => {
  const listener = await loopbackListener('/callback');
  try {
    const { verifier, challenge } = pkce();
    const u = new URL(authorizationUrl(ds, { redirectUri: listener.redirectUri, state: 's', challenge }));
    u.searchParams.set('prompt', 'login');
    assert.equal((await runHelper('scripted-login.mjs', u.href)).code, 0);
    const params = await withTimeout(listener.callback, 5000, 'the redirect');
    const res = await token({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: listener.redirectUri, code_verifier: verifier });
    assert.equal(res.status, 200);
    assert.ok(res.json.refresh_token, 'no refresh token');
  } finally {
    listener.close();
  }
});

test('userinfo takes the opaque token; the API takes the resource token', async () => {
  const tokens = await signIn({ scope: 'openid profile email offline_access api:read', resource: ds.apiResource });
  assert.equal(tokens.access_token.split('.').length, 3, 'resource token should be a JWT');
  const api = await request(`${ds.api}/api/me`, { ca: ds.ca, headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(api.status, 200);
  assert.equal(api.json.sub, 'alice');
  const opaque = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(opaque.status, 200);
  assert.notEqual(opaque.json.access_token.split('.').length, 3, 'no resource → opaque token');
  const me = await request(`${ds.issuer}/me`, { ca: ds.ca, headers: { authorization: `Bearer ${opaque.json.access_token}` } });
  assert.equal(me.status, 200);
  assert.equal(me.json.sub, 'alice');
  assert.equal(me.json.preferred_username, 'alice');
  assert.equal(me.json.email, 'alice@keyloop.test');
});
