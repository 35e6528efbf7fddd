// SPDX-License-Identifier: MIT
// The admin endpoint changes the devstack for everyone, so this test runs alone (RUN_SERIAL):
// key rotation in place, access-token and ID-token lifetimes, revoke-all and reset.
import assert from 'node:assert/strict';
import test from 'node:test';

import { devstack, postForm, request } from './common.mjs';

const ds = devstack();
const admin = (path, body) => request(`${ds.admin}${path}`, body === undefined ? {} : {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const jwksKids = async () => (await request(`${ds.issuer}/jwks`, { ca: ds.ca })).json.keys.map((k) => k.kid);
const serviceToken = async () => (await postForm(`${ds.issuer}/token`,
  { grant_type: 'client_credentials', scope: 'api:read', resource: ds.apiResource },
  { ca: ds.ca, auth: [ds.serviceClientId, ds.serviceClientSecret] })).json.access_token;
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString());
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

test.after(async () => { await admin('/reset', {}); });

test('rotate-keys: new kids on the same issuer and port; old tokens stop verifying', async () => {
  const oldKids = await jwksKids();
  const oldToken = await serviceToken();
  const rotated = await admin('/rotate-keys', {});
  assert.equal(rotated.status, 200);
  const newKids = await jwksKids();
  assert.deepEqual(newKids, rotated.json.kids);
  assert.ok(newKids.every((kid) => !oldKids.includes(kid)), 'new kids must be unknown to cached JWKS');
  const discovery = await request(`${ds.issuer}/.well-known/openid-configuration`, { ca: ds.ca });
  assert.equal(discovery.json.issuer, ds.issuer);
  const newToken = await serviceToken();
  assert.ok(newKids.includes(header(newToken).kid), 'new tokens are signed with a new key');
  assert.equal((await request(`${ds.api}/api/items`, { ca: ds.ca, headers: { authorization: `Bearer ${newToken}` } })).status, 200);
  assert.equal((await request(`${ds.api}/api/items`, { ca: ds.ca, headers: { authorization: `Bearer ${oldToken}` } })).status, 401);
});

test('access-token-ttl sets the lifetime; bad input is refused', async () => {
  assert.equal((await admin('/access-token-ttl', { seconds: 7 })).status, 200);
  const jwt = await serviceToken();
  assert.equal(payload(jwt).exp - payload(jwt).iat, 7);
  assert.equal((await admin('/access-token-ttl', { seconds: 0 })).status, 400);
  assert.equal((await admin('/access-token-ttl', 'x')).status, 400);
});

test('id-token-ttl takes positive seconds; reset restores 3600 (tst_cli checks the tokens)', async () => {
  assert.equal((await admin('/id-token-ttl', { seconds: 5 })).status, 200);
  assert.equal((await admin('/id-token-ttl', { seconds: -1 })).status, 400);
  assert.equal((await admin('/id-token-ttl', {})).status, 400);
  const reset = await admin('/reset', {});
  assert.equal(reset.json.idTokenTtl, 3600);
});

test('reset restores keys, lifetime and counters', async () => {
  const res = await admin('/reset', {});
  assert.equal(res.status, 200);
  const jwt = await serviceToken();
  assert.equal(payload(jwt).exp - payload(jwt).iat, 2);
  const counters = (await admin('/counters')).json;
  assert.equal(counters.token, 1);
  assert.equal(counters.jwks, 0);
});

test('revoke-all forgets every grant', async () => {
  const tokenRes = await postForm(`${ds.issuer}/token`,
    { grant_type: 'client_credentials', scope: 'api:read' },
    { ca: ds.ca, auth: [ds.serviceClientId, ds.serviceClientSecret] });
  // Without a resource the client-credentials token is opaque: introspection sees it until revoke-all.
  const opaque = tokenRes.json.access_token;
  const introspect = () => postForm(`${ds.issuer}/token/introspection`, { token: opaque },
    { ca: ds.ca, auth: [ds.serviceClientId, ds.serviceClientSecret] });
  assert.equal((await introspect()).json.active, true);
  assert.equal((await admin('/revoke-all', {})).status, 200);
  assert.equal((await introspect()).json.active, false);
});

test('unknown admin routes: 404 JSON', async () => {
  const res = await admin('/nope');
  assert.equal(res.status, 404);
  assert.equal(res.json.error, 'not_found');
});
