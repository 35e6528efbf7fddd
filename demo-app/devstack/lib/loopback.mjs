// SPDX-License-Identifier: MIT
// Shared by the browser helpers: loopback-only URL checks and the devstack's CA.

import fs from 'node:fs';
import process from 'node:process';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True if `url` is http(s) on a loopback host (RFC 8252 §7.3 / §8.3). */
export function isLoopbackUrl(url) {
  let parsed;
  try {
    parsed = url instanceof URL ? url : new URL(url);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && LOOPBACK_HOSTS.has(parsed.hostname);
}

/** A URL without query and fragment: the only form of a URL these helpers ever print. */
export function redact(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

/** The devstack description from $KEYLOOP_DEVSTACK_JSON, or undefined. */
export function readDevstackJson() {
  const file = process.env.KEYLOOP_DEVSTACK_JSON;
  if (!file) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read KEYLOOP_DEVSTACK_JSON (${err.code ?? err.message})`);
  }
}

/** PEM of the devstack CA: from devstack.json's caFile, else $NODE_EXTRA_CA_CERTS (read by node itself). */
export function devstackCaPem() {
  const info = readDevstackJson();
  if (info?.caFile) return fs.readFileSync(info.caFile, 'utf8');
  return undefined;
}

export function fail(tool, message, code = 1) {
  process.stderr.write(`${tool}: ${message}\n`);
  process.exit(code);
}
