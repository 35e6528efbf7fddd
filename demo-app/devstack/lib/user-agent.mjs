// SPDX-License-Identifier: MIT
// The plain HTTP "browser" shared by scripted-login.mjs and scripted-device.mjs: one request at a
// time, manual redirects, a cookie jar, loopback hosts only, and a little HTML form parsing.

import http from 'node:http';
import https from 'node:https';

import { isLoopbackUrl, redact } from './loopback.mjs';

export class UserAgent {
  #jar = new Map(); // `${host}|${path}|${name}` -> { host, path, name, value }
  #ca;
  #name;

  /** `ca`: extra trusted certificates (undefined: node's defaults); `name`: the User-Agent. */
  constructor({ ca, name }) {
    this.#ca = ca;
    this.#name = name;
  }

  /** One exchange; rejects for a non-loopback URL. Resolves {status, headers, body}. */
  async request(method, url, body) {
    if (!isLoopbackUrl(url)) throw new Error(`refusing to contact non-loopback ${redact(url.href)}`);
    const mod = url.protocol === 'https:' ? https : http;
    const headers = { 'user-agent': this.#name, accept: 'text/html,*/*' };
    const cookies = this.#cookieHeader(url);
    if (cookies) headers.cookie = cookies;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const res = await new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, ca: this.#ca, agent: false }, (response) => {
        const chunks = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () => resolve({
          status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'),
        }));
        response.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
    this.#storeCookies(url, [res.headers['set-cookie'] ?? []].flat());
    return res;
  }

  // RFC 6265, reduced to what oidc-provider uses: host-only cookies with a path.
  #storeCookies(url, setCookies) {
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [k, v = ''] = attribute.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${url.hostname}|${path}|${name}`;
      if (expired) this.#jar.delete(id);
      else this.#jar.set(id, { host: url.hostname, path, name, value });
    }
  }

  #cookieHeader(url) {
    const pathMatches = (cookiePath) => url.pathname === cookiePath
      || url.pathname.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`);
    return [...this.#jar.values()]
      .filter((c) => c.host === url.hostname && pathMatches(c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

export function decodeEntities(s) {
  return s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;|&#47;/g, '/');
}

/** The first <form> of a page: {action, fields} (its named <input>s), or undefined. */
export function parseForm(html) {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = {};
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[1])?.[1];
    if (!name) continue;
    fields[decodeEntities(name)] = decodeEntities(/\bvalue="([^"]*)"/i.exec(input[1])?.[1] ?? '');
  }
  return { action: decodeEntities(form[1]), fields };
}

/** The error named on a provider error page ("error: description"), for messages. */
export function describeErrorPage(html) {
  const text = html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  const error = /\berror:?\s*([a-z_]+)/i.exec(text)?.[1];
  const description = /error_description:?\s*([^<]{1,200}?)(?:\s{2}|$|state:|iss:)/i.exec(text)?.[1];
  return [error, description].filter(Boolean).join(': ') || 'no form on the page';
}
