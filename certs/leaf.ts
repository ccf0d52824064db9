/**
 * Per-host leaf certificates, fast enough to issue inside a TLS handshake.
 *
 * Cost model: one RSA key pair for all leaves (generated once, asynchronously, when the issuer is
 * created), forge only to assemble the TBS, and the signature from OpenSSL via crypto.sign
 * (see sign.ts). Issuing is then ~1–2 ms and synchronous, so the proxy can call it from an SNI
 * callback without awaiting. Sharing a leaf key is fine for an interception proxy: every leaf is
 * already trusted only because of our CA, and the key never leaves this process.
 *
 * Hosts come from clients (CONNECT lines, SNI), so they are validated before use; nothing here
 * touches the filesystem anyway.
 */
import { isIP } from 'node:net';
import forge from 'node-forge';
import ipaddr from 'ipaddr.js';
import { ERR } from '../core/errors.js';
import type { CaMaterial } from './ca.js';
import { Lru } from './lru.js';
import { generateRsaKeyPair, randomSerialHex, signCertificate } from './sign.js';

export interface LeafCert {
  /** The issuer's shared leaf key (PKCS#1 PEM); the same string for every host. */
  readonly keyPem: string;
  /** The leaf alone; the CA is the client's trust anchor so it need not be sent. */
  readonly certPem: string;
}

export interface LeafIssuer {
  /** Returns a leaf for `host` (DNS name or IP literal without brackets); throws BadTargetError. */
  issue(host: string): LeafCert;
  /** Entries currently cached. */
  readonly size: number;
  /** The shared leaf private key (PKCS#1 PEM). */
  readonly keyPem: string;
}

export interface LeafIssuerOptions {
  /** Most leaves kept in memory (least recently used evicted first). Default 1000. */
  readonly cacheSize?: number;
}

/** A host we refuse to make a certificate for. `code` is LW_BAD_TARGET. */
export class BadTargetError extends Error {
  override readonly name = 'BadTargetError';
  readonly code = ERR.BAD_TARGET;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The CA/Browser Forum maximum for TLS server certificates; Apple clients reject longer ones. */
const MAX_LEAF_DAYS = 397;
const LABEL = /^[a-z0-9_-]{1,63}$/;

export type Target = { readonly kind: 'dns'; readonly name: string } | { readonly kind: 'ip'; readonly name: string };

/**
 * Checks and normalises a host: lower case, one trailing dot dropped (an absolute name means the
 * same host). Accepts LDH names (underscores too: some real hosts use them) and IPv4/IPv6
 * literals. Rejects wildcards, brackets, zone ids, paths and anything else.
 */
export function parseTarget(host: string): Target {
  const bad = (why: string): BadTargetError =>
    new BadTargetError(`not a valid target host (${why}): ${JSON.stringify(host.slice(0, 80))}`);
  if (typeof host !== 'string' || host.length === 0) throw bad('empty');
  if (isIP(host) !== 0) {
    if (host.includes('%')) throw bad('IPv6 zone ids are not allowed');
    return { kind: 'ip', name: host.toLowerCase() };
  }
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  if (name.length === 0 || name.length > 253) throw bad('length');
  for (const label of name.split('.')) if (!LABEL.test(label)) throw bad('bad label');
  return { kind: 'dns', name };
}

export async function createLeafIssuer(ca: CaMaterial, opts: LeafIssuerOptions = {}): Promise<LeafIssuer> {
  const keys = await generateRsaKeyPair();
  const keyPem = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cache = new Lru<string, LeafCert>(opts.cacheSize ?? 1000);
  const issuerAttrs = ca.forgeCert.subject.attributes;
  // AKI = the CA's SKI, so clients with several leakwatch CAs installed pick the right one.
  const skiExt = ca.forgeCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  const caKeyId = skiExt?.subjectKeyIdentifier
    ? forge.util.hexToBytes(skiExt.subjectKeyIdentifier)
    : ca.forgeCert.generateSubjectKeyIdentifier().getBytes();

  const build = (target: Target): LeafCert => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.forgePublicKey;
    cert.serialNumber = randomSerialHex();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - DAY_MS);
    cert.validity.notAfter = new Date(Math.min(now + MAX_LEAF_DAYS * DAY_MS, ca.notAfter.getTime()));
    // CN is legacy (clients match the SAN) and limited to 64 characters by RFC 5280.
    cert.setSubject([{ name: 'commonName', value: target.name.slice(0, 64) }]);
    cert.setIssuer(issuerAttrs);
    const altName =
      target.kind === 'ip'
        ? { type: 7, value: String.fromCharCode(...ipaddr.parse(target.name).toByteArray()) }
        : { type: 2, value: target.name };
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [altName] },
      { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
    ]);
    signCertificate(cert, ca.keyObject);
    return Object.freeze({ keyPem, certPem: forge.pki.certificateToPem(cert) });
  };

  return {
    issue(host: string): LeafCert {
      const target = parseTarget(host);
      const hit = cache.get(target.name);
      if (hit) return hit;
      const leaf = build(target);
      cache.set(target.name, leaf);
      return leaf;
    },
    get size() {
      return cache.size;
    },
    keyPem,
  };
}
