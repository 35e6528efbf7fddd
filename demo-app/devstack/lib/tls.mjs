// SPDX-License-Identifier: MIT
// The devstack's local certificate authority, made with the openssl CLI.
// DIR/ca.pem + DIR/ca-key.pem: a CA generated once per state directory (never committed).
// DIR/leaf.pem + DIR/leaf-key.pem: the server certificate for IP 127.0.0.1 and DNS localhost,
// re-issued when missing, when it expires within a day, or when the CA is newer.

import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args, options = {}) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
}

function expiresWithinADay(certPath) {
  try {
    openssl(['x509', '-in', certPath, '-noout', '-checkend', '86400']);
    return false;
  } catch {
    return true;
  }
}

export function ensureCertificates(stateDir) {
  const ca = path.join(stateDir, 'ca.pem');
  const caKey = path.join(stateDir, 'ca-key.pem');
  const leaf = path.join(stateDir, 'leaf.pem');
  const leafKey = path.join(stateDir, 'leaf-key.pem');

  if (!fs.existsSync(ca) || !fs.existsSync(caKey) || expiresWithinADay(ca)) {
    const tmpCert = `${ca}.tmp`;
    const tmpKey = `${caKey}.tmp`;
    openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', tmpKey, '-out', tmpCert, '-days', '3650', '-sha256',
      '-subj', '/O=Keyloop devstack/CN=Keyloop devstack local CA (never trust outside tests)',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash']);
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, caKey);
    fs.renameSync(tmpCert, ca);
    fs.rmSync(leaf, { force: true });
  }

  const caMtime = fs.statSync(ca).mtimeMs;
  if (!fs.existsSync(leaf) || !fs.existsSync(leafKey) || fs.statSync(leaf).mtimeMs < caMtime
      || expiresWithinADay(leaf)) {
    const csr = `${leaf}.csr.tmp`;
    const ext = `${leaf}.ext.tmp`;
    const tmpKey = `${leafKey}.tmp`;
    const tmpCert = `${leaf}.tmp`;
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', tmpKey, '-out', csr, '-subj', '/O=Keyloop devstack/CN=127.0.0.1']);
    fs.writeFileSync(ext, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'));
    openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial',
      '-CAserial', path.join(stateDir, 'ca.srl'), '-out', tmpCert, '-days', '90', '-sha256',
      '-extfile', ext]);
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, leafKey);
    fs.renameSync(tmpCert, leaf);
    fs.rmSync(csr, { force: true });
    fs.rmSync(ext, { force: true });
  }

  const leafPem = fs.readFileSync(leaf, 'utf8');
  const caPem = fs.readFileSync(ca, 'utf8');
  return {
    caFile: ca,
    certFile: leaf,
    // The server sends leaf + CA so that a client pinning either key sees it in the chain.
    cert: leafPem + caPem,
    key: fs.readFileSync(leafKey, 'utf8'),
    ca: caPem,
    leafSpkiSha256: spkiSha256(leafPem),
  };
}

/** base64(SHA-256(SubjectPublicKeyInfo DER)): the format of Chromium's --ignore-certificate-errors-spki-list. */
export function spkiSha256(pem) {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
