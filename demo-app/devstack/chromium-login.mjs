#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// The devstack's dev login in a real browser: Debian's headless Chromium driven by playwright-core.
//
//   node chromium-login.mjs AUTHORIZATION_URL
//
// Opens the authorization URL, signs in as $KEYLOOP_TEST_USER (default alice), presses "Continue"
// on the consent page and lets the browser itself follow the redirect to the app's loopback
// listener. Exits 0 once that redirect has been delivered.
//
// Staying on loopback: --host-resolver-rules maps every other name to NOTFOUND and a route aborts
// any request whose host is not loopback.
//
// Trusting the devstack's TLS without trusting anything else: the devstack's certificate chain is
// first verified here, with node's TLS, against the CA in devstack.json (caFile). The verified
// leaf's public key is then pinned for Chromium with --ignore-certificate-errors-spki-list
// (base64 SHA-256 of the SubjectPublicKeyInfo), which makes Chromium accept exactly that key and
// nothing else — unlike --ignore-certificate-errors, which would accept any certificate.
//
// The same walk completes an RP-initiated logout (an end_session_endpoint URL): the helper acts on
// whatever the provider shows — the dev login, consent, or the logout confirmation form, where it
// presses "Yes, sign me out" — until the browser leaves for the app's loopback URI.
//
// Environment: KEYLOOP_TEST_USER, KEYLOOP_TEST_PASSWORD, KEYLOOP_LOGIN_ACTION (login|cancel),
// KEYLOOP_DEVSTACK_JSON, KEYLOOP_CHROMIUM (default /usr/bin/chromium), KEYLOOP_LOGIN_TIMEOUT_MS,
// KEYLOOP_CHROMIUM_PROFILE (a directory: keep the profile, and so the provider's session cookie,
// across runs like a user's browser; default: a fresh temporary profile per run).

import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import tls from 'node:tls';

import { chromium } from 'playwright-core';

import { devstackCaPem, fail as failWith, isLoopbackUrl, redact } from './lib/loopback.mjs';

const TOOL = 'chromium-login';
const TIMEOUT_MS = Number(process.env.KEYLOOP_LOGIN_TIMEOUT_MS ?? 45000);
const EXECUTABLE = process.env.KEYLOOP_CHROMIUM || '/usr/bin/chromium';
const PROFILE = process.env.KEYLOOP_CHROMIUM_PROFILE || '';

const target = process.argv[process.argv.length - 1];
if (process.argv.length < 3 || target.startsWith('-')) {
  process.stderr.write('usage: chromium-login.mjs AUTHORIZATION_URL\n');
  process.exit(2);
}
if (!isLoopbackUrl(target)) failWith(TOOL, 'refusing to open a non-loopback authorization URL');

const user = process.env.KEYLOOP_TEST_USER || 'alice';
const password = process.env.KEYLOOP_TEST_PASSWORD || 'test';
const action = process.env.KEYLOOP_LOGIN_ACTION || 'login';
if (!['login', 'cancel'].includes(action)) failWith(TOOL, 'KEYLOOP_LOGIN_ACTION must be "login" or "cancel"');

// playwright-core's launch() gives Chromium a fresh temporary --user-data-dir (under $TMPDIR) and
// removes it on close.
let browser;
async function fail(message) {
  try { await browser?.close(); } catch { /* ignore */ }
  failWith(TOOL, message);
}

function profileInUse() {
  try {
    fs.lstatSync(path.join(PROFILE, 'SingletonLock'));
    return true;
  } catch {
    return false;
  }
}

/** Verifies the server's chain against `caPem` and returns base64(SHA-256(SPKI)) of its leaf. */
function verifiedLeafSpki(url, caPem) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      ca: [caPem],
      servername: url.hostname === 'localhost' ? 'localhost' : undefined,
      rejectUnauthorized: true,
    }, () => {
      const peer = socket.getPeerX509Certificate();
      socket.end();
      const der = new X509Certificate(peer.raw).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(der).digest('base64'));
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

async function main() {
  const start = new URL(target);
  const providerOrigin = start.origin;
  const args = [
    '--headless=new',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    // Never touch the Secret Service: the sandbox's keyring belongs to the tests.
    '--password-store=basic',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  ];
  if (start.protocol === 'https:') {
    const caPem = devstackCaPem();
    if (!caPem) await fail('https authorization URL but no caFile (set KEYLOOP_DEVSTACK_JSON)');
    let spki;
    try {
      spki = await verifiedLeafSpki(start, caPem);
    } catch (err) {
      await fail(`the provider's certificate does not verify against the devstack CA (${err.code ?? err.message})`);
    }
    args.push(`--ignore-certificate-errors-spki-list=${spki}`);
  }

  const launchOptions = {
    executablePath: EXECUTABLE,
    headless: true,
    // Chromium's sandbox needs unprivileged user namespaces or setuid; as root it refuses to run with it.
    chromiumSandbox: false,
    args,
    timeout: TIMEOUT_MS,
  };
  let context;
  if (PROFILE) {
    // One Chromium per profile: the app may open the next URL before the previous run's
    // Chromium has closed (and flushed) the profile. Wait for its SingletonLock to go.
    for (let waited = 0; waited < 20000 && profileInUse(); waited += 100) {
      await new Promise((resolve) => { setTimeout(resolve, 100); });
    }
    // A kept profile: the provider's session cookie survives between runs, as in a user's browser.
    context = await chromium.launchPersistentContext(PROFILE, launchOptions);
    browser = context;
  } else {
    browser = await chromium.launch(launchOptions);
    context = await browser.newContext();
  }
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);

  let blocked = 0;
  const steps = [];
  await context.route('**/*', (route) => {
    if (isLoopbackUrl(route.request().url())) return route.continue();
    blocked += 1;
    return route.abort('blockedbyclient');
  });

  // The app's redirect URI is the first navigation request to another loopback origin.
  let resolveDelivered;
  const delivered = new Promise((resolve) => { resolveDelivered = resolve; });
  const onDone = (request, failed) => {
    if (!request.isNavigationRequest()) return;
    const url = new URL(request.url());
    if (url.origin === providerOrigin || !isLoopbackUrl(url)) return;
    resolveDelivered({ url, failed: failed ? request.failure()?.errorText : undefined });
  };
  page.on('requestfinished', (r) => onDone(r, false));
  page.on('requestfailed', (r) => onDone(r, true));

  const walk = (async () => {
    await page.goto(start.href, { waitUntil: 'domcontentloaded' });
    if (action === 'cancel') {
      await page.click('a[href$="/abort"]');
      return;
    }
    // Whatever the provider shows, until the browser leaves for the app's loopback URI: the dev
    // login (absent while a kept profile's provider session lives), consent, or RP-Initiated
    // Logout's confirmation form (absent without a provider session: the provider then posts
    // the logout by itself).
    const seen = (selector, name) => page.waitForSelector(selector, { state: 'attached' }).then(() => name, () => undefined);
    for (let step = 0; step < 6; step += 1) {
      const next = await Promise.race([
        seen('input[name="login"]', 'login'),
        seen('input[name="prompt"][value="consent"]', 'consent'),
        seen('button[name="logout"][value="yes"]', 'logout'),
        delivered.then(() => 'delivered'),
      ]);
      if (next === 'delivered' || next === undefined) return;
      steps.push(next);
      const navigated = page.waitForNavigation({ waitUntil: 'commit' }).catch(() => undefined);
      if (next === 'login') {
        await page.fill('input[name="login"]', user);
        await page.fill('input[name="password"]', password);
        await page.click('button[type="submit"]');
      } else if (next === 'consent') {
        await page.click('button[type="submit"]');
      } else {
        await page.click('button[name="logout"][value="yes"]');
      }
      await navigated;
    }
  })();

  const outcome = await Promise.race([
    delivered,
    walk.then(() => delivered),
  ]).catch((err) => ({ error: err }));
  if (outcome.error) {
    await fail(`the browser did not reach the redirect URI: ${String(outcome.error.message).split('\n')[0]}`);
  }
  if (outcome.failed) {
    await fail(`the browser's request to ${redact(outcome.url.href)} failed: ${outcome.failed}`);
  }
  const error = outcome.url.searchParams.get('error');
  process.stderr.write(`${TOOL}: delivered the redirect to ${redact(outcome.url.href)}${error ? ` (error=${error})` : ''}`
    + ` after ${steps.length ? steps.join(', ') : 'no page'}`
    + `${blocked ? `; blocked ${blocked} non-loopback request(s)` : ''}\n`);
  await browser.close();
  process.exit(0);
}

const timer = setTimeout(() => { fail(`timed out after ${TIMEOUT_MS} ms`); }, TIMEOUT_MS + 5000);
timer.unref();
main().catch((err) => fail(`${err.code ?? 'error'}: ${String(err.message).split('\n')[0]}`));
