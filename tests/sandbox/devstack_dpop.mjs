// SPDX-License-Identifier: MIT
// DPoP (RFC 9449) in the devstack, as the SDK relies on it: the token endpoint binds tokens to the
// proof's key (token_type DPoP, cnf.jkt; a public client's refresh token too), and the protected
// API checks every proof (§4.3, §7.1), refuses replays, wrong htu/htm/ath, another key and a bound
// token sent as Bearer (§7.2), and asks for nonces when told to (§8, §9). Proofs are made here with
// jose, as a hostile client could make them. It changes the devstack's DPoP setting and token
// lifetime and reads the counters, so it runs alone (RUN_SERIAL). No token, proof or nonce is printed.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';
import { pathToFileURL } from 'node:url';

import { authorizationUrl, devstack, loopbackListener, pkce, request, runHelper, sourceDir, withTimeout } from './common.mjs';

// jose comes with the devstack's npm packages.
const requireFromDevstack = createRequire(path.join(sourceDir(), 'demo-app/devstack/package.json'));
const { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } = await import(pathToFileURL(requireFromDevstack.resolve('jose')).href);

const ds = devstack();
const tokenEndpoint = `${ds.issuer}/token`;
const meUrl = `${ds.api}/api/me`;

const admin = (p, body) => request(`${ds.admin}${p}`, body === undefined ? {} : {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
});
const counters = async () => (await admin('/counters')).json;
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const ath = (token) => createHash('sha256').update(token, 'ascii').digest('base64url');

/** A DPoP key pair: the private key, its public JWK and the RFC 7638 thumbprint. */
async function dpopKey(alg = 'ES256') {
  // Extractable only so that one test can put the private JWK where the public one belongs.
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/**
 * A DPoP proof (RFC 9449 §4.2). `claims` are added to / override htm, htu, iat, jti; `header`
 * overrides typ, alg, jwk; `signWith` signs with another key than the one in the header.
 */
function proof(key, { htm, htu, accessToken, nonce, claims = {}, header = {}, signWith } = {}) {
  const payload = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...claims };
  if (accessToken !== undefined) payload.ath = ath(accessToken);
  if (nonce !== undefined) payload.nonce = nonce;
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header })
    .sign((signWith ?? key).privateKey);
}

/** POST to the token endpoint, with a DPoP proof when `dpop` is given. */
function tokenRequest(fields, { dpop, basic } = {}) {
  const body = new URLSearchParams(fields).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  if (dpop) headers.dpop = dpop;
  return request(tokenEndpoint, { method: 'POST', headers, body, ca: ds.ca });
}

/** A client_credentials token for the API from keyloop-service, bound to `key` when given. */
async function serviceToken(key, { nonce, scope = 'api:read' } = {}) {
  const dpop = key ? await proof(key, { htm: 'POST', htu: tokenEndpoint, nonce }) : undefined;
  return tokenRequest({ grant_type: 'client_credentials', scope, resource: ds.apiResource },
    { dpop, basic: [ds.serviceClientId, ds.serviceClientSecret] });
}

async function boundToken(key) {
  const res = await serviceToken(key);
  assert.equal(res.status, 200, `client_credentials with DPoP: ${res.json?.error}`);
  return res.json;
}

/** An API request; `scheme` DPoP (default when a proof is given) or Bearer; `dpop` one proof or a list. */
function api(url, token, { method = 'GET', dpop, scheme = dpop === undefined ? 'Bearer' : 'DPoP' } = {}) {
  const headers = { authorization: `${scheme} ${token}` };
  if (dpop !== undefined) headers.dpop = dpop;
  return request(url, { method, headers, ca: ds.ca });
}

/** A correct proof for a request to the API with this token. */
const apiProof = (key, token, { htm = 'GET', htu = meUrl, ...rest } = {}) => proof(key, { htm, htu, accessToken: token, ...rest });

function assertRefused(res, error, description) {
  assert.equal(res.status, 401);
  const challenge = res.headers['www-authenticate'];
  assert.match(challenge, /^DPoP /, 'a DPoP challenge');
  assert.ok(challenge.includes(`error="${error}"`), `expected error="${error}" in the challenge, got ${challenge}`);
  assert.ok(challenge.includes(`error_description="${description}"`), `expected "${description}" in the challenge, got ${challenge}`);
  assert.equal(res.json.error, error);
  assert.equal(res.json.error_description, description);
}

test.before(async () => {
  assert.equal((await admin('/reset', {})).status, 200);
  // The sandbox's 2-second access tokens would expire between the steps of a test.
  assert.equal((await admin('/access-token-ttl', { seconds: 300 })).status, 200);
});

test.after(async () => { await admin('/reset', {}); });

test('discovery names the proof algorithms the API accepts', async () => {
  const meta = (await request(`${ds.issuer}/.well-known/openid-configuration`, { ca: ds.ca })).json;
  assert.deepEqual(meta.dpop_signing_alg_values_supported, ['ES256', 'EdDSA']);
});

test('a proof at the token endpoint → token_type DPoP, a JWT with cnf.jkt; the API takes it with a proof', async () => {
  await admin('/counters/reset', {});
  const key = await dpopKey();
  const res = await serviceToken(key);
  assert.equal(res.status, 200, `client_credentials with DPoP: ${res.json?.error}`);
  const tokens = res.json;
  assert.equal(tokens.token_type, 'DPoP');
  // oidc-provider hands out a nonce whenever it has a nonceSecret; a proof may carry it.
  const asNonce = res.headers['dpop-nonce'];
  assert.ok(typeof asNonce === 'string' && asNonce.length > 0, 'a DPoP-Nonce from the token endpoint');
  const withNonce = await serviceToken(key, { nonce: asNonce });
  assert.equal(withNonce.status, 200);
  assert.equal(withNonce.headers['dpop-nonce'], undefined, 'no new nonce for a proof with the current one');
  const claims = claimsOf(tokens.access_token);
  assert.equal(claims.aud, ds.apiResource);
  assert.deepEqual(claims.cnf, { jkt: key.jkt });

  const me = await api(meUrl, tokens.access_token, { dpop: await apiProof(key, tokens.access_token) });
  assert.equal(me.status, 200, me.headers['www-authenticate']);
  assert.equal(me.json.token_type, 'DPoP');
  assert.equal(me.json.jkt, key.jkt);
  assert.equal(me.json.client_id, ds.serviceClientId);
  assert.equal(me.headers['dpop-nonce'], undefined, 'no nonce while none is required');

  // Another route and method: htm and htu follow the request.
  const items = `${ds.api}/api/items`;
  const write = await boundToken(key).then((t) => t.access_token);
  assert.equal((await api(items, write, { dpop: await apiProof(key, write, { htu: items }) })).status, 200);
  const post = await api(items, write, { method: 'POST', dpop: await apiProof(key, write, { htm: 'POST', htu: items }) });
  assert.equal(post.status, 403, 'api:read only');
  assert.match(post.headers['www-authenticate'], /^DPoP .*error="insufficient_scope"/);

  const c = await counters();
  assert.equal(c.apiDpop, 3);
  assert.equal(c.apiDpopRejected, 0);
  assert.equal(c.apiDpopNonceChallenges, 0);
});

test('an EdDSA (Ed25519) key works as well', async () => {
  const key = await dpopKey('EdDSA');
  const tokens = await boundToken(key);
  assert.equal(tokens.token_type, 'DPoP');
  assert.equal(claimsOf(tokens.access_token).cnf.jkt, key.jkt);
  const me = await api(meUrl, tokens.access_token, { dpop: await apiProof(key, tokens.access_token) });
  assert.equal(me.status, 200);
  assert.equal(me.json.jkt, key.jkt);
});

test('htu is compared without query and fragment, after RFC 3986 normalisation', async () => {
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  const { port } = new URL(ds.api);
  for (const htu of [`${meUrl}?x=1#frag`, `${ds.api.replace(/^https/, 'HTTPS')}/api/%6De`, `${ds.api}/api/./me`]) {
    const res = await request(`${meUrl}?query=ignored`, { ca: ds.ca, headers: { authorization: `DPoP ${token}`, dpop: await apiProof(key, token, { htu }) } });
    assert.equal(res.status, 200, `htu variant refused: ${res.headers['www-authenticate']}`);
  }
  // A client that names the API as localhost signs that authority (RFC 9449 §4.3 check 9).
  const viaLocalhost = `https://localhost:${port}/api/me`;
  const res = await request(meUrl, { ca: ds.ca, headers: { host: `localhost:${port}`, authorization: `DPoP ${token}`, dpop: await apiProof(key, token, { htu: viaLocalhost }) } });
  assert.equal(res.status, 200);
});

test('a replayed proof is refused (replayed jti)', async () => {
  await admin('/counters/reset', {});
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  const once = await apiProof(key, token);
  assert.equal((await api(meUrl, token, { dpop: once })).status, 200);
  assertRefused(await api(meUrl, token, { dpop: once }), 'invalid_dpop_proof', 'replayed jti');
  // The same jti in a new proof is a replay too.
  const jti = randomUUID();
  assert.equal((await api(meUrl, token, { dpop: await apiProof(key, token, { claims: { jti } }) })).status, 200);
  assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { claims: { jti } }) }), 'invalid_dpop_proof', 'replayed jti');
  const c = await counters();
  assert.equal(c.apiDpop, 2);
  assert.equal(c.apiDpopRejected, 2);
});

test('a wrong htu, a wrong htm or a wrong ath is refused', async () => {
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  const other = await boundToken(key).then((t) => t.access_token);
  const { port } = new URL(ds.api);
  for (const htu of [`${ds.api}/api/items`, `${ds.issuer}/api/me`, `https://127.0.0.1:${Number(port) + 1}/api/me`,
    `http://127.0.0.1:${port}/api/me`, `https://user@127.0.0.1:${port}/api/me`, 'not a url', `${meUrl}/`]) {
    assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { htu }) }), 'invalid_dpop_proof', 'htu mismatch');
  }
  for (const htm of ['POST', 'get', 'HEAD']) {
    assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { htm }) }), 'invalid_dpop_proof', 'htm mismatch');
  }
  // ath of another token of the same key, and no ath at all.
  assertRefused(await api(meUrl, token, { dpop: await apiProof(key, other) }), 'invalid_dpop_proof', 'ath mismatch');
  const noAth = await proof(key, { htm: 'GET', htu: meUrl });
  assertRefused(await api(meUrl, token, { dpop: noAth }), 'invalid_dpop_proof', 'missing ath');
  // The refused proofs did not use up anything: a correct one still passes.
  assert.equal((await api(meUrl, token, { dpop: await apiProof(key, token) })).status, 200);
});

test('a token presented with another key is refused; so is a signature by another key than the jwk', async () => {
  const key = await dpopKey();
  const stranger = await dpopKey();
  const { access_token: token } = await boundToken(key);
  assertRefused(await api(meUrl, token, { dpop: await apiProof(stranger, token) }), 'invalid_token', "key does not match the token's cnf.jkt");
  assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { signWith: stranger }) }), 'invalid_dpop_proof', 'bad signature');
});

test('a DPoP-bound token presented as Bearer is refused (RFC 9449 §7.2)', async () => {
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  for (const dpop of [undefined, await apiProof(key, token)]) {
    const res = await api(meUrl, token, { scheme: 'Bearer', dpop });
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'DPoP error="invalid_token", error_description="DPoP-bound token presented as Bearer"');
    assert.equal(res.json.error, 'invalid_token');
  }
});

test('malformed proofs: missing, two, private key, iat, typ, alg; an unbound token with the DPoP scheme', async () => {
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  assertRefused(await api(meUrl, token, { scheme: 'DPoP' }), 'invalid_dpop_proof', 'missing DPoP proof');
  assertRefused(await api(meUrl, token, { dpop: [await apiProof(key, token), await apiProof(key, token)] }), 'invalid_dpop_proof', 'more than one DPoP proof');
  const privateJwk = await exportJWK(key.privateKey);
  assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { header: { jwk: privateJwk } }) }), 'invalid_dpop_proof', 'private key in proof header');
  const now = Math.floor(Date.now() / 1000);
  for (const iat of [now - 120, now + 120]) {
    assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { claims: { iat } }) }), 'invalid_dpop_proof', 'iat out of range');
  }
  assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { header: { typ: 'JWT' } }) }), 'invalid_dpop_proof', 'typ is not dpop+jwt');
  const hs = await new SignJWT({ htm: 'GET', htu: meUrl, iat: now, jti: randomUUID(), ath: ath(token) })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: randomBytes(32).toString('base64url') } })
    .sign(randomBytes(32));
  assertRefused(await api(meUrl, token, { dpop: hs }), 'invalid_dpop_proof', 'unsupported alg');
  const [h, p] = (await apiProof(key, token)).split('.');
  assertRefused(await api(meUrl, token, { dpop: `${h}.${p}.${Buffer.from('x'.repeat(64)).toString('base64url')}` }), 'invalid_dpop_proof', 'bad signature');
  assertRefused(await api(meUrl, token, { dpop: 'not.a.proof' }), 'invalid_dpop_proof', 'malformed proof');

  const bearer = await serviceToken(undefined);
  assert.equal(bearer.json.token_type, 'Bearer');
  assertRefused(await api(meUrl, bearer.json.access_token, { dpop: await apiProof(key, bearer.json.access_token) }), 'invalid_token', 'token is not DPoP-bound');
  const challenge = (await api(meUrl, 'x.y.z', { dpop: await apiProof(key, 'x.y.z') })).headers['www-authenticate'];
  assert.match(challenge, /^DPoP algs="ES256 EdDSA", error="invalid_token", error_description="/);
});

test('a plain Bearer token (no proof at the token endpoint) still works as before', async () => {
  const res = await serviceToken(undefined);
  assert.equal(res.status, 200);
  assert.equal(res.json.token_type, 'Bearer');
  assert.equal(claimsOf(res.json.access_token).cnf, undefined);
  const me = await api(meUrl, res.json.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.json.token_type, 'Bearer');
  assert.equal(me.json.jkt, null);
  const none = await request(meUrl, { ca: ds.ca });
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="keyloop-api"');
});

test('requireNonce: the token endpoint (400) and the API (401) ask for a nonce; the retry with it passes', async () => {
  await admin('/counters/reset', {});
  assert.deepEqual((await admin('/dpop')).json, { requireNonce: false });
  assert.deepEqual((await admin('/dpop', { requireNonce: true })).json, { requireNonce: true });
  assert.deepEqual((await admin('/dpop')).json, { requireNonce: true });
  try {
    const key = await dpopKey();
    // RFC 9449 §8: the authorization server's challenge.
    const first = await serviceToken(key);
    assert.equal(first.status, 400);
    assert.equal(first.json.error, 'use_dpop_nonce');
    const asNonce = first.headers['dpop-nonce'];
    assert.ok(typeof asNonce === 'string' && asNonce.length > 0, 'a DPoP-Nonce header');
    const wrong = await serviceToken(key, { nonce: 'not-a-nonce' });
    assert.equal(wrong.json.error, 'use_dpop_nonce');
    const retry = await serviceToken(key, { nonce: asNonce });
    assert.equal(retry.status, 200, `retry with the nonce: ${retry.json?.error}`);
    assert.equal(retry.json.token_type, 'DPoP');
    const token = retry.json.access_token;

    // §9: the resource server's challenge, with a nonce of its own.
    const noNonce = await api(meUrl, token, { dpop: await apiProof(key, token) });
    assert.equal(noNonce.status, 401);
    assert.match(noNonce.headers['www-authenticate'], /^DPoP error="use_dpop_nonce", error_description="nonce required"$/);
    assert.equal(noNonce.json.error, 'use_dpop_nonce');
    const apiNonce = noNonce.headers['dpop-nonce'];
    assert.ok(typeof apiNonce === 'string' && apiNonce.length > 0, 'a DPoP-Nonce header');
    assert.notEqual(apiNonce, asNonce, 'each server has its own nonces');
    // The provider's nonce is not the API's: nonce mismatch, with a fresh nonce again.
    const foreign = await api(meUrl, token, { dpop: await apiProof(key, token, { nonce: asNonce }) });
    assert.equal(foreign.status, 401);
    assert.match(foreign.headers['www-authenticate'], /error="use_dpop_nonce", error_description="nonce mismatch"/);
    assert.equal(foreign.headers['dpop-nonce'], apiNonce);
    const me = await api(meUrl, token, { dpop: await apiProof(key, token, { nonce: apiNonce }) });
    assert.equal(me.status, 200, me.headers['www-authenticate']);
    assert.equal(me.json.jkt, key.jkt);
    // Other checks still apply with a nonce.
    assertRefused(await api(meUrl, token, { dpop: await apiProof(key, token, { nonce: apiNonce, htm: 'POST' }) }), 'invalid_dpop_proof', 'htm mismatch');

    // A plain Bearer token is not affected.
    const bearer = await serviceToken(undefined);
    assert.equal(bearer.status, 200);
    assert.equal((await api(meUrl, bearer.json.access_token)).status, 200);

    const c = await counters();
    assert.equal(c.apiDpopNonceChallenges, 2);
    assert.equal(c.apiDpop, 1);
    assert.equal(c.apiDpopRejected, 1);
  } finally {
    assert.deepEqual((await admin('/dpop', { requireNonce: false })).json, { requireNonce: false });
  }
});

test('a public client\'s sign-in with DPoP: its refresh token is bound to the key (RFC 9449 §5)', async () => {
  const key = await dpopKey();
  const stranger = await dpopKey();
  const listener = await loopbackListener('/callback');
  let tokens;
  try {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const url = authorizationUrl(ds, { redirectUri: listener.redirectUri, state, challenge, scope: 'openid offline_access api:read', resource: ds.apiResource });
    const run = await runHelper('scripted-login.mjs', url);
    assert.equal(run.code, 0, run.output);
    const params = await withTimeout(listener.callback, 5000, 'the redirect');
    assert.ok(params.get('state') === state);
    const res = await tokenRequest({ client_id: ds.publicClientId, grant_type: 'authorization_code', code: params.get('code'),
      redirect_uri: listener.redirectUri, code_verifier: verifier, resource: ds.apiResource },
    { dpop: await proof(key, { htm: 'POST', htu: tokenEndpoint }) });
    assert.equal(res.status, 200, `code exchange with DPoP: ${res.json?.error}`);
    tokens = res.json;
  } finally {
    listener.close();
  }
  assert.equal(tokens.token_type, 'DPoP');
  assert.equal(claimsOf(tokens.access_token).cnf.jkt, key.jkt);
  assert.ok(tokens.refresh_token, 'a refresh token');
  const me = await api(meUrl, tokens.access_token, { dpop: await apiProof(key, tokens.access_token) });
  assert.equal(me.status, 200);
  assert.equal(me.json.sub, 'alice');

  const refresh = async (signer) => tokenRequest({ client_id: ds.publicClientId, grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token, resource: ds.apiResource },
  { dpop: signer ? await proof(signer, { htm: 'POST', htu: tokenEndpoint }) : undefined });
  // Another key, or none: invalid_grant, and the refresh token stays usable with the right key.
  for (const signer of [stranger, undefined]) {
    const refused = await refresh(signer);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error, 'invalid_grant');
  }
  const refreshed = await refresh(key);
  assert.equal(refreshed.status, 200, `refresh with the key: ${refreshed.json?.error}`);
  assert.equal(refreshed.json.token_type, 'DPoP');
  assert.equal(claimsOf(refreshed.json.access_token).cnf.jkt, key.jkt);
  assert.notEqual(refreshed.json.refresh_token, tokens.refresh_token, 'rotated');
});

test('admin /dpop: bad input is refused; reset turns nonces off and empties the replay cache', async () => {
  for (const body of [{}, { requireNonce: 'yes' }, { requireNonce: 1 }, { other: true }, 'x', [true]]) {
    assert.equal((await admin('/dpop', body)).status, 400, JSON.stringify(body));
  }
  assert.deepEqual((await admin('/dpop')).json, { requireNonce: false });
  const key = await dpopKey();
  const { access_token: token } = await boundToken(key);
  const once = await apiProof(key, token);
  assert.equal((await api(meUrl, token, { dpop: once })).status, 200);
  await admin('/dpop', { requireNonce: true });
  const reset = await admin('/reset', {});
  assert.deepEqual(reset.json.dpop, { requireNonce: false });
  assert.deepEqual((await admin('/dpop')).json, { requireNonce: false });
  const c = reset.json.counters;
  assert.equal(c.apiDpop + c.apiDpopRejected + c.apiDpopNonceChallenges, 0);
  // The replay cache is empty: the same proof (still within its iat window) passes once more.
  assert.equal((await api(meUrl, token, { dpop: once })).status, 200);
  assertRefused(await api(meUrl, token, { dpop: once }), 'invalid_dpop_proof', 'replayed jti');
});
