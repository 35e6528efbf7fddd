// SPDX-License-Identifier: MIT
// The devstack's device authorization grant (RFC 8628) and pushed authorization requests
// (RFC 9126), driven over plain HTTP requests as a client would, with scripted-device.mjs and
// scripted-login.mjs as the user. It changes devstack settings and reads the counters and the
// device poll log, so it runs alone (RUN_SERIAL). Waits are the protocol's own: the poll interval
// (1 s here) and lifetimes of 1 s. No code, token or user code is ever printed.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import test from 'node:test';

import { authorizationUrl, devstack, loopbackListener, pkce, postForm, request, runHelper, withTimeout } from './common.mjs';

const ds = devstack();
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

const admin = (path, body) => request(`${ds.admin}${path}`, body === undefined ? {} : {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
});
const discovery = async () => (await request(`${ds.issuer}/.well-known/openid-configuration`, { ca: ds.ca })).json;
const counters = async () => (await admin('/counters')).json;
const pollLog = async () => (await admin('/device-polls')).json;
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const logId = (deviceCode) => createHash('sha256').update(deviceCode).digest('hex').slice(0, 8);
const isJwt = (token) => token.split('.').length === 3;

async function deviceAuthorization(fields) {
  const res = await postForm(`${ds.issuer}/device/auth`, { client_id: ds.publicClientId, ...fields }, { ca: ds.ca });
  assert.equal(res.status, 200, `device authorization: ${res.json?.error}`);
  return res.json;
}

function poll(deviceCode, fields = {}) {
  return postForm(`${ds.issuer}/token`, { client_id: ds.publicClientId, grant_type: DEVICE_GRANT, device_code: deviceCode, ...fields }, { ca: ds.ca });
}

function approve(args, env = {}) {
  return runHelper('scripted-device.mjs', args, env);
}

function assertQuiet(run, ...secrets) {
  for (const secret of secrets) assert.ok(!run.output.includes(secret), 'the helper printed a secret');
}

test.before(async () => {
  assert.equal((await admin('/reset', {})).status, 200);
  assert.deepEqual((await admin('/device-flow', { interval: 1 })).json, { interval: 1, codeTtl: 600, minInterval: 0 });
});

test.after(async () => { await admin('/reset', {}); });

test('discovery advertises the device authorization endpoint and PAR (not required)', async () => {
  const meta = await discovery();
  assert.equal(meta.device_authorization_endpoint, `${ds.issuer}/device/auth`);
  assert.ok(meta.grant_types_supported.includes(DEVICE_GRANT));
  assert.equal(meta.pushed_authorization_request_endpoint, `${ds.issuer}/request`);
  assert.equal(meta.require_pushed_authorization_requests, undefined);
});

test('device flow: approve → ID token, refresh token and a JWT the API accepts (resource at both requests)', async () => {
  await admin('/counters/reset', {});
  await admin('/device-polls/reset', {});
  const da = await deviceAuthorization({ scope: 'openid profile email offline_access api:read', resource: ds.apiResource });
  assert.equal(da.verification_uri, `${ds.issuer}/device`);
  assert.equal(new URL(da.verification_uri_complete).searchParams.get('user_code'), da.user_code);
  assert.equal(da.expires_in, 600);
  assert.equal(da.interval, 1);

  const pending = await poll(da.device_code, { resource: ds.apiResource });
  assert.equal(pending.status, 400);
  assert.equal(pending.json.error, 'authorization_pending');

  const run = await approve([da.verification_uri_complete]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /approved the device sign-in as alice/);
  assertQuiet(run, da.user_code, da.device_code);

  await delay(da.interval * 1000);
  const res = await poll(da.device_code, { resource: ds.apiResource });
  assert.equal(res.status, 200, `device token: ${res.json?.error}`);
  const idToken = claimsOf(res.json.id_token);
  assert.equal(idToken.aud, ds.publicClientId);
  assert.equal(idToken.iss, ds.issuer);
  assert.equal(idToken.sub, 'alice');
  assert.ok(res.json.refresh_token, 'no refresh token');
  assert.ok(isJwt(res.json.access_token), 'the resource token should be a JWT');
  const api = await request(`${ds.api}/api/me`, { ca: ds.ca, headers: { authorization: `Bearer ${res.json.access_token}` } });
  assert.equal(api.status, 200);
  assert.equal(api.json.sub, 'alice');

  const refresh = (refreshToken) => postForm(`${ds.issuer}/token`, { client_id: ds.publicClientId,
    grant_type: 'refresh_token', refresh_token: refreshToken, resource: ds.apiResource }, { ca: ds.ca });
  const refreshed = await refresh(res.json.refresh_token);
  assert.equal(refreshed.status, 200);
  assert.ok(isJwt(refreshed.json.access_token), 'refresh with the resource gives an API token too');

  // A device code is good for one token response; polling it again (a replay) is invalid_grant and
  // makes oidc-provider revoke the whole grant, refresh tokens included (as for a reused code).
  await delay(da.interval * 1000);
  const again = await poll(da.device_code);
  assert.equal(again.json.error, 'invalid_grant');
  assert.equal((await refresh(refreshed.json.refresh_token)).json.error, 'invalid_grant', 'the grant is revoked');

  const c = await counters();
  assert.equal(c.deviceAuthorization, 1);
  assert.equal(c.deviceToken, 3);
  assert.equal(c.token, 5);
  assert.equal(c.refresh, 2);
  const log = await pollLog();
  assert.deepEqual(log.map((e) => e.result), ['authorization_pending', 'success', 'invalid_grant']);
  assert.ok(log.every((e) => e.device === logId(da.device_code)));
  assert.ok(log[1].at - log[0].at >= 900, 'the client waited the interval');
});

test('device flow: the resource is fixed at the device authorization request (RFC 8707)', async () => {
  // Named only there: no resource at the token request gives the opaque token for userinfo.
  let da = await deviceAuthorization({ scope: 'openid api:read', resource: ds.apiResource });
  let run = await approve([da.verification_uri, da.user_code], { KEYLOOP_TEST_USER: 'bob' });
  assert.equal(run.code, 0, run.output);
  assertQuiet(run, da.user_code);
  let res = await poll(da.device_code);
  assert.equal(res.status, 200);
  assert.ok(!isJwt(res.json.access_token), 'no resource at the token request → opaque token');
  const me = await request(`${ds.issuer}/me`, { ca: ds.ca, headers: { authorization: `Bearer ${res.json.access_token}` } });
  assert.equal(me.status, 200);
  assert.equal(me.json.sub, 'bob');

  // Named only at the token request: invalid_target, and the device code is spent.
  da = await deviceAuthorization({ scope: 'openid api:read' });
  run = await approve([da.verification_uri_complete]);
  assert.equal(run.code, 0, run.output);
  res = await poll(da.device_code, { resource: ds.apiResource });
  assert.equal(res.status, 400);
  assert.equal(res.json.error, 'invalid_target');
  await delay(da.interval * 1000);
  assert.equal((await poll(da.device_code)).json.error, 'invalid_grant');
});

test('device flow: Deny → access_denied; the code cannot be approved afterwards', async () => {
  const da = await deviceAuthorization({ scope: 'openid' });
  const run = await approve([da.verification_uri, da.user_code], { KEYLOOP_DEVICE_ACTION: 'deny' });
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /denied the device sign-in/);
  const res = await poll(da.device_code);
  assert.equal(res.status, 400);
  assert.equal(res.json.error, 'access_denied');
  const late = await approve([da.verification_uri_complete]);
  assert.equal(late.code, 1);
  assert.match(late.output, /already been used/);
  assertQuiet(late, da.user_code);
});

test('device flow: a short codeTtl → expired_token; the user is told the code expired', async () => {
  assert.deepEqual((await admin('/device-flow', { codeTtl: 1 })).json, { interval: 1, codeTtl: 1, minInterval: 0 });
  try {
    const da = await deviceAuthorization({ scope: 'openid' });
    assert.equal(da.expires_in, 1);
    let res;
    for (let i = 0; i < 4; i += 1) { // polled at the interval until the code has expired
      res = await poll(da.device_code);
      if (res.json.error !== 'authorization_pending') break;
      await delay(da.interval * 1000);
    }
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'expired_token');
    const run = await approve([da.verification_uri_complete]);
    assert.equal(run.code, 1);
    assert.match(run.output, /expired/);
  } finally {
    await admin('/device-flow', { codeTtl: 600 });
  }
});

test('device flow: polling faster than the interval → slow_down, and 5 s more from then on (RFC 8628 §3.5)', async () => {
  await admin('/device-polls/reset', {});
  const da = await deviceAuthorization({ scope: 'openid' });
  assert.equal((await poll(da.device_code)).json.error, 'authorization_pending');
  assert.equal((await poll(da.device_code)).json.error, 'slow_down');
  await delay((da.interval + 5) * 1000);
  assert.equal((await poll(da.device_code)).json.error, 'authorization_pending');

  const log = await pollLog();
  assert.deepEqual(log.map((e) => e.result), ['authorization_pending', 'slow_down', 'authorization_pending']);
  assert.ok(log.every((e) => e.device === logId(da.device_code) && Number.isFinite(e.at)));
  assert.ok(log[1].at - log[0].at < 900, 'the second poll came right after the first');
  assert.ok(log[2].at - log[1].at >= 5400, 'the third waited interval + 5 s');
  assert.ok(!JSON.stringify(log).includes(da.device_code), 'the poll log never holds the device code');
  assert.deepEqual((await admin('/device-polls/reset', {})).json, []);
  assert.deepEqual(await pollLog(), []);
});

test('device flow: minInterval paces codes already issued (a provider under load)', async () => {
  const da = await deviceAuthorization({ scope: 'openid' });
  assert.equal(da.interval, 1);
  assert.equal((await poll(da.device_code)).json.error, 'authorization_pending');
  try {
    await admin('/device-flow', { minInterval: 3 });
    await delay(1200); // the 1 s this code was issued with, but not the 3 s asked for now
    assert.equal((await poll(da.device_code)).json.error, 'slow_down');
    await delay(6000); // the client's 1 s + 5 s (§3.5) is more than the 3 s: accepted
    assert.equal((await poll(da.device_code)).json.error, 'authorization_pending');
  } finally {
    await admin('/device-flow', { minInterval: 0 });
  }
});

test('admin: bad device-flow and PAR settings are refused; reset restores the defaults', async () => {
  for (const body of [{}, { interval: 0 }, { interval: 1.5 }, { codeTtl: '5' }, { minInterval: -1 }, { other: 1 }, 'x', [1]]) {
    assert.equal((await admin('/device-flow', body)).status, 400, JSON.stringify(body));
  }
  for (const body of [{}, { required: 'yes' }, { requestUriTtl: 0 }, { other: true }]) {
    assert.equal((await admin('/par', body)).status, 400, JSON.stringify(body));
  }
  await admin('/device-flow', { interval: 2, codeTtl: 30, minInterval: 9 });
  await admin('/par', { required: true, requestUriTtl: 5 });
  const reset = await admin('/reset', {});
  assert.deepEqual(reset.json.deviceFlow, { interval: 5, codeTtl: 600, minInterval: 0 });
  assert.deepEqual(reset.json.par, { required: false, requestUriTtl: 60 });
  assert.equal((await discovery()).require_pushed_authorization_requests, undefined);
  const da = await deviceAuthorization({ scope: 'openid' });
  assert.equal(da.interval, 5);
  assert.equal(da.expires_in, 600);
  assert.deepEqual(await pollLog(), []);
  await admin('/device-flow', { interval: 1 });
});

// --- PAR ---

async function push(fields) {
  return postForm(`${ds.issuer}/request`, { client_id: ds.publicClientId, ...fields }, { ca: ds.ca });
}

function parAuthorizationUrl(requestUri) {
  const u = new URL('/auth', ds.issuer);
  u.searchParams.set('client_id', ds.publicClientId);
  u.searchParams.set('request_uri', requestUri);
  return u.href;
}

function authorizationFields({ redirectUri, state, challenge }) {
  return Object.fromEntries(new URL(authorizationUrl(ds, { redirectUri, state, challenge, scope: 'openid' })).searchParams);
}

test('PAR: a public client pushes (PKCE, no client auth), signs in with request_uri and redeems the code', async () => {
  await admin('/counters/reset', {});
  const listener = await loopbackListener('/callback');
  try {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const fields = authorizationFields({ redirectUri: listener.redirectUri, state, challenge });
    const pushed = await push(fields);
    assert.equal(pushed.status, 201, `push: ${pushed.json?.error}`);
    assert.ok(pushed.json.request_uri.startsWith(REQUEST_URI_PREFIX));
    assert.equal(pushed.json.expires_in, 60);

    const run = await runHelper('scripted-login.mjs', parAuthorizationUrl(pushed.json.request_uri));
    assert.equal(run.code, 0, run.output);
    const params = await withTimeout(listener.callback, 5000, 'the redirect');
    assert.ok(params.get('state') === state, 'state does not round-trip');
    const res = await postForm(`${ds.issuer}/token`, { client_id: ds.publicClientId, grant_type: 'authorization_code',
      code: params.get('code'), redirect_uri: listener.redirectUri, code_verifier: verifier }, { ca: ds.ca });
    assert.equal(res.status, 200, `code exchange: ${res.json?.error}`);
    assert.equal(claimsOf(res.json.id_token).aud, ds.publicClientId);

    const reused = await request(parAuthorizationUrl(pushed.json.request_uri), { ca: ds.ca });
    assert.equal(reused.status, 400);
    assert.match(reused.text, /invalid_request_uri/);
    const { code_challenge: _c, code_challenge_method: _m, ...withoutPkce } = fields;
    const noPkce = await push(withoutPkce);
    assert.equal(noPkce.status, 400);
    assert.equal(noPkce.json.error, 'invalid_request');
    assert.equal((await counters()).par, 2);
  } finally {
    listener.close();
  }
});

test('PAR required: discovery says so and /auth without request_uri is refused (RFC 9126 §5)', async () => {
  const fields = authorizationFields({ redirectUri: 'http://127.0.0.1:4000/callback', state: 's', challenge: pkce().challenge });
  const plain = `${ds.issuer}/auth?${new URLSearchParams(fields)}`;
  assert.deepEqual((await admin('/par', { required: true })).json, { required: true, requestUriTtl: 60 });
  try {
    assert.equal((await discovery()).require_pushed_authorization_requests, true);
    const refused = await request(plain, { ca: ds.ca });
    assert.equal(refused.status, 303);
    const location = new URL(refused.headers.location);
    assert.equal(`${location.origin}${location.pathname}`, 'http://127.0.0.1:4000/callback');
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.equal(location.searchParams.get('code'), null);

    const pushed = await push(fields);
    assert.equal(pushed.status, 201);
    const accepted = await request(parAuthorizationUrl(pushed.json.request_uri), { ca: ds.ca });
    assert.equal(accepted.status, 303);
    assert.match(accepted.headers.location, /^\/interaction\//, 'a pushed request goes on to the login');
  } finally {
    assert.deepEqual((await admin('/par', { required: false })).json, { required: false, requestUriTtl: 60 });
  }
  assert.equal((await discovery()).require_pushed_authorization_requests, undefined);
  const allowed = await request(plain, { ca: ds.ca });
  assert.equal(allowed.status, 303);
  assert.match(allowed.headers.location, /^\/interaction\//);
});

test('PAR: the request_uri lifetime is settable, shorter and longer than oidc-provider\'s 60 s', async () => {
  const fields = authorizationFields({ redirectUri: 'http://127.0.0.1:4000/callback', state: 's', challenge: pkce().challenge });
  try {
    await admin('/par', { requestUriTtl: 1 });
    let pushed = await push(fields);
    assert.equal(pushed.json.expires_in, 1);
    await delay(2000); // the lifetime, rounded up to whole seconds
    const expired = await request(parAuthorizationUrl(pushed.json.request_uri), { ca: ds.ca });
    assert.equal(expired.status, 400);
    assert.match(expired.text, /invalid_request_uri/);

    await admin('/par', { requestUriTtl: 90 });
    pushed = await push(fields);
    assert.equal(pushed.json.expires_in, 90);
    const accepted = await request(parAuthorizationUrl(pushed.json.request_uri), { ca: ds.ca });
    assert.equal(accepted.status, 303);
    assert.match(accepted.headers.location, /^\/interaction\//);
  } finally {
    await admin('/par', { requestUriTtl: 60 });
  }
});

test('scripted-device: usage errors and non-loopback URIs are refused', async () => {
  assert.equal((await approve([])).code, 2);
  assert.equal((await approve(['a', 'b', 'c'])).code, 2);
  const remote = await approve(['https://example.com/device?user_code=ABCD-EFGH']);
  assert.equal(remote.code, 1);
  assert.match(remote.output, /non-loopback/);
  assert.ok(!remote.output.includes('ABCD-EFGH'));
  const unknown = await approve([`${ds.issuer}/device`, 'BCDF-GHJK']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.output, /does not know this user code/);
});
