// SPDX-License-Identifier: MIT
// The devstack inside the sandbox: discovery over HTTPS with the generated CA (and only with it),
// the issuer matches devstack.json, the admin counters count, and the network namespace has no
// way off the machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import test from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';

import { devstack, request } from './common.mjs';

const ds = devstack();
const discoveryUrl = `${ds.issuer}/.well-known/openid-configuration`;

test('devstack.json describes an https devstack on loopback', () => {
  for (const key of ['issuer', 'api', 'apiResource', 'admin', 'caFile', 'publicClientId', 'serviceClientId', 'serviceClientSecret']) {
    assert.equal(typeof ds[key], 'string', `${key} missing`);
  }
  assert.match(ds.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(ds.api, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(ds.admin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ds.apiResource, 'https://api.keyloop.test');
  assert.equal(ds.publicClientId, 'keyloop-demo');
  assert.equal(ds.serviceClientId, 'keyloop-service');
  assert.ok(ds.serviceClientSecret.length >= 32, 'service client secret too short');
});

test('discovery is served over https with the generated CA', async () => {
  const res = await request(discoveryUrl, { ca: ds.ca });
  assert.equal(res.status, 200);
  assert.equal(res.json.issuer, ds.issuer, 'discovery issuer differs from devstack.json');
  assert.equal(res.json.authorization_response_iss_parameter_supported, true);
  assert.deepEqual(res.json.code_challenge_methods_supported, ['S256']);
  assert.equal(res.json.userinfo_endpoint, `${ds.issuer}/me`);
  for (const key of ['token_endpoint', 'jwks_uri', 'revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint']) {
    assert.ok(res.json[key]?.startsWith(`${ds.issuer}/`), `${key} not on the issuer`);
  }
});

test('without the devstack CA the certificate is rejected', async () => {
  await assert.rejects(request(discoveryUrl, { ca: tls.rootCertificates }),
    (err) => ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(err.code));
});

test('curl agrees: --cacert works, the system store does not', async (t) => {
  const run = promisify(execFile);
  try {
    await run('curl', ['--version']);
  } catch {
    t.skip('curl not installed');
    return;
  }
  const ok = await run('curl', ['-sS', '--fail', '--max-time', '5', '--cacert', ds.caFile, '-o', '/dev/null', discoveryUrl]);
  assert.equal(ok.stderr, '');
  await assert.rejects(run('curl', ['-sS', '--max-time', '5', '-o', '/dev/null', discoveryUrl]), (err) => err.code === 60);
});

test('the admin counters count discovery requests', async () => {
  const before = (await request(`${ds.admin}/counters`)).json;
  for (const key of ['token', 'authorization', 'jwks', 'revocation', 'userinfo', 'api', 'refresh', 'discovery', 'introspection']) {
    assert.equal(typeof before[key], 'number', `counter ${key} missing`);
  }
  await request(discoveryUrl, { ca: ds.ca });
  await request(discoveryUrl, { ca: ds.ca });
  const after = (await request(`${ds.admin}/counters`)).json;
  // Other tests may run at the same time (ctest -j): at least our two requests.
  assert.ok(after.discovery - before.discovery >= 2, 'discovery counter did not count');
  await request(`${ds.issuer}/jwks`, { ca: ds.ca });
  assert.ok((await request(`${ds.admin}/counters`)).json.jwks > before.jwks, 'jwks counter did not count');
});

test('only loopback exists in the sandbox network namespace', async () => {
  assert.deepEqual(Object.keys(os.networkInterfaces()), ['lo']);
  const err = await new Promise((resolve) => {
    const socket = net.connect({ host: '192.0.2.1', port: 80, timeout: 3000 }); // RFC 5737 TEST-NET-1
    socket.on('connect', () => { socket.destroy(); resolve(undefined); });
    socket.on('timeout', () => { socket.destroy(); resolve({ code: 'TIMEOUT' }); });
    socket.on('error', resolve);
  });
  assert.equal(err?.code, 'ENETUNREACH', 'a non-loopback address must be unreachable at once');
});
