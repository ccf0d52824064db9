import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCaCertificate, loadOrCreateCa, type CaMaterial } from '../../certs/ca.js';
import { createLeafIssuer, parseTarget, type LeafIssuer } from '../../certs/leaf.js';
import { generateRsaKeyPair } from '../../certs/sign.js';
import { tempDirs } from './helpers.js';

const newDir = tempDirs();
let ca: CaMaterial;
let issuer: LeafIssuer;

beforeAll(async () => {
  ca = await loadOrCreateCa(newDir());
  issuer = await createLeafIssuer(ca);
});

const caKey = (): X509Certificate => new X509Certificate(ca.certPem);

function opensslVerify(certPem: string, extra: string[]): string {
  const f = join(newDir(), 'leaf.pem');
  writeFileSync(f, certPem);
  return execFileSync('openssl', ['verify', '-CAfile', ca.certPath, '-purpose', 'sslserver', ...extra, f], {
    encoding: 'utf8',
  });
}

/** Serves `leafFor(servername)` over real TLS and connects trusting only our CA. */
async function handshake(connectTo: string, servername: string | undefined, leafHost: string): Promise<boolean> {
  const opts = (l: { keyPem: string; certPem: string }) => ({ key: l.keyPem, cert: l.certPem });
  const server = tls.createServer({
    SNICallback: (sni, cb) => cb(null, tls.createSecureContext(opts(issuer.issue(sni)))),
    ...opts(issuer.issue(leafHost)), // used when the client sends no SNI (IP literals)
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<boolean>((resolve, reject) => {
      const sock = tls.connect({ host: connectTo, port, ca: ca.certPem, ...(servername ? { servername } : {}) });
      sock.once('secureConnect', () => {
        resolve(sock.authorized);
        sock.destroy();
      });
      sock.once('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('leaf issuer', () => {
  it('issues a DNS leaf that verifies against the CA', () => {
    const leaf = issuer.issue('matrix.example.org');
    const x = new X509Certificate(leaf.certPem);
    expect(x.verify(caKey().publicKey)).toBe(true);
    expect(x.checkIssued(caKey())).toBe(true);
    expect(x.checkHost('matrix.example.org')).toBe('matrix.example.org');
    expect(x.checkHost('other.example.org')).toBeUndefined();
    expect(x.subjectAltName).toBe('DNS:matrix.example.org');
    expect(x.subject).toBe('CN=matrix.example.org');
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // EKU serverAuth only
    expect(x.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(opensslVerify(leaf.certPem, ['-verify_hostname', 'matrix.example.org'])).toMatch(/: OK/);
  });

  it('sets validity, key usage and AKI = CA SKI', () => {
    const x = new X509Certificate(issuer.issue('valid.example').certPem);
    const days = (new Date(x.validTo).getTime() - Date.now()) / 86400e3;
    expect(days).toBeGreaterThan(396);
    expect(days).toBeLessThanOrEqual(397);
    expect(Date.now() - new Date(x.validFrom).getTime()).toBeGreaterThan(86400e3 - 120e3);
    const f = forge.pki.certificateFromPem(x.toString());
    const aki = f.getExtension('authorityKeyIdentifier') as { value: string };
    const ski = (ca.forgeCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
    expect(forge.util.bytesToHex(aki.value)).toContain(ski); // SEQ { [0] keyIdentifier }
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: x.toString(), encoding: 'utf8' });
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
  });

  it('uses IP SANs for IPv4 and IPv6 literals', () => {
    const v4 = new X509Certificate(issuer.issue('127.0.0.1').certPem);
    expect(v4.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(v4.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const v6 = new X509Certificate(issuer.issue('2001:DB8::1').certPem);
    expect(v6.subjectAltName).toBe('IP Address:2001:DB8:0:0:0:0:0:1');
    expect(v6.checkIP('2001:db8::1')).toBe('2001:db8::1');
    const mapped = new X509Certificate(issuer.issue('::ffff:10.0.0.1').certPem);
    expect(mapped.checkIP('::ffff:10.0.0.1')).toBe('::ffff:10.0.0.1');
    expect(opensslVerify(issuer.issue('::1').certPem, ['-verify_ip', '::1'])).toMatch(/: OK/);
  });

  it('completes real TLS handshakes trusting only the CA', async () => {
    expect(await handshake('127.0.0.1', 'leak.example', 'unused.example')).toBe(true);
    expect(await handshake('127.0.0.1', 'Mixed.Case.Example', 'unused.example')).toBe(true);
    expect(await handshake('127.0.0.1', undefined, '127.0.0.1')).toBe(true); // IP: no SNI
    await expect(handshake('127.0.0.1', undefined, 'wrong.example')).rejects.toThrow(/IP: 127.0.0.1 is not in the cert's list/);
  });

  it('rejects hosts that are not DNS names or IP literals', () => {
    const bad = ['../../x', 'a/b', '', 'a'.repeat(300), '*.x', '*.example.com', '[::1]', 'a..b', '.a', 'a b',
      'fe80::1%eth0', 'x'.repeat(64) + '.com', 'host:443', 'a\u0000b', 'ex\u00e4mple.com', 'a\\b'];
    for (const host of bad) {
      let err: unknown;
      try {
        issuer.issue(host);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(host)).toMatchObject({ code: 'LW_BAD_TARGET' });
    }
  });

  it('accepts odd but valid names, normalising case and a trailing dot', () => {
    for (const host of ['a_b.example', '-x.example', 'x'.repeat(63) + '.com', 'localhost', '1.2.3'])
      expect(() => issuer.issue(host)).not.toThrow();
    const long = Array.from({ length: 4 }, () => 'y'.repeat(62)).join('.') + '.a'; // 253 chars
    expect(long.length).toBe(253);
    const x = new X509Certificate(issuer.issue(long).certPem);
    expect(x.subject).toBe(`CN=${long.slice(0, 64)}`);
    expect(x.checkHost(long)).toBe(long);
    expect(issuer.issue('WWW.Example.COM.')).toBe(issuer.issue('www.example.com'));
    expect(parseTarget('Example.COM.')).toEqual({ kind: 'dns', name: 'example.com' });
  });

  it('keeps a bounded LRU and shares one key', async () => {
    const small = await createLeafIssuer(ca, { cacheSize: 3 });
    const first = small.issue('h1.example');
    small.issue('h2.example');
    small.issue('h3.example');
    expect(small.issue('h1.example')).toBe(first); // hit, now most recent
    small.issue('h4.example'); // evicts h2
    expect(small.size).toBe(3);
    expect(small.issue('h1.example')).toBe(first);
    expect(small.issue('h4.example').keyPem).toBe(small.keyPem);
    expect(small.keyPem).not.toBe(issuer.keyPem); // one key per issuer
  });

  it('never outlives the CA', async () => {
    const dir = newDir();
    const keys = await generateRsaKeyPair();
    // A CA built 10 years minus 30 days ago has 30 days left.
    const old = buildCaCertificate(keys, new Date(Date.now() - (10 * 365.25 - 30) * 86400e3));
    mkdirSync(join(dir, 'ca'), { recursive: true });
    writeFileSync(join(dir, 'ca', 'leakwatch-ca.pem'), forge.pki.certificateToPem(old));
    writeFileSync(join(dir, 'ca', 'leakwatch-ca-key.pem'), keys.privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const oldCa = await loadOrCreateCa(dir);
    const leaf = new X509Certificate((await createLeafIssuer(oldCa)).issue('short.example').certPem);
    expect(new Date(leaf.validTo).getTime()).toBe(oldCa.notAfter.getTime());
  });

  it('issues quickly (measured, not asserted)', async () => {
    const timing = await createLeafIssuer(ca);
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      timing.issue(`host-${i}.timing.example`);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const med = ((ms[99] ?? 0) + (ms[100] ?? 0)) / 2;
    console.log(`issue() over 200 distinct hosts: median ${med.toFixed(2)} ms, p90 ${ms[179]?.toFixed(2)} ms, max ${ms[199]?.toFixed(2)} ms`);
    expect(timing.size).toBe(200);
  });
});

