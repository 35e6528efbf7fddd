// SPDX-License-Identifier: MIT
// The devstack's part of the device authorization grant (RFC 8628) — what oidc-provider 9 leaves to
// the deployment:
//   - the `interval` of the device authorization response (§3.2): oidc-provider sends none;
//   - enforcing it (§3.5): oidc-provider defines a SlowDown error but never raises it;
//   - a log of every device-code token request, for tests that assert the real poll intervals;
//   - the user-facing pages, each marked with data-device-result="…" for scripted-device.mjs.

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.5: after slow_down "the interval MUST be increased by 5 seconds". */
export const SLOW_DOWN_STEP_MS = 5000;

/** Timer jitter a poll may have: 10 % of the interval, at least 100 ms. */
export function pollTolerance(intervalMs) {
  return Math.max(100, intervalMs / 10);
}

function sha256Hex(value) {
  return createHash('sha256').update(String(value)).digest('hex');
}

/** A device code's name in the poll log: the first 8 hex digits of its SHA-256, never the code. */
export function deviceLogId(deviceCode) {
  return typeof deviceCode === 'string' && deviceCode !== '' ? sha256Hex(deviceCode).slice(0, 8) : null;
}

const RETAIN_MS = 10 * 60 * 1000; // pacing state outlives its device code as long as the store does

/**
 * Poll pacing per device code and the poll log. Times are milliseconds on the monotonic clock since
 * the devstack started. Device codes are only ever kept as SHA-256 hashes.
 */
export class DevicePolls {
  #origin = performance.now();
  #pacing = new Map(); // sha256 hex -> { intervalMs, expiresAt, lastPollAt }
  #log = [];
  /**
   * A provider under load asks every client with a pending code to poll more slowly: the pace
   * enforced for a pending code is at least this, whatever interval the code was issued with.
   */
  minIntervalMs = 0;

  /** Milliseconds since the devstack started (monotonic). */
  now() {
    return Math.round(performance.now() - this.#origin);
  }

  /** A device authorization response went out with this `interval` and `expires_in` (seconds). */
  issued(deviceCode, intervalSeconds, expiresInSeconds) {
    const now = this.now();
    for (const [key, entry] of this.#pacing) {
      if (entry.expiresAt + RETAIN_MS < now) this.#pacing.delete(key);
    }
    this.#pacing.set(sha256Hex(deviceCode), {
      intervalMs: intervalSeconds * 1000,
      expiresAt: now + expiresInSeconds * 1000,
      lastPollAt: undefined,
    });
  }

  /**
   * A token request for `deviceCode` arrived at `at`. Returns true if it must be answered with
   * slow_down: the authorization is still `pending` (§3.5 defines slow_down as "a variant of
   * authorization_pending") and the previous poll of the same code was less than the current
   * interval ago, minus pollTolerance(). Each slow_down raises that code's interval by 5 s (§3.5:
   * "for this and all subsequent requests"). Every poll, whatever its answer, is the reference for
   * the next one. The first poll is never too early (the interval is "between polling requests").
   */
  tooEarly(deviceCode, at, pending) {
    const entry = this.#pacing.get(sha256Hex(deviceCode));
    if (!entry) return false; // unknown code: oidc-provider answers invalid_grant
    const previous = entry.lastPollAt;
    entry.lastPollAt = at;
    if (!pending || previous === undefined) return false;
    const intervalMs = Math.max(entry.intervalMs, this.minIntervalMs);
    if (at - previous >= intervalMs - pollTolerance(intervalMs)) return false;
    // The client adds 5 s to the interval it was told (§3.5), whatever pace the provider wanted.
    entry.intervalMs += SLOW_DOWN_STEP_MS;
    return true;
  }

  /** Appends {device, at, result} in arrival order (requests may finish out of order). */
  record(deviceCode, at, result) {
    const entry = { device: deviceLogId(deviceCode), at, result };
    let i = this.#log.length;
    while (i > 0 && this.#log[i - 1].at > at) i -= 1;
    this.#log.splice(i, 0, entry);
  }

  log() {
    return this.#log;
  }

  resetLog() {
    this.#log = [];
  }
}

// ---------------------------------------------------------------------------------------------
// Pages (features.deviceFlow.userCodeInputSource / userCodeConfirmSource / successSource).
// Self-contained HTML (no external fonts: a browser never leaves loopback). The <main> element's
// data-device-result names the state for scripted-device.mjs:
//   enter-code | confirm | approved | denied | invalid-code | expired | already-used | error

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

const STYLE = 'body{font-family:sans-serif;margin:32px auto;max-width:340px;color:#222}'
  + 'main{padding:8px 24px 16px;background:#f6f6f6;border-radius:4px}h1{font-weight:300}'
  + 'input[type=text]{width:100%;box-sizing:border-box;font-size:18px;padding:6px;text-transform:uppercase}'
  + 'button{margin:8px 8px 0 0;padding:6px 14px}code{font-size:1.6em}';

function page(ctx, title, result, content) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(title)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>${STYLE}</style>
</head>
<body>
  <main data-device-result="${result}">
    <h1>${escapeHtml(title)}</h1>
${content}
  </main>
</body>
</html>`;
}

function clientName(ctx) {
  const client = ctx.oidc?.client;
  return client ? (client.clientName || client.clientId) : undefined;
}

const INPUT_STATES = {
  // err.name of oidc-provider's re-render errors -> [data-device-result, message]
  none: ['enter-code', 'Enter the code displayed on your device.'],
  NoCodeError: ['invalid-code', 'Enter the code displayed on your device.'],
  NotFoundError: ['invalid-code', 'The code you entered is incorrect. Try again.'],
  ExpiredError: ['expired', 'The code has expired. Start the sign-in again on your device.'],
  AlreadyUsedError: ['already-used', 'This code has already been used.'],
  // Raised for the confirmation page's Deny button and for access_denied from the login/consent
  // interaction: the device is told access_denied (RFC 8628 §3.5).
  AbortedError: ['denied', 'The sign-in request was denied. You can close this page.'],
};

export async function userCodeInputSource(ctx, form, out, err) {
  const [result, message] = INPUT_STATES[err ? err.name : 'none']
    ?? ['error', `The request failed${out?.error ? ` (${escapeHtml(out.error)})` : ''}. Start the sign-in again on your device.`];
  page(ctx, 'Device sign-in', result, `    <p>${message}</p>
    ${form}
    <button type="submit" form="op.deviceInputForm">Continue</button>`);
}

export async function userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  const name = escapeHtml(client?.clientName || client?.clientId || 'an application');
  page(ctx, 'Confirm device', 'confirm', `    <p><strong>${name}</strong> asks to sign in on a device showing this code:</p>
    <p><code>${escapeHtml(userCode)}</code></p>
    <p>Deny if you did not start this sign-in or the code differs.</p>
    ${form}
    <button type="submit" form="op.deviceConfirmForm" autofocus>Continue</button>
    <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Deny</button>`);
}

export async function successSource(ctx) {
  const name = clientName(ctx);
  page(ctx, 'Device approved', 'approved',
    `    <p>The device sign-in${name ? ` to <strong>${escapeHtml(name)}</strong>` : ''} is approved. You can return to your device and close this page.</p>`);
}
