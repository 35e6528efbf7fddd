// SPDX-License-Identifier: MIT
// usage: node qrcode_terminal_decode.mjs <path of qrtext>
//
// The terminal renderings of KeyloopQr (qrcode/qrterminal.h), printed by the test tool qrtext,
// turned back into images by tests/common/decode-terminal-qr.mjs and decoded by zbarimg: the
// decoded bytes must be the input's, for a verification_uri_complete, a 300+ character URL and
// non-ASCII UTF-8, in both variants.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const qrtext = process.argv[2];
assert.ok(qrtext, 'usage: qrcode_terminal_decode.mjs <qrtext>');
const decoder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'common', 'decode-terminal-qr.mjs');

const payloads = {
  // RFC 8628 §3.2: verification_uri_complete, as the devstack would send it.
  'verification_uri_complete': 'https://127.0.0.1:41234/device?user_code=ABCD-EFGH',
  // Mixed case (8-bit mode must keep it) and every unreserved character, 300+ characters.
  'long URL': 'https://Login.Example.com/realms/Keyloop-Test/protocol/openid-connect/auth/device'
    + '?user_code=WDJB-MJHT&ui_locales=de-CH%20fr-CA&client_id=Keyloop.CLI&state='
    + 'aZ09-_.~xYq'.repeat(22),
  'non-ASCII UTF-8': 'https://пример.испытание/device?user_code=ÄÖÜ-ßÇÑ&name=Zoë 日本語 Ελληνικά עברית 🙂🔑',
};

function run(command, args, input) {
  const result = spawnSync(command, args, { input, maxBuffer: 1 << 22 });
  assert.equal(result.error, undefined, `${command} could not run: ${result.error?.message}`);
  assert.equal(result.signal, null, `${command} died of ${result.signal}`);
  return result;
}

function render(variant, text) {
  const result = run(qrtext, [`--${variant}`, text]);
  assert.equal(result.status, 0, `qrtext --${variant} failed: ${result.stderr}`);
  return result.stdout;
}

function decode(terminalText, decoderArgs = []) {
  return run(process.execPath, [decoder, ...decoderArgs], terminalText);
}

function assertDecodesTo(terminalText, text, decoderArgs = []) {
  const result = decode(terminalText, decoderArgs);
  assert.equal(result.status, 0, `nothing decoded: ${result.stderr}`);
  // zbarimg --raw: the bytes as they are, then a newline.
  assert.deepEqual(result.stdout, Buffer.from(`${text}\n`, 'utf8'));
}

test('the payloads are what the test claims', () => {
  assert.ok(payloads['long URL'].length >= 300, `long URL: ${payloads['long URL'].length} characters`);
  assert.ok(/[^\x00-\x7f]/.test(payloads['non-ASCII UTF-8']));
});

for (const [name, text] of Object.entries(payloads)) {
  test(`ANSI rendering of the ${name} decodes on a dark and on a light terminal`, () => {
    const terminalText = render('ansi', text);
    assert.ok(terminalText.includes('\x1b[30;47m'), 'expected black-on-white SGR colours');
    // The colours are explicit: the terminal's own background makes no difference.
    assertDecodesTo(terminalText, text, ['--background', 'dark']);
    assertDecodesTo(terminalText, text, ['--background', 'light']);
  });

  test(`plain rendering of the ${name} decodes on a dark terminal, and as an inverted code on a light one`, () => {
    const terminalText = render('plain', text);
    assert.ok(!terminalText.includes('\x1b'), 'the plain rendering has no escape codes');
    assertDecodesTo(terminalText, text, ['--background', 'dark']);
    // Light background: light-on-dark, read when the scanner tries inverted images (phones do).
    assertDecodesTo(terminalText, text, ['--background', 'light', '--', '-Stest-inverted']);
  });
}

test('the code decodes among other stderr lines, with the user code printed to its right or left', () => {
  const uri = payloads.verification_uri_complete;
  for (const variant of ['ansi', 'plain']) {
    const lines = render(variant, uri).toString('utf8').replace(/\n$/, '').split('\n');
    const middle = Math.floor(lines.length / 2);
    const right = lines.map((line, i) => line + (i === middle ? '   Code: ABCD-EFGH' : i === middle + 1 ? `   or visit ${uri}` : ''));
    const stderr = `To sign in, visit https://127.0.0.1:41234/device and enter the code ABCD-EFGH\n\n${right.join('\n')}\nWaiting for you to approve …\n`;
    assertDecodesTo(Buffer.from(stderr, 'utf8'), uri);
    // RFC 8628 §3.3.1, Figure 3: the instructions in a column to the left of the code.
    const instructions = ['Scan the QR code or, using', 'a browser on another device,', 'visit:',
      'https://127.0.0.1:41234/device', '', 'And enter the code:', 'ABCD-EFGH'];
    const left = lines.map((line, i) => `  ${(instructions[i - 2] ?? '').padEnd(34)}${line}`);
    assertDecodesTo(Buffer.from(`${left.join('\n')}\n`, 'utf8'), uri);
  }
});

test('text without a QR code decodes to nothing (exit 1)', () => {
  const result = decode(Buffer.from('Signed in as Alice Example (sub alice)\n'));
  assert.equal(result.status, 1);
  assert.equal(result.stdout.length, 0);
});

test('a text too long for any QR version gives the error, not a crash', () => {
  const result = run(qrtext, ['--plain', '--stdin'], Buffer.alloc(2332, 'a'));
  assert.equal(result.status, 1, 'qrtext must fail cleanly');
  assert.equal(result.stdout.length, 0);
  assert.match(result.stderr.toString(), /^qrtext: the text is too long for a QR code \(2332 bytes; one holds at most 2331 bytes of text\)\n$/);
  // The largest that fits: version 40, still decodes.
  const largest = run(qrtext, ['--plain', '--stdin'], Buffer.alloc(2331, 'a'));
  assert.equal(largest.status, 0, largest.stderr.toString());
  assertDecodesTo(largest.stdout, 'a'.repeat(2331));
});
