#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Keyloop devstack: a real OpenID Provider (oidc-provider 9.x), a protected API that validates
// the provider's JWT access tokens, and a loopback admin endpoint for tests. Everything listens on
// 127.0.0.1 only, on free ports, and is described in STATE/devstack.json once it is ready.
//
//   node devstack.mjs --state DIR [--https|--http] [--access-token-ttl SECONDS] [--ready-file PATH]
//
//   --https (default)  TLS with a leaf certificate (IP 127.0.0.1, DNS localhost) signed by a local
//                      CA generated into DIR/ca.pem with the openssl CLI (tests).
//   --http             plain http on 127.0.0.1 (the demo, with the SDK's loopback dev opt-in).
//
// The provider also runs the device authorization grant (RFC 8628; client keyloop-demo, endpoint
// /device/auth, user pages at /device) and pushed authorization requests (RFC 9126, /request).
//
// DPoP (RFC 9449): a token request with a DPoP proof gets token_type DPoP and a JWT access token
// with cnf.jkt (RFC 9449 §6.1); a public client's refresh token is bound to the key too (§5). The
// protected API takes `Authorization: DPoP <token>` with one `DPoP` proof header and checks it
// (§4.3, §7.1: typ, alg ES256 | EdDSA, a public jwk, signature, htm, htu, iat ± 60 s, ath, the
// token's cnf.jkt, jti never seen before); a DPoP-bound token sent as Bearer is refused (§7.2).
// Refusals are 401 with `WWW-Authenticate: DPoP …, error="invalid_dpop_proof" | "invalid_token" |
// "use_dpop_nonce", error_description="<reason>"`. GET /api/me also names token_type and jkt.
//
// The admin endpoint (always plain http on 127.0.0.1) serves JSON:
//   GET  /counters                 per-endpoint request counts (deviceAuthorization, deviceToken,
//                                  par, apiDpop, apiDpopRejected and apiDpopNonceChallenges among them)
//   POST /counters/reset           zero the counters
//   POST /rotate-keys              new signing keys (new kids) in place; same issuer and port
//   GET  /keys                     current {kids}
//   POST /access-token-ttl         {"seconds": n}
//   POST /id-token-ttl             {"seconds": n}  (default 3600)
//   POST /revoke-all               forget every session, grant and token
//   GET|POST /device-flow          {"interval": s, "codeTtl": s, "minInterval": s}, each optional: the interval of the
//                                  device authorization response (enforced with slow_down) and the
//                                  device code lifetime (expires_in); for device codes issued later.
//                                  minInterval (0 = off) paces every pending code, already issued
//                                  ones too: a provider under load asking clients to slow down
//   GET  /device-polls             [{"device": sha256(device_code)[0..8], "at": ms since start
//                                  (monotonic), "result": "authorization_pending" | "slow_down" | …}]
//                                  for every token request with the device_code grant, in order
//   POST /device-polls/reset       empty that log
//   GET|POST /par                  {"required": bool, "requestUriTtl": s}, either optional: require
//                                  PAR for every authorization request; the request_uri lifetime
//   POST /id-token-ttl             {"seconds": n}: the ID token lifetime (default 3600)
//   GET|POST /dpop                 {"requireNonce": bool}: DPoP nonces (RFC 9449 §8, §9) required
//                                  by both the token endpoint (400 use_dpop_nonce + DPoP-Nonce,
//                                  oidc-provider's own) and the API (401 use_dpop_nonce +
//                                  DPoP-Nonce); default false
//   POST /reset                    counters, access-token TTL, signing keys, device-flow, PAR and
//                                  DPoP settings back to their start values; empties the poll log
//                                  and the API's DPoP jti replay cache
//   GET  /                         the devstack.json content (without the client secret)
//
// Helpers for the user's side, all loopback-only: scripted-login.mjs AUTHORIZATION_URL and
// chromium-login.mjs AUTHORIZATION_URL (sign in, consent, deliver the redirect), and
// scripted-device.mjs VERIFICATION_URI_COMPLETE | VERIFICATION_URI USER_CODE (approve or deny a
// device sign-in). See README.md.

import { AsyncLocalStorage } from 'node:async_hooks';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import {
  DEVICE_CODE_GRANT, DevicePolls, successSource, userCodeConfirmSource, userCodeInputSource,
} from './lib/device.mjs';
import { DPOP_ALGS, DpopError, DpopNonces, normaliseHtu, ReplayCache, verifyDpopProof } from './lib/dpop.mjs';
import { Store } from './lib/store.mjs';
import { ensureCertificates } from './lib/tls.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const API_RESOURCE = 'https://api.keyloop.test';
const API_SCOPES = ['api:read', 'api:write'];
const PUBLIC_CLIENT_ID = 'keyloop-demo';
const SERVICE_CLIENT_ID = 'keyloop-service';
const LOOPBACK_REDIRECTS = ['http://127.0.0.1/callback', 'http://localhost/callback', 'http://[::1]/callback'];
// RFC 8628 §3.2: clients poll every 5 s when the response names no interval; oidc-provider's own
// device code lifetime is 10 minutes. RFC 9126: oidc-provider keeps a request_uri for 60 s.
const DEFAULT_DEVICE_INTERVAL = 5;
const DEFAULT_DEVICE_CODE_TTL = 600;
const DEFAULT_REQUEST_URI_TTL = 60;
const PUSHED_REQUEST_URN = 'urn:ietf:params:oauth:request_uri:';

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  if (message) process.stderr.write(`devstack: ${message}\n`);
  process.stderr.write('usage: devstack.mjs --state DIR [--https|--http] [--access-token-ttl SECONDS] [--ready-file PATH]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { state: path.join(HERE, '.state'), https: true, accessTokenTtl: 3600, readyFile: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (arg) {
      case '--state': options.state = path.resolve(value()); break;
      case '--http': options.https = false; break;
      case '--https': options.https = true; break;
      case '--access-token-ttl': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) usage('--access-token-ttl must be a positive integer');
        options.accessTokenTtl = n;
        break;
      }
      case '--ready-file': options.readyFile = path.resolve(value()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${arg}`);
    }
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));

// A signal during start-up is remembered and acted on once start-up reaches a safe point
// (process.exit() while a dynamic import is in flight can hang node 20); stop() takes over later.
let pendingSignal;
let stopHandler = (signal) => { pendingSignal ??= signal; };
process.on('SIGTERM', () => stopHandler('SIGTERM'));
process.on('SIGINT', () => stopHandler('SIGINT'));

// Loaded after the signal handlers, so that even an early SIGTERM ends the process cleanly.
const { default: Provider, errors } = await import('oidc-provider');
const { createLocalJWKSet, jwtVerify, UnsecuredJWT } = await import('jose');
if (pendingSignal) process.exit(pendingSignal === 'SIGINT' ? 130 : 0);
fs.mkdirSync(options.state, { recursive: true, mode: 0o700 });
const jsonPath = path.join(options.state, 'devstack.json');
fs.rmSync(jsonPath, { force: true });

// ---------------------------------------------------------------------------------------------
// Mutable state changed by the admin endpoint

// endSession counts GET /session/end (RP-Initiated Logout §2 requests); endSessionConfirmed the
// logouts the provider carried out (oidc-provider's end_session.success: the browser is sent on to
// the post_logout_redirect_uri); loginForm the dev login pages shown (a browser without a live
// provider session).
// deviceAuthorization counts device authorization requests (RFC 8628 §3.1), deviceToken the token
// requests with the device_code grant (also counted in token), par the pushed authorization
// requests (RFC 9126 §2).
// apiDpop counts API requests whose DPoP proof and binding passed (RFC 9449 §7.1), apiDpopRejected
// those refused for DPoP (a bad proof or token with the DPoP scheme, a DPoP-bound token sent as
// Bearer), apiDpopNonceChallenges the API's use_dpop_nonce answers (§9; not in apiDpopRejected).
const COUNTER_NAMES = ['discovery', 'authorization', 'token', 'refresh', 'jwks', 'revocation',
  'introspection', 'userinfo', 'endSession', 'endSessionConfirmed', 'loginForm', 'api',
  'deviceAuthorization', 'deviceToken', 'par', 'apiDpop', 'apiDpopRejected', 'apiDpopNonceChallenges'];
const counters = {};
function resetCounters() {
  for (const name of COUNTER_NAMES) counters[name] = 0;
}
resetCounters();

const ID_TOKEN_TTL = 3600;
const DEFAULT_SETTINGS = {
  accessTokenTtl: options.accessTokenTtl,
  idTokenTtl: ID_TOKEN_TTL,
  deviceInterval: DEFAULT_DEVICE_INTERVAL,
  deviceCodeTtl: DEFAULT_DEVICE_CODE_TTL,
  deviceMinInterval: 0,
  parRequired: false,
  requestUriTtl: DEFAULT_REQUEST_URI_TTL,
  dpopRequireNonce: false,
};
const settings = { ...DEFAULT_SETTINGS };
const store = new Store();
const devicePolls = new DevicePolls();
// The provider request being handled ({ctx, at}), for the device code lookup below.
const currentRequest = new AsyncLocalStorage();
const cookieKeys = [randomBytes(32).toString('base64url')];
const serviceClientSecret = randomBytes(32).toString('base64url');
// RFC 9449 §8: oidc-provider derives its DPoP nonces from this secret (HKDF, 60 s steps); the API's
// nonces (§9) come from a secret of their own, so the two servers' nonces differ.
const dpopNonceSecret = randomBytes(32);
const apiDpopNonces = new DpopNonces(randomBytes(32));
const dpopReplay = new ReplayCache();

function generateSigningKeys() {
  const stamp = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  // The first key of a type is the one oidc-provider signs with: RS256 (the default for ID tokens
  // and JWT access tokens), ES256 published too for clients that ask for it.
  return [
    { ...rsa, kid: `rsa-${stamp}`, use: 'sig', alg: 'RS256' },
    { ...ec, kid: `ec-${stamp}`, use: 'sig', alg: 'ES256' },
  ];
}

function publicJwks(keys) {
  return {
    keys: keys.map(({ kty, kid, use, alg, n, e, crv, x, y }) => JSON.parse(JSON.stringify({ kty, kid, use, alg, n, e, crv, x, y }))),
  };
}

const initialKeys = generateSigningKeys();
let signingKeys = initialKeys;
let apiKeySet = createLocalJWKSet(publicJwks(signingKeys));

// ---------------------------------------------------------------------------------------------
// Accounts: the dev login accepts any name; the name becomes `sub` and derives the claims.

function accountFor(id) {
  const login = String(id);
  const display = login.charAt(0).toUpperCase() + login.slice(1);
  return {
    accountId: login,
    async claims() {
      return {
        sub: login,
        name: `${display} Example`,
        given_name: display,
        family_name: 'Example',
        preferred_username: login,
        email: `${login.toLowerCase().replace(/[^a-z0-9._-]/g, '_')}@keyloop.test`,
        email_verified: true,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Device flow polling (RFC 8628 §3.5)

function epochSeconds() {
  return Math.floor(Date.now() / 1000);
}

// slow_down is decided where the token endpoint looks the device code up (the storage adapter's
// find): oidc-provider offers no hook between parsing a token request and consuming the code, and
// a verdict after the grant ran would throw away an approved sign-in. Only the lookup of this
// token request's own device_code is paced; expired, denied and approved codes never get
// slow_down (it is "a variant of authorization_pending").
function paceDevicePoll(model, id, payload) {
  if (model !== 'DeviceCode') return;
  const request = currentRequest.getStore();
  const params = request?.ctx.oidc?.params;
  if (request?.ctx.path !== '/token' || params?.grant_type !== DEVICE_CODE_GRANT || params.device_code !== id) return;
  const pending = !payload.accountId && !payload.error && !payload.consumed && payload.exp > epochSeconds();
  if (devicePolls.tooEarly(id, request.at, pending)) {
    throw new errors.SlowDown('polling faster than the interval; add 5 seconds to it (RFC 8628 section 3.5)');
  }
}

// ---------------------------------------------------------------------------------------------
// The provider. It is rebuilt (same issuer, same storage, same cookie keys) to rotate keys and to
// switch required PAR on or off (oidc-provider reads both only at construction).

function providerConfiguration(keys) {
  return {
    adapter: store.adapterFactory({ found: paceDevicePoll }),
    clients: [
      {
        client_id: PUBLIC_CLIENT_ID,
        client_name: 'Keyloop demo (native, public)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // RFC 8252 §7.3: oidc-provider matches loopback redirects of native clients on any port.
        redirect_uris: LOOPBACK_REDIRECTS,
        post_logout_redirect_uris: LOOPBACK_REDIRECTS,
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
      },
      {
        client_id: SERVICE_CLIENT_ID,
        client_name: 'Keyloop service (confidential)',
        client_secret: serviceClientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    // The proof algorithms the API accepts too, so discovery's dpop_signing_alg_values_supported
    // and the API's algs agree (oidc-provider's default adds the fully-specified Ed25519).
    enabledJWA: { dPoPSigningAlgValues: DPOP_ALGS },
    clockTolerance: 0,
    responseTypes: ['code'], // RFC 9700 §2.1.2: no implicit grant
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    findAccount: (_ctx, id) => accountFor(id),
    // PKCE: required for public clients (the default), S256 only (the default in 9.x).
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    // oidc-provider drops offline_access when the request carries a prompt without "consent"; the
    // demo client gets a refresh token with every code anyway. Public clients' refresh tokens
    // rotate, and reusing a rotated one revokes the whole grant (oidc-provider's default).
    async issueRefreshToken(_ctx, client, source) {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      return client.clientId === PUBLIC_CLIENT_ID || source.scopes.has('offline_access');
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: () => settings.accessTokenTtl,
      ClientCredentials: () => settings.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: () => settings.deviceCodeTtl,
      IdToken: () => settings.idTokenTtl,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      // RFC 7009 §2.1: a client may revoke only its own tokens (anything else: a silent no-op).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      // RFC 7662 §2.1: public clients may introspect their own tokens; confidential ones any token.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client.clientId,
      },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      // RFC 8628. The interval and slow_down are the devstack's (see paceDevicePoll); the pages
      // carry data-device-result markers for scripted-device.mjs.
      deviceFlow: { enabled: true, userCodeInputSource, userCodeConfirmSource, successSource },
      // RFC 9449, on by default in oidc-provider 9: proofs at the token endpoint (and userinfo,
      // PAR), tokens bound with jkt, public clients' refresh tokens bound to the key (§5). Nonces
      // (§8) only when the admin endpoint asks for them; replayed jti refused (allowReplay false).
      dPoP: { enabled: true, nonceSecret: dpopNonceSecret, requireNonce: () => settings.dpopRequireNonce, allowReplay: false },
      // RFC 9126 (on by default in oidc-provider 9); "required" applies to every client and makes
      // discovery say require_pushed_authorization_requests.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: settings.parRequired },
      resourceIndicators: {
        enabled: true,
        // No resource asked → an opaque access token for userinfo (/me).
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => false,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== API_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(' '),
            audience: API_RESOURCE,
            accessTokenTTL: settings.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };
}

const GOOGLE_FONTS = /@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g;

function countProviderRequest(ctx) {
  const p = ctx.path;
  if (p === '/.well-known/openid-configuration' || p === '/.well-known/oauth-authorization-server') counters.discovery += 1;
  else if (p === '/auth') counters.authorization += 1;
  else if (p === '/token') counters.token += 1;
  else if (p === '/jwks') counters.jwks += 1;
  else if (p === '/token/revocation') counters.revocation += 1;
  else if (p === '/token/introspection') counters.introspection += 1;
  else if (p === '/me') counters.userinfo += 1;
  else if (p === '/session/end') counters.endSession += 1;
  else if (p === '/device/auth') counters.deviceAuthorization += 1;
  else if (p === '/request') counters.par += 1;
}

// oidc-provider fixes a request_uri's lifetime at 60 s (MAX_TTL in its PAR endpoint). To make it
// settable, the pushed request is saved again with the devstack's lifetime, and its request object
// (the unsecured JWT oidc-provider made of the pushed parameters; the authorization endpoint checks
// its exp too) gets the same exp. A signed request object keeps the lifetime oidc-provider chose.
async function applyRequestUriTtl(provider, body) {
  const ttl = settings.requestUriTtl;
  const pushed = await provider.PushedAuthorizationRequest.find(body.request_uri.slice(PUSHED_REQUEST_URN.length));
  if (!pushed) return;
  let claims;
  try {
    ({ payload: claims } = UnsecuredJWT.decode(pushed.request));
  } catch {
    return;
  }
  for (;;) { // save() sets exp = now + ttl itself; repeat in the rare case the second changed meanwhile
    const exp = epochSeconds() + ttl;
    pushed.request = new UnsecuredJWT({ ...claims, exp }).encode();
    await pushed.save(ttl);
    if (pushed.exp === exp) break;
  }
  body.expires_in = ttl;
}

function devicePollResult(ctx) {
  if (ctx.status === 200 && ctx.body?.access_token) return 'success';
  return typeof ctx.body?.error === 'string' ? ctx.body.error : `http_${ctx.status}`;
}

async function handleProviderRequest(provider, ctx, next, at) {
  countProviderRequest(ctx);
  try {
    await next();
  } finally {
    if (ctx.path === '/token') {
      const grantType = ctx.oidc?.params?.grant_type;
      if (grantType === 'refresh_token') counters.refresh += 1;
      if (grantType === DEVICE_CODE_GRANT) {
        counters.deviceToken += 1;
        devicePolls.record(ctx.oidc.params.device_code, at, devicePollResult(ctx));
      }
    }
  }
  // RFC 8628 §3.2: oidc-provider sends no interval, so clients would assume 5 s.
  if (ctx.path === '/device/auth' && ctx.status === 200 && typeof ctx.body?.device_code === 'string') {
    ctx.body.interval = settings.deviceInterval;
    devicePolls.issued(ctx.body.device_code, settings.deviceInterval, ctx.body.expires_in);
  }
  if (ctx.path === '/request' && ctx.status === 201 && typeof ctx.body?.request_uri === 'string') {
    await applyRequestUriTtl(provider, ctx.body);
  }
}

function buildProvider(issuer, keys) {
  const provider = new Provider(issuer, providerConfiguration(keys));
  provider.use(async (ctx, next) => {
    const at = devicePolls.now(); // arrival time: what poll pacing and the poll log measure
    await currentRequest.run({ ctx, at }, () => handleProviderRequest(provider, ctx, next, at));
    // Keep a browser on loopback: the dev pages @import Google Fonts.
    if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
      ctx.body = ctx.body.replace(GOOGLE_FONTS, '');
    }
    // The dev login page (devInteractions' login prompt), as opposed to consent or a redirect.
    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path) && typeof ctx.body === 'string'
      && ctx.body.includes('name="login"')) {
      counters.loginForm += 1;
    }
  });
  provider.on('end_session.success', () => { counters.endSessionConfirmed += 1; });
  // oidc-provider logs its own errors only through events; keep stderr for real faults.
  provider.on('server_error', (_ctx, err) => process.stderr.write(`devstack: provider server_error: ${err?.stack ?? err}\n`));
  return { provider, callback: provider.callback() };
}

// ---------------------------------------------------------------------------------------------
// Servers

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

const tls = options.https ? ensureCertificates(options.state) : undefined;
const scheme = options.https ? 'https' : 'http';
const createServer = (handler) => (tls
  ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
  : http.createServer(handler));

let current; // { provider, callback }
const providerServer = createServer((req, res) => current.callback(req, res));
const apiServer = createServer((req, res) => { handleApi(req, res).catch((err) => internalError(res, err)); });
const adminServer = http.createServer((req, res) => { handleAdmin(req, res).catch((err) => internalError(res, err)); });
const sockets = new Set();
for (const server of [providerServer, apiServer, adminServer]) {
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
}

const providerPort = await listen(providerServer);
const apiPort = await listen(apiServer);
const adminPort = await listen(adminServer);
const issuer = `${scheme}://127.0.0.1:${providerPort}`;
const apiUrl = `${scheme}://127.0.0.1:${apiPort}`;
const adminUrl = `http://127.0.0.1:${adminPort}`;
current = buildProvider(issuer, signingKeys);

function rebuildProvider() {
  current = buildProvider(issuer, signingKeys);
}

function setSigningKeys(keys) {
  signingKeys = keys;
  rebuildProvider();
  apiKeySet = createLocalJWKSet(publicJwks(keys));
}

// ---------------------------------------------------------------------------------------------
// Protected API (RFC 6750 bearer tokens, RFC 9068 JWT access tokens, RFC 9449 DPoP)

function sendJson(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(data);
}

function internalError(res, err) {
  process.stderr.write(`devstack: internal error: ${err?.stack ?? err}\n`);
  if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
  else res.destroy();
}

function bearerChallenge(error, description, scope) {
  let value = 'Bearer realm="keyloop-api"';
  if (error) value += `, error="${error}"`;
  if (description) value += `, error_description="${description.replace(/["\\]/g, '')}"`;
  if (scope) value += `, scope="${scope}"`;
  return value;
}

// RFC 9449 §7.1: the DPoP scheme's challenge. `algs` names the proof algorithms the API accepts; the
// use_dpop_nonce challenge (§9) and the one for a bound token sent as Bearer (§7.2) go without it.
function dpopChallenge(error, description, { algs = true, scope } = {}) {
  const params = [];
  if (algs) params.push(`algs="${DPOP_ALGS.join(' ')}"`);
  params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description.replace(/["\\]/g, '')}"`);
  if (scope) params.push(`scope="${scope}"`);
  return `DPoP ${params.join(', ')}`;
}

const ITEMS = [
  { id: 1, name: 'Loopback redirect', spec: 'RFC 8252 §7.3' },
  { id: 2, name: 'PKCE S256', spec: 'RFC 7636 §4.2' },
  { id: 3, name: 'Refresh token rotation', spec: 'OAuth 2.0 Security BCP §4.14' },
];

// token_type: how the token was presented ("DPoP" or "Bearer"); jkt: the token's cnf.jkt (RFC 9449
// §6.1) or null.
const API_ROUTES = {
  'GET /api/me': {
    scope: 'api:read',
    handle: (claims, scopes, tokenType) => ({
      sub: claims.sub, client_id: claims.client_id, scopes, exp: claims.exp,
      token_type: tokenType, jkt: typeof claims.cnf?.jkt === 'string' ? claims.cnf.jkt : null,
    }),
  },
  'GET /api/items': { scope: 'api:read', handle: () => ({ items: ITEMS }) },
  'POST /api/items': { scope: 'api:write', status: 201, handle: () => ({ created: true }) },
};

function verifyAccessToken(token) {
  return jwtVerify(token, apiKeySet, {
    issuer,
    audience: API_RESOURCE,
    typ: 'at+jwt', // RFC 9068 §4
    algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    clockTolerance: 0,
    requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
  });
}

function scopesOf(claims) {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

// RFC 9449 §4.3 check 9: the URI of this request without query and fragment. The authority is the
// Host header when it names this API on a loopback name (a client may say localhost), else the
// API's own; normalised as the proof's htu is.
function requestHtu(req) {
  let base = apiUrl;
  try {
    const named = new URL(`${scheme}://${req.headers.host}`);
    if (LOOPBACK_HOSTNAMES.has(named.hostname) && Number(named.port) === apiPort) base = named.origin;
  } catch { /* no or a bad Host header: the API's own authority */ }
  const target = req.url.startsWith('/') ? req.url.split(/[?#]/)[0] : new URL(req.url, apiUrl).pathname;
  return normaliseHtu(`${base}${target}`);
}

// Authorization: DPoP <token> with one DPoP header (RFC 9449 §7.1).
async function handleDpopApiRequest(req, res, route, token) {
  const refuse = (err) => {
    const body = { error: err.error, error_description: err.description };
    if (err.error === 'use_dpop_nonce') { // §9: the challenge carries a fresh nonce
      counters.apiDpopNonceChallenges += 1;
      sendJson(res, 401, body, { 'www-authenticate': dpopChallenge(err.error, err.description, { algs: false }), 'dpop-nonce': apiDpopNonces.current() });
      return;
    }
    counters.apiDpopRejected += 1;
    sendJson(res, 401, body, { 'www-authenticate': dpopChallenge(err.error, err.description) });
  };
  const proofs = req.headersDistinct.dpop ?? [];
  if (proofs.length === 0) { refuse(new DpopError('invalid_dpop_proof', 'missing DPoP proof')); return; }
  if (proofs.length > 1) { refuse(new DpopError('invalid_dpop_proof', 'more than one DPoP proof')); return; } // §4.3 check 1
  let claims;
  try {
    ({ payload: claims } = await verifyAccessToken(token));
  } catch (err) {
    refuse(new DpopError('invalid_token', err?.code ?? 'token rejected'));
    return;
  }
  if (typeof claims.cnf?.jkt !== 'string') { refuse(new DpopError('invalid_token', 'token is not DPoP-bound')); return; }
  let proof;
  try {
    proof = await verifyDpopProof({
      proof: proofs[0],
      method: req.method,
      htu: requestHtu(req),
      accessToken: token,
      boundJkt: claims.cnf.jkt,
      nonces: settings.dpopRequireNonce ? apiDpopNonces : undefined,
      replay: dpopReplay,
    });
  } catch (err) {
    if (!(err instanceof DpopError)) throw err;
    refuse(err);
    return;
  }
  counters.apiDpop += 1;
  // §9.1: a nonce that is still accepted but no longer the current one is renewed in passing.
  const headers = proof.nonceStale ? { 'dpop-nonce': apiDpopNonces.current() } : {};
  const scopes = scopesOf(claims);
  if (!scopes.includes(route.scope)) {
    sendJson(res, 403, { error: 'insufficient_scope' }, {
      ...headers, 'www-authenticate': dpopChallenge('insufficient_scope', `requires ${route.scope}`, { scope: route.scope }),
    });
    return;
  }
  sendJson(res, route.status ?? 200, route.handle(claims, scopes, 'DPoP'), headers);
}

async function handleApi(req, res) {
  counters.api += 1;
  const { pathname } = new URL(req.url, apiUrl);
  req.resume();
  const route = API_ROUTES[`${req.method} ${pathname}`];
  if (!route) {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  const authorization = req.headers.authorization ?? '';
  // RFC 9110 §11.1: the scheme name is case-insensitive.
  const dpop = /^DPoP ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization);
  if (dpop) {
    await handleDpopApiRequest(req, res, route, dpop[1]);
    return;
  }
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(authorization);
  if (!match) {
    // RFC 6750 §3.1: no error code when the request has no authentication information.
    const malformed = authorization !== '';
    sendJson(res, malformed ? 400 : 401, { error: malformed ? 'invalid_request' : 'unauthorized' }, {
      'www-authenticate': malformed ? bearerChallenge('invalid_request', 'malformed Authorization header') : bearerChallenge(),
    });
    return;
  }
  let claims;
  try {
    ({ payload: claims } = await verifyAccessToken(match[1]));
  } catch (err) {
    sendJson(res, 401, { error: 'invalid_token' }, {
      'www-authenticate': bearerChallenge('invalid_token', err?.code ?? 'token rejected'),
    });
    return;
  }
  // RFC 9449 §7.2: a DPoP-bound token is no bearer token; only the DPoP scheme with a proof will do.
  if (claims.cnf?.jkt !== undefined) {
    const description = 'DPoP-bound token presented as Bearer';
    counters.apiDpopRejected += 1;
    sendJson(res, 401, { error: 'invalid_token', error_description: description }, {
      'www-authenticate': dpopChallenge('invalid_token', description, { algs: false }),
    });
    return;
  }
  const scopes = scopesOf(claims);
  if (!scopes.includes(route.scope)) {
    sendJson(res, 403, { error: 'insufficient_scope' }, {
      'www-authenticate': bearerChallenge('insufficient_scope', `requires ${route.scope}`, route.scope),
    });
    return;
  }
  sendJson(res, route.status ?? 200, route.handle(claims, scopes, 'Bearer'));
}

// ---------------------------------------------------------------------------------------------
// Admin

function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function info(includeSecret) {
  const out = {
    issuer,
    api: apiUrl,
    apiResource: API_RESOURCE,
    admin: adminUrl,
    caFile: tls ? tls.caFile : '',
    publicClientId: PUBLIC_CLIENT_ID,
    serviceClientId: SERVICE_CLIENT_ID,
    serviceClientSecret: includeSecret ? serviceClientSecret : undefined,
    // Extra keys (not part of the architecture contract, but handy):
    scheme,
    certFile: tls ? tls.certFile : '',
    leafSpkiSha256: tls ? tls.leafSpkiSha256 : '',
    apiScopes: API_SCOPES,
    redirectUris: LOOPBACK_REDIRECTS,
    testUser: 'alice',
    accessTokenTtl: settings.accessTokenTtl,
    pid: process.pid,
  };
  return JSON.parse(JSON.stringify(out));
}

const ADMIN_ROUTES = ['GET /', 'GET /counters', 'POST /counters/reset', 'POST /rotate-keys', 'GET /keys',
  'POST /access-token-ttl', 'POST /id-token-ttl', 'POST /revoke-all', 'GET /device-flow', 'POST /device-flow', 'GET /device-polls',
  'POST /device-polls/reset', 'GET /par', 'POST /par', 'GET /dpop', 'POST /dpop', 'POST /reset'];

function isPositiveInteger(value) {
  return Number.isInteger(value) && value >= 1;
}

function parseJsonObject(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON object with at least one member, each known and valid per `validators`; else undefined. */
function parseSettings(text, validators) {
  const value = parseJsonObject(text);
  if (!value) return undefined;
  const names = Object.keys(value);
  if (names.length === 0) return undefined;
  return names.every((name) => Object.hasOwn(validators, name) && validators[name](value[name])) ? value : undefined;
}

function deviceFlowSettings() {
  return { interval: settings.deviceInterval, codeTtl: settings.deviceCodeTtl, minInterval: settings.deviceMinInterval };
}

function parSettings() {
  return { required: settings.parRequired, requestUriTtl: settings.requestUriTtl };
}

function dpopSettings() {
  return { requireNonce: settings.dpopRequireNonce };
}

async function handleAdmin(req, res) {
  const { pathname } = new URL(req.url, adminUrl);
  const body = await readBody(req);
  const route = `${req.method} ${pathname}`;
  switch (route) {
    case 'GET /':
      sendJson(res, 200, info(false));
      return;
    case 'GET /counters':
      sendJson(res, 200, counters);
      return;
    case 'POST /counters/reset':
      resetCounters();
      sendJson(res, 200, counters);
      return;
    case 'POST /rotate-keys':
      setSigningKeys(generateSigningKeys());
      sendJson(res, 200, { kids: signingKeys.map((k) => k.kid) });
      return;
    case 'GET /keys':
      sendJson(res, 200, { kids: signingKeys.map((k) => k.kid) });
      return;
    case 'POST /access-token-ttl':
    case 'POST /id-token-ttl': {
      const { seconds } = parseJsonObject(body) ?? {};
      if (!isPositiveInteger(seconds)) {
        sendJson(res, 400, { error: 'expected {"seconds": positive integer}' });
        return;
      }
      settings[route === 'POST /id-token-ttl' ? 'idTokenTtl' : 'accessTokenTtl'] = seconds;
      sendJson(res, 200, { seconds });
      return;
    }
    case 'POST /revoke-all':
      store.clear();
      sendJson(res, 200, { revoked: true });
      return;
    case 'GET /device-flow':
      sendJson(res, 200, deviceFlowSettings());
      return;
    case 'POST /device-flow': {
      const isSeconds = (n) => Number.isInteger(n) && n >= 0;
      const request = parseSettings(body, { interval: isPositiveInteger, codeTtl: isPositiveInteger, minInterval: isSeconds });
      if (!request) {
        sendJson(res, 400, { error: 'expected {"interval": positive integer, "codeTtl": positive integer, "minInterval": integer >= 0}, each optional' });
        return;
      }
      settings.deviceInterval = request.interval ?? settings.deviceInterval;
      settings.deviceCodeTtl = request.codeTtl ?? settings.deviceCodeTtl;
      settings.deviceMinInterval = request.minInterval ?? settings.deviceMinInterval;
      devicePolls.minIntervalMs = settings.deviceMinInterval * 1000;
      sendJson(res, 200, deviceFlowSettings());
      return;
    }
    case 'GET /device-polls':
      sendJson(res, 200, devicePolls.log());
      return;
    case 'POST /device-polls/reset':
      devicePolls.resetLog();
      sendJson(res, 200, devicePolls.log());
      return;
    case 'GET /par':
      sendJson(res, 200, parSettings());
      return;
    case 'POST /par': {
      const request = parseSettings(body, { required: (v) => typeof v === 'boolean', requestUriTtl: isPositiveInteger });
      if (!request) {
        sendJson(res, 400, { error: 'expected {"required": boolean, "requestUriTtl": positive integer}, either optional' });
        return;
      }
      settings.requestUriTtl = request.requestUriTtl ?? settings.requestUriTtl;
      if (request.required !== undefined && request.required !== settings.parRequired) {
        settings.parRequired = request.required;
        rebuildProvider();
      }
      sendJson(res, 200, parSettings());
      return;
    }
    case 'GET /dpop':
      sendJson(res, 200, dpopSettings());
      return;
    case 'POST /dpop': {
      // Read per request by oidc-provider (features.dPoP.requireNonce) and by the API: no rebuild.
      const request = parseSettings(body, { requireNonce: (v) => typeof v === 'boolean' });
      if (!request) {
        sendJson(res, 400, { error: 'expected {"requireNonce": boolean}' });
        return;
      }
      settings.dpopRequireNonce = request.requireNonce;
      sendJson(res, 200, dpopSettings());
      return;
    }
    case 'POST /reset': {
      resetCounters();
      devicePolls.resetLog();
      dpopReplay.clear();
      const rebuild = settings.parRequired !== DEFAULT_SETTINGS.parRequired;
      Object.assign(settings, DEFAULT_SETTINGS);
      devicePolls.minIntervalMs = 0;
      if (signingKeys !== initialKeys) setSigningKeys(initialKeys);
      else if (rebuild) rebuildProvider();
      sendJson(res, 200, {
        counters,
        accessTokenTtl: settings.accessTokenTtl,
        idTokenTtl: settings.idTokenTtl,
        kids: signingKeys.map((k) => k.kid),
        deviceFlow: deviceFlowSettings(),
        par: parSettings(),
        dpop: dpopSettings(),
      });
      return;
    }
    default:
      sendJson(res, 404, { error: 'not_found', routes: ADMIN_ROUTES });
  }
}

// ---------------------------------------------------------------------------------------------
// Ready: write devstack.json atomically, then say so.

function writeAtomically(file, content, mode = 0o600) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  try {
    const written = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    if (written.pid === process.pid) fs.rmSync(jsonPath, { force: true });
  } catch { /* already gone */ }
  if (options.readyFile) fs.rmSync(options.readyFile, { force: true });
  let pending = 3;
  const done = () => { pending -= 1; if (pending === 0) process.exit(signal === 'SIGINT' ? 130 : 0); };
  for (const server of [providerServer, apiServer, adminServer]) server.close(done);
  for (const socket of sockets) socket.destroy();
  setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 0), 2000).unref();
}
if (pendingSignal) stop(pendingSignal);
stopHandler = stop;
if (!stopping) { // a signal during start-up: exiting, never announce readiness
  writeAtomically(jsonPath, `${JSON.stringify(info(true), null, 2)}\n`);
  if (options.readyFile) writeAtomically(options.readyFile, `${jsonPath}\n`, 0o644);
  process.stdout.write('devstack ready\n');
}
