#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// A tiny scripted "browser" for the devstack's dev login:
//
//   node scripted-login.mjs AUTHORIZATION_URL
//
// AUTHORIZATION_URL may also be the app's start page for pushed authorization requests (RFC 9126,
// http://127.0.0.1:PORT/start/TOKEN): its redirect to the provider's authorization endpoint with a
// request_uri is followed first.
//
// It follows the authorization URL with manual redirects and a cookie jar, fills the dev login
// (user $KEYLOOP_TEST_USER, default "alice"; any password), clicks "Continue" on the consent page
// and finally issues the GET to the loopback redirect URI, like a browser would. It only ever
// contacts loopback hosts and exits 0 once the redirect has been delivered (even an error
// redirect such as access_denied: delivering it is the browser's whole job).
//
// Environment:
//   KEYLOOP_TEST_USER       login name (becomes `sub`), default alice
//   KEYLOOP_TEST_PASSWORD   password, default "test" (the dev login accepts anything)
//   KEYLOOP_LOGIN_ACTION    "login" (default) or "cancel": press the page's Cancel link instead
//   KEYLOOP_DEVSTACK_JSON   devstack.json; its caFile is trusted for https (NODE_EXTRA_CA_CERTS works too)
//
// Nothing secret is printed: URLs appear without their query.

import process from 'node:process';
import tls from 'node:tls';

import { devstackCaPem, fail as failWith, isLoopbackUrl, redact } from './lib/loopback.mjs';
import { UserAgent, decodeEntities, describeErrorPage, parseForm } from './lib/user-agent.mjs';

const TOOL = 'scripted-login';
const fail = (message) => failWith(TOOL, message);
const MAX_STEPS = 30;
const TIMEOUT_MS = Number(process.env.KEYLOOP_LOGIN_TIMEOUT_MS ?? 30000);

const target = process.argv[process.argv.length - 1];
if (process.argv.length < 3 || target.startsWith('-')) {
  process.stderr.write('usage: scripted-login.mjs AUTHORIZATION_URL\n');
  process.exit(2);
}
if (!isLoopbackUrl(target)) fail('refusing to open a non-loopback authorization URL');

const user = process.env.KEYLOOP_TEST_USER || 'alice';
const password = process.env.KEYLOOP_TEST_PASSWORD || 'test';
const action = process.env.KEYLOOP_LOGIN_ACTION || 'login';
if (!['login', 'cancel'].includes(action)) fail('KEYLOOP_LOGIN_ACTION must be "login" or "cancel"');

let ca;
try {
  const pem = devstackCaPem();
  if (pem) ca = [...tls.rootCertificates, pem];
} catch (err) {
  fail(err.message);
}

const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS);

// --- one HTTP exchange, loopback only, with a cookie jar ---
const agent = new UserAgent({ ca, name: 'keyloop-scripted-login' });
function request(method, url, body) {
  if (!isLoopbackUrl(url)) fail(`refusing to contact non-loopback ${redact(url.href)}`);
  return agent.request(method, url, body);
}

// --- the walk ---
async function main() {
  const start = new URL(target);
  let providerOrigin = start.origin;
  let method = 'GET';
  let url = start;
  let body;
  let loggedIn = false;
  let consented = false;

  for (let step = 0; step < MAX_STEPS; step += 1) {
    // Leaving the provider's origin for another loopback origin is the redirect to the app.
    if (url.origin !== providerOrigin) {
      const res = await request('GET', url);
      clearTimeout(timer);
      const error = url.searchParams.get('error');
      process.stderr.write(`${TOOL}: delivered the redirect to ${redact(url.href)}${error ? ` (error=${error})` : ''}, app answered HTTP ${res.status}\n`);
      process.exit(0);
    }
    const res = await request(method, url, body);
    method = 'GET';
    body = undefined;

    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      const next = new URL(res.headers.location, url);
      // The app's start page (RFC 9126 §4 with a fresh request_uri): the provider is where it sends
      // the browser. Any later change of origin is the redirect back to the app.
      if (step === 0 && next.origin !== providerOrigin && next.searchParams.has('request_uri')) providerOrigin = next.origin;
      url = next;
      continue;
    }
    if (res.status !== 200) fail(`provider answered HTTP ${res.status} at ${redact(url.href)}: ${describeErrorPage(res.body)}`);

    if (action === 'cancel') {
      const abort = /<a\b[^>]*href="([^"]*\/abort)"/i.exec(res.body);
      if (!abort) fail('no Cancel link on the page');
      url = new URL(decodeEntities(abort[1]), url);
      continue;
    }
    const form = parseForm(res.body);
    if (!form) fail(`unexpected page at ${redact(url.href)}: ${describeErrorPage(res.body)}`);
    const fields = new URLSearchParams(form.fields);
    if (form.fields.prompt === 'login') {
      if (loggedIn) fail('the provider asked for the login twice (cookies lost?)');
      loggedIn = true;
      fields.set('login', user);
      fields.set('password', password);
    } else if (form.fields.prompt === 'consent') {
      if (consented) fail('the provider asked for consent twice');
      consented = true;
    } else {
      fail(`unexpected form (prompt=${form.fields.prompt ?? 'none'}) at ${redact(url.href)}`);
    }
    method = 'POST';
    body = fields.toString();
    url = new URL(form.action, url);
  }
  fail(`gave up after ${MAX_STEPS} steps without reaching the redirect URI`);
}

main().catch((err) => fail(`${err.code ?? 'error'}: ${err.message}`));
