import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { buildCaCertificate, caPaths, loadOrCreateCa } from '../../certs/ca.js';
import { generateRsaKeyPair } from '../../certs/sign.js';
import { ConfigError } from '../../core/errors.js';
import { modeOf, tempDirs } from './helpers.js';

const newDir = tempDirs();
const YEAR_MS = 365.25 * 24 * 3600 * 1000;

/** Writes a CA built with another clock into a data dir, as if an old install left it there. */
async function plantCa(dataDir: string, now: Date): Promise<string> {
  const keys = await generateRsaKeyPair();
  const { dir, certPath, keyPath } = caPaths(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(certPath, forge.pki.certificateToPem(buildCaCertificate(keys, now)));
  writeFileSync(keyPath, keys.privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  return certPath;
}

async function configErrorOf(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadOrCreateCa', () => {
  it('creates the CA files with private modes', async () => {
    const data = join(newDir(), 'nested', 'data');
    const ca = await loadOrCreateCa(data);
    expect(ca.certPath).toBe(join(data, 'ca', 'leakwatch-ca.pem'));
    expect(ca.keyPath).toBe(join(data, 'ca', 'leakwatch-ca-key.pem'));
    expect(modeOf(statSync(join(data, 'ca')))).toBe(0o700);
    expect(modeOf(statSync(ca.certPath))).toBe(0o644);
    expect(modeOf(statSync(ca.keyPath))).toBe(0o600);
    expect(readFileSync(ca.keyPath, 'utf8')).toBe(ca.keyPem);
    expect(readdirSync(data).sort()).toEqual(['ca']); // no temp dir left behind
  });

  it('makes a 10-year RSA CA with the right extensions', async () => {
    const ca = await loadOrCreateCa(newDir());
    const x = new X509Certificate(ca.certPem);
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true); // self-signed
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const from = new Date(x.validFrom).getTime();
    const to = new Date(x.validTo).getTime();
    expect(Math.abs(from - (Date.now() - 24 * 3600e3))).toBeLessThan(120e3);
    expect(Math.abs(to - Date.now() - 10 * YEAR_MS)).toBeLessThan(2 * 24 * 3600e3);
    expect(ca.notAfter.getTime()).toBe(to);
    expect(x.subject).toMatch(/^CN=leakwatch CA \([A-Za-z0-9.-]+\) [0-9a-f]{8}\nO=leakwatch$/);
    expect(ca.subject).toBe(x.subject.replace('\n', ', '));
    expect(x.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/); // positive, 16 bytes, minimal DER
    expect(ca.fingerprintSha256).toBe(x.fingerprint256);
    expect(ca.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(ca.certDer.equals(x.raw)).toBe(true);

    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', ca.certPath], { encoding: 'utf8' });
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}/);
    expect(ca.forgeCert.getExtension('subjectKeyIdentifier')).toBeTruthy();
  });

  it('is unique per data dir and stable across reloads', async () => {
    const dirA = newDir();
    const a = await loadOrCreateCa(dirA);
    const b = await loadOrCreateCa(newDir());
    expect(a.fingerprintSha256).not.toBe(b.fingerprintSha256);
    expect(a.subject).not.toBe(b.subject);
    const again = await loadOrCreateCa(dirA);
    expect(again.fingerprintSha256).toBe(a.fingerprintSha256);
    expect(again.keyPem).toBe(a.keyPem);
  });

  it('concurrent first starts agree on one CA', async () => {
    const dir = newDir();
    const all = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateCa(dir)));
    expect(new Set(all.map((c) => c.fingerprintSha256)).size).toBe(1);
    expect(readdirSync(dir)).toEqual(['ca']);
    expect(readdirSync(join(dir, 'ca')).sort()).toEqual(['leakwatch-ca-key.pem', 'leakwatch-ca.pem']);
  });

  it('tightens a loose key file and ca dir on load', async () => {
    const dir = newDir();
    const ca = await loadOrCreateCa(dir);
    chmodSync(ca.keyPath, 0o644);
    chmodSync(join(dir, 'ca'), 0o755);
    const again = await loadOrCreateCa(dir);
    expect(modeOf(statSync(again.keyPath))).toBe(0o600);
    expect(modeOf(statSync(join(dir, 'ca')))).toBe(0o700);
  });

  it('reports a corrupt certificate or key as ConfigError naming the file', async () => {
    const dir = newDir();
    const ca = await loadOrCreateCa(dir);
    const goodCert = readFileSync(ca.certPath, 'utf8');
    writeFileSync(ca.certPath, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    expect((await configErrorOf(loadOrCreateCa(dir))).message).toContain(ca.certPath);
    writeFileSync(ca.certPath, goodCert);
    writeFileSync(ca.keyPath, 'garbage');
    expect((await configErrorOf(loadOrCreateCa(dir))).message).toContain(ca.keyPath);
  });

  it('reports a key that does not match the certificate, and a missing file', async () => {
    const dir = newDir();
    const ca = await loadOrCreateCa(dir);
    const other = await loadOrCreateCa(newDir());
    writeFileSync(ca.keyPath, other.keyPem);
    const err = await configErrorOf(loadOrCreateCa(dir));
    expect(err.message).toContain('does not belong');
    expect(err.message).toContain(ca.keyPath);
    writeFileSync(ca.keyPath, ca.keyPem);
    execFileSync('rm', [ca.certPath]);
    expect((await configErrorOf(loadOrCreateCa(dir))).message).toMatch(new RegExp(`${ca.certPath} is missing`));
  });

  it('refuses an expired CA instead of replacing it', async () => {
    const dir = newDir();
    const certPath = await plantCa(dir, new Date(Date.now() - 11 * YEAR_MS));
    const before = readFileSync(certPath, 'utf8');
    const err = await configErrorOf(loadOrCreateCa(dir));
    expect(err.message).toContain(certPath);
    expect(err.message).toMatch(/expired on \d{4}-/);
    expect(err.message).toMatch(/leakwatch ca/); // tells the user what to do
    expect(readFileSync(certPath, 'utf8')).toBe(before);
  });
});
