// SPDX-License-Identifier: MIT
// Helpers for the sandbox's own node tests (devstack, browser helpers). No secret is ever printed:
// assertion messages name what failed, never a token, code, verifier or state value.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import process from 'node:process';

export function devstack() {
  const file = process.env.KEYLOOP_DEVSTACK_JSON;
  if (!file) throw new Error('KEYLOOP_DEVSTACK_JSON is not set: run this test through sandbox-exec.sh --state');
  const info = JSON.parse(fs.readFileSync(file, 'utf8'));
  info.ca = info.caFile ? fs.readFileSync(info.caFile, 'utf8') : undefined;
  return info;
}

export function sourceDir() {
  return process.env.KEYLOOP_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
}

/** One HTTP(S) request; `ca` undefined means the system trust store only. */
export function request(url, { method = 'GET', headers = {}, body, ca, timeoutMs = 10000 } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, ca, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function postForm(url, fields, { ca, auth } = {}) {
  const body = new URLSearchParams(fields).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(auth[0])}:${encodeURIComponent(auth[1])}`).toString('base64')}`;
  return request(url, { method: 'POST', headers, body, ca });
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url'); // RFC 7636 §4.2
  return { verifier, challenge };
}

/** A loopback listener on HOST:0 (127.0.0.1 or ::1) that resolves `callback` with the first request's query. */
export async function loopbackListener(pathname = '/callback', host = '127.0.0.1') {
  let resolveCallback;
  const callback = new Promise((resolve) => { resolveCallback = resolve; });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== pathname) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Signed in. You can close this window.</body></html>');
    resolveCallback(url.searchParams);
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, host, resolve); });
  const { port } = server.address();
  const authority = host.includes(':') ? `[${host}]` : host;
  return { redirectUri: `http://${authority}:${port}${pathname}`, callback, close: () => server.close() };
}

export function authorizationUrl(ds, { redirectUri, state, challenge, scope = 'openid profile email offline_access', resource, nonce }) {
  const u = new URL('/auth', ds.issuer);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', ds.publicClientId);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('scope', scope);
  u.searchParams.set('state', state);
  u.searchParams.set('code_challenge', challenge);
  u.searchParams.set('code_challenge_method', 'S256');
  if (nonce) u.searchParams.set('nonce', nonce);
  if (resource) u.searchParams.set('resource', resource);
  return u.href;
}

/**
 * Runs a browser helper (scripted-login.mjs / chromium-login.mjs / scripted-device.mjs) on `args`
 * (a URL or an argument list); resolves with its exit code and output.
 */
export function runHelper(script, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(sourceDir(), 'demo-app/devstack', script), ...[args].flat()], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (d) => { stderr += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: stderr }));
  });
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]);
}
