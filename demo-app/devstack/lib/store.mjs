// SPDX-License-Identifier: MIT
// In-memory storage adapter for oidc-provider with no size limit (the bundled MemoryAdapter is an
// LRU capped at 1000 entries, which a long test run can exceed and then "forget" live refresh
// tokens). Shared by every Provider instance of one devstack process, so rebuilding the provider
// for a key rotation keeps sessions, grants and tokens. `clear()` revokes everything at once.

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

// Kept this long past their expiry: oidc-provider looks device codes up with ignoreExpiration and
// answers expired_token (RFC 8628 §3.5) itself, or "the code has expired" on the user-code page;
// an entry dropped at expiry would turn that into invalid_grant / "incorrect code".
const RETAIN_AFTER_EXPIRY_S = { DeviceCode: 10 * 60 };

export class Store {
  #entries = new Map(); // key -> { value, expiresAt }

  get(key) {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, expiresInSeconds) {
    const expiresAt = typeof expiresInSeconds === 'number' ? Date.now() + expiresInSeconds * 1000 : undefined;
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key) {
    this.#entries.delete(key);
  }

  clear() {
    this.#entries.clear();
  }

  /**
   * oidc-provider's `adapter` option. `hooks.found(model, id, payload)`, if given, sees every
   * successful find() by id before oidc-provider does and may throw to refuse the request.
   */
  adapterFactory(hooks = {}) {
    const store = this;
    return (model) => new StoreAdapter(model, store, hooks);
  }
}

class StoreAdapter {
  constructor(model, store, hooks) {
    this.model = model;
    this.store = store;
    this.hooks = hooks;
    this.retain = RETAIN_AFTER_EXPIRY_S[model] ?? 0;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session' && payload.uid) {
      this.store.set(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    const keepFor = typeof expiresIn === 'number' ? expiresIn + this.retain : expiresIn;
    if (payload.userCode) {
      this.store.set(`userCode:${payload.userCode}`, id, keepFor);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = this.store.get(grantKey) ?? new Set();
      members.add(key);
      this.store.set(grantKey, members);
    }
    this.store.set(key, payload, keepFor);
  }

  async find(id) {
    const payload = this.store.get(this.key(id));
    if (payload !== undefined) this.hooks.found?.(this.model, id, payload);
    return payload;
  }

  async findByUid(uid) {
    const id = this.store.get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = this.store.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    const members = this.store.get(grantKey);
    if (members) {
      for (const key of members) this.store.delete(key);
    }
    this.store.delete(grantKey);
  }
}
