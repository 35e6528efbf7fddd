#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Approves (or denies) a device sign-in (RFC 8628 §3.3) on the devstack, as the user would in a
// browser on another device:
//
//   node scripted-device.mjs URI [USER_CODE]
//
//   URI        the device authorization response's verification_uri_complete (user code in it),
//              or its verification_uri with USER_CODE as the second argument
//   USER_CODE  the user_code to enter; if given, it is entered even when URI carries one
//
// It opens URI with manual redirects and a cookie jar, enters the user code, confirms it on the
// provider's confirmation page, signs in through the dev login as $KEYLOOP_TEST_USER (any
// password) and gives consent. With KEYLOOP_DEVICE_ACTION=deny it presses Deny on the confirmation
// page instead; the device's next poll then gets access_denied. It only ever contacts loopback
// hosts.
//
// Exit status:
//   0  the provider's final page says the device sign-in was approved (for deny: denied)
//   1  anything else: unknown, expired or already used code, an error page, a timeout, … (the
//      reason is printed on stderr)
//   2  usage error
//
// Environment:
//   KEYLOOP_TEST_USER         login name (becomes `sub`), default alice
//   KEYLOOP_TEST_PASSWORD     password, default "test" (the dev login accepts anything)
//   KEYLOOP_DEVICE_ACTION     "approve" (default) or "deny"
//   KEYLOOP_DEVSTACK_JSON     devstack.json; its caFile is trusted for https (NODE_EXTRA_CA_CERTS works too)
//   KEYLOOP_LOGIN_TIMEOUT_MS  give up after this long, default 30000
//
// Nothing secret is printed: URLs appear without their query, the user code never.
// It reads the devstack's device pages by their data-device-result marker (lib/device.mjs).

import process from 'node:process';
import tls from 'node:tls';

import { devstackCaPem, fail as failWith, isLoopbackUrl, redact } from './lib/loopback.mjs';
import { UserAgent, decodeEntities, describeErrorPage, parseForm } from './lib/user-agent.mjs';

const TOOL = 'scripted-device';
const fail = (message) => failWith(TOOL, message);
const MAX_STEPS = 30;
const TIMEOUT_MS = Number(process.env.KEYLOOP_LOGIN_TIMEOUT_MS ?? 30000);

const args = process.argv.slice(2);
if (args.length < 1 || args.length > 2 || args.some((a) => a.startsWith('-'))) {
  process.stderr.write('usage: scripted-device.mjs VERIFICATION_URI_COMPLETE | scripted-device.mjs VERIFICATION_URI USER_CODE\n');
  process.exit(2);
}
const [target, userCodeArgument] = args;
if (!isLoopbackUrl(target)) fail('refusing to open a non-loopback verification URI');

const user = process.env.KEYLOOP_TEST_USER || 'alice';
const password = process.env.KEYLOOP_TEST_PASSWORD || 'test';
const action = process.env.KEYLOOP_DEVICE_ACTION || 'approve';
if (!['approve', 'deny'].includes(action)) fail('KEYLOOP_DEVICE_ACTION must be "approve" or "deny"');

let ca;
try {
  const pem = devstackCaPem();
  if (pem) ca = [...tls.rootCertificates, pem];
} catch (err) {
  fail(err.message);
}

const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS);

const agent = new UserAgent({ ca, name: 'keyloop-scripted-device' });
function request(method, url, body) {
  if (!isLoopbackUrl(url)) fail(`refusing to contact non-loopback ${redact(url.href)}`);
  return agent.request(method, url, body);
}

function finish(message) {
  clearTimeout(timer);
  process.stderr.write(`${TOOL}: ${message}\n`);
  process.exit(0);
}

function pageMessage(html) {
  const text = /<p>([\s\S]*?)<\/p>/i.exec(html)?.[1] ?? '';
  return decodeEntities(text.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim());
}

// The devstack's device pages (lib/device.mjs) name their state in data-device-result.
const FAILURES = {
  'invalid-code': 'the provider does not know this user code',
  expired: 'the user code has expired',
  'already-used': 'the user code has already been used',
  error: 'the provider reported an error',
};

async function main() {
  const start = new URL(target);
  const providerOrigin = start.origin;
  let method = 'GET';
  let url = start;
  let body;
  const done = new Set(); // steps taken: code, confirm, login, consent

  const once = (step) => {
    if (done.has(step)) fail(`the provider asked for the ${step} step twice`);
    done.add(step);
  };

  for (let step = 0; step < MAX_STEPS; step += 1) {
    if (url.origin !== providerOrigin) fail(`the provider redirected away to ${redact(url.href)}`);
    const res = await request(method, url, body);
    method = 'GET';
    body = undefined;

    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      url = new URL(res.headers.location, url);
      continue;
    }
    if (res.status !== 200) fail(`provider answered HTTP ${res.status} at ${redact(url.href)}: ${describeErrorPage(res.body)}`);

    const state = /<main\b[^>]*\bdata-device-result="([a-z-]+)"/i.exec(res.body)?.[1];
    if (state === 'approved') {
      if (action !== 'approve') fail('the provider approved the sign-in although Deny was pressed');
      finish(`the provider approved the device sign-in as ${user}`);
    }
    if (state === 'denied') {
      if (action !== 'deny') fail('the provider says the device sign-in was denied');
      finish('the provider denied the device sign-in (Deny pressed)');
    }
    if (FAILURES[state]) fail(`${FAILURES[state]} (${pageMessage(res.body)})`);

    const form = parseForm(res.body);
    if (!form) fail(`unexpected page at ${redact(url.href)}: ${describeErrorPage(res.body)}`);
    const fields = new URLSearchParams(form.fields);
    if (state === 'enter-code' || (state === undefined && 'user_code' in form.fields && 'xsrf' in form.fields)) {
      // The code entry page (verification_uri), or the self-submitting form oidc-provider answers
      // verification_uri_complete with.
      once('code');
      const userCode = userCodeArgument ?? form.fields.user_code;
      if (!userCode) fail('no user code: pass USER_CODE or open the verification_uri_complete');
      fields.set('user_code', userCode);
    } else if (state === 'confirm') {
      once('confirm');
      if (action === 'deny') {
        const abort = /<button\b[^>]*\bname="abort"[^>]*>/i.exec(res.body)?.[0];
        if (!abort) fail('no Deny button on the confirmation page');
        fields.set('abort', decodeEntities(/\bvalue="([^"]*)"/i.exec(abort)?.[1] ?? 'yes'));
      }
    } else if (state === undefined && form.fields.prompt === 'login') {
      once('login');
      fields.set('login', user);
      fields.set('password', password);
    } else if (state === undefined && form.fields.prompt === 'consent') {
      once('consent');
    } else {
      fail(`unexpected page at ${redact(url.href)} (${state ?? `prompt=${form.fields.prompt ?? 'none'}`})`);
    }
    method = 'POST';
    body = fields.toString();
    url = new URL(form.action, url);
  }
  fail(`gave up after ${MAX_STEPS} steps without an approval page`);
}

main().catch((err) => fail(`${err.code ?? 'error'}: ${err.message}`));
