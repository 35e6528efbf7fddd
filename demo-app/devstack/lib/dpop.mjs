// SPDX-License-Identifier: MIT
// The protected API's side of DPoP (RFC 9449): oidc-provider 9 checks proofs at its own endpoints
// and binds the tokens it issues (cnf.jkt), but a resource server checks proofs itself:
//   - the proof (§4.3) and the binding of the access token to its key (§7.1, `ath` and cnf.jkt);
//   - a replay cache of `jti` (§11.1);
//   - resource server nonces (§9): `use_dpop_nonce` with a fresh `DPoP-Nonce`.
// Failure reasons are short, stable words the tests match on; no proof, token or nonce is logged.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';

/** Proof algorithms the API accepts (asymmetric only, §4.3 check 5); its challenges' `algs`. */
export const DPOP_ALGS = ['ES256', 'EdDSA'];

/** §4.3 check 11: how far `iat` may be from now, either side (seconds). */
export const IAT_WINDOW_S = 60;

// Members of a JWK that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4;
// RFC 8037 §2). §4.3 check 7: the header's jwk "does not contain a private key".
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A refused proof or token: `error` is the challenge's error code, `description` the reason. */
export class DpopError extends Error {
  constructor(error, description) {
    super(description);
    this.error = error;
    this.description = description;
  }
}

const proofError = (description) => new DpopError('invalid_dpop_proof', description);

/** §4.3 check 12 / §4.2: base64url(SHA-256(ASCII access token)). */
export function accessTokenHash(accessToken) {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

// RFC 3986 §6.2.2.1 and §6.2.2.2: percent-encodings in upper case, unreserved characters decoded.
function normalisePercentEncoding(value) {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * A URI as §4.3 check 9 compares it: without query and fragment, normalised per RFC 3986 §6.2.2
 * (case, percent-encoding, dot segments) and §6.2.3 (default port, empty path is "/"), which the
 * WHATWG URL parser does except for the percent-encodings. Undefined if it is no absolute http(s) URI
 * or carries user information.
 */
export function normaliseHtu(value) {
  if (typeof value !== 'string') return undefined;
  let url;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  return `${url.protocol}//${url.host}${normalisePercentEncoding(url.pathname)}`;
}

/**
 * The jti replay cache (§11.1): each accepted proof's jti is kept 5 minutes — longer than a proof
 * can be fresh (iat ± 60 s). Bounded: when full, expired entries go first, then the oldest.
 */
export class ReplayCache {
  #entries = new Map(); // jti -> expiry (ms since the epoch), in insertion order

  constructor({ retainMs = 5 * 60 * 1000, maxEntries = 10000 } = {}) {
    this.retainMs = retainMs;
    this.maxEntries = maxEntries;
  }

  /** True (and the jti remembered) if the jti was not seen within the retention time. */
  add(jti, now = Date.now()) {
    const expiry = this.#entries.get(jti);
    if (expiry !== undefined && expiry > now) return false;
    this.#entries.delete(jti);
    if (this.#entries.size >= this.maxEntries) {
      for (const [key, until] of this.#entries) {
        if (until <= now) this.#entries.delete(key);
      }
      for (const key of this.#entries.keys()) {
        if (this.#entries.size < this.maxEntries) break;
        this.#entries.delete(key);
      }
    }
    this.#entries.set(jti, now + this.retainMs);
    return true;
  }

  clear() {
    this.#entries.clear();
  }

  get size() {
    return this.#entries.size;
  }
}

/**
 * Resource server nonces (§9): HMAC-SHA256(secret, time step) in 60-second steps, so nothing is
 * stored. `current()` is the nonce to hand out; `check()` accepts the current step's and the two
 * before (a nonce is good for 2–3 minutes); anything else is stale or was never issued.
 */
export class DpopNonces {
  #secret;

  constructor(secret, { stepS = 60, acceptedSteps = 3 } = {}) {
    this.#secret = secret;
    this.stepS = stepS;
    this.acceptedSteps = acceptedSteps;
  }

  #value(step) {
    return createHmac('sha256', this.#secret).update(`keyloop-api DPoP nonce ${step}`).digest('base64url');
  }

  #step(now) {
    return Math.floor(now / 1000 / this.stepS);
  }

  current(now = Date.now()) {
    return this.#value(this.#step(now));
  }

  check(nonce, now = Date.now()) {
    if (typeof nonce !== 'string') return false;
    const given = Buffer.from(nonce);
    let matched = false;
    for (let i = 0; i < this.acceptedSteps; i += 1) {
      const expected = Buffer.from(this.#value(this.#step(now) - i));
      matched = (expected.length === given.length && timingSafeEqual(expected, given)) || matched;
    }
    return matched;
  }
}

/**
 * Verifies one DPoP proof sent to the API with a DPoP-bound access token (§4.3, §7.1), in the
 * order of §4.3's checks; the jti is remembered only once everything else has passed.
 *
 *   proof         the DPoP header's value
 *   method, htu   the request's method and its URI (as normaliseHtu gives it)
 *   accessToken   the token of the Authorization header (for ath)
 *   boundJkt      the token's cnf.jkt
 *   nonces        a DpopNonces when the API requires a nonce, else undefined
 *   replay        the ReplayCache
 *
 * Resolves with { jkt, nonceStale } (nonceStale: a nonce was required and the proof's is accepted
 * but no longer the current one, so the response should carry a fresh DPoP-Nonce, §9.1); throws a
 * DpopError otherwise: invalid_dpop_proof, use_dpop_nonce or invalid_token.
 */
export async function verifyDpopProof({ proof, method, htu, accessToken, boundJkt, nonces, replay, now = Date.now() }) {
  let header;
  try {
    header = decodeProtectedHeader(proof); // §4.3 check 2: a well-formed JWS
  } catch {
    throw proofError('malformed proof');
  }
  if (proof.split('.').length !== 3) throw proofError('malformed proof');
  if (header.typ !== 'dpop+jwt') throw proofError('typ is not dpop+jwt'); // check 4
  if (!DPOP_ALGS.includes(header.alg)) throw proofError('unsupported alg'); // check 5
  if (header.jwk === null || typeof header.jwk !== 'object' || Array.isArray(header.jwk)) throw proofError('missing jwk');
  if (PRIVATE_JWK_MEMBERS.some((name) => Object.hasOwn(header.jwk, name))) throw proofError('private key in proof header'); // check 7

  let claims;
  try {
    ({ payload: claims } = await jwtVerify(proof, EmbeddedJWK, { algorithms: DPOP_ALGS, typ: 'dpop+jwt' })); // check 6
  } catch (err) {
    if (err?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw proofError('bad signature');
    if (err?.code === 'ERR_JWT_EXPIRED') throw proofError('proof expired');
    throw proofError('invalid proof');
  }

  // Check 3: the claims every proof to a resource server has (§4.2, ath: §7.1).
  for (const name of ['jti', 'htm', 'htu', 'iat', 'ath']) {
    if (claims[name] === undefined) throw proofError(`missing ${name}`);
  }
  if (typeof claims.jti !== 'string' || claims.jti === '') throw proofError('missing jti');
  if (claims.htm !== method) throw proofError('htm mismatch'); // check 8
  if (normaliseHtu(claims.htu) !== htu) throw proofError('htu mismatch'); // check 9

  // Check 10 (§9): a missing nonce is the challenge itself; a wrong or stale one gets a fresh one.
  let nonceStale = false;
  if (nonces) {
    if (claims.nonce === undefined) throw new DpopError('use_dpop_nonce', 'nonce required');
    if (!nonces.check(claims.nonce, now)) throw new DpopError('use_dpop_nonce', 'nonce mismatch');
    nonceStale = claims.nonce !== nonces.current(now);
  }

  if (typeof claims.iat !== 'number' || Math.abs(now / 1000 - claims.iat) > IAT_WINDOW_S) throw proofError('iat out of range'); // check 11
  if (claims.ath !== accessTokenHash(accessToken)) throw proofError('ath mismatch'); // check 12, §7.1

  // §7.1 / §6.1: the token is bound to this proof's key (RFC 7638 thumbprint). Like oidc-provider's
  // own userinfo endpoint, a token used with another key is invalid_token ("failed jkt verification").
  const jkt = await calculateJwkThumbprint(header.jwk, 'sha256');
  if (typeof boundJkt !== 'string' || jkt !== boundJkt) throw new DpopError('invalid_token', "key does not match the token's cnf.jkt");

  if (!replay.add(claims.jti, now)) throw proofError('replayed jti'); // §11.1
  return { jkt, nonceStale };
}
