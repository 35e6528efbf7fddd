// SPDX-License-Identifier: MIT
// The protected API validates the provider's JWT access tokens (RFC 9068): signature, iss, aud,
// exp (2-second tokens in the sandbox, no clock tolerance) and scope (RFC 6750 §3.1 errors).
import assert from 'node:assert/strict';
import test from 'node:test';

import { devstack, postForm, request } from './common.mjs';

const ds = devstack();

async function serviceToken(scope) {
  const res = await postForm(`${ds.issuer}/token`, { grant_type: 'client_credentials', scope, resource: ds.apiResource },
    { ca: ds.ca, auth: [ds.serviceClientId, ds.serviceClientSecret] });
  assert.equal(res.status, 200, `client_credentials failed: ${res.json?.error}`);
  assert.equal(res.json.token_type, 'Bearer');
  return res.json;
}

function api(path, token, method = 'GET') {
  return request(`${ds.api}${path}`, { method, ca: ds.ca, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

test('a JWT access token for the API reads items', async () => {
  const token = await serviceToken('api:read');
  assert.equal(token.access_token.split('.').length, 3, 'expected a JWT access token');
  const payload = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url').toString());
  assert.equal(payload.aud, ds.apiResource);
  assert.equal(payload.iss, ds.issuer);
  assert.equal(payload.exp - payload.iat, 2, 'the sandbox devstack issues 2-second access tokens');
  const items = await api('/api/items', token.access_token);
  assert.equal(items.status, 200);
  assert.ok(Array.isArray(items.json.items) && items.json.items.length > 0);
  const me = await api('/api/me', token.access_token);
  assert.equal(me.status, 200);
  assert.deepEqual(me.json.scopes, ['api:read']);
});

test('no token: 401 with a bare Bearer challenge', async () => {
  const res = await api('/api/items');
  assert.equal(res.status, 401);
  assert.match(res.headers['www-authenticate'], /^Bearer realm="keyloop-api"$/);
});

test('a forged token: 401 invalid_token', async () => {
  const token = await serviceToken('api:read');
  const [h, p] = token.access_token.split('.');
  const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
  const res = await api('/api/items', forged);
  assert.equal(res.status, 401);
  assert.match(res.headers['www-authenticate'], /error="invalid_token"/);
});

test('missing scope: 403 insufficient_scope', async () => {
  const token = await serviceToken('api:read');
  const res = await api('/api/items', token.access_token, 'POST');
  assert.equal(res.status, 403);
  assert.match(res.headers['www-authenticate'], /error="insufficient_scope"/);
  assert.match(res.headers['www-authenticate'], /scope="api:write"/);
});

test('an expired token is rejected without tolerance', async () => {
  const token = await serviceToken('api:read');
  const { exp } = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url').toString());
  assert.equal((await api('/api/items', token.access_token)).status, 200);
  // Poll until the API says 401 (at most 5 s); it must not still accept after exp.
  const deadline = Date.now() + 5000;
  let status = 200;
  while (status === 200 && Date.now() < deadline) {
    await new Promise((r) => { setTimeout(r, 100); });
    status = (await api('/api/items', token.access_token)).status;
  }
  assert.equal(status, 401);
  assert.ok(Date.now() / 1000 >= exp - 1, 'rejected before it expired');
});

test('the API counter counts', async () => {
  const before = (await request(`${ds.admin}/counters`)).json.api;
  await api('/api/items');
  assert.ok((await request(`${ds.admin}/counters`)).json.api > before);
});
