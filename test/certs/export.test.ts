import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../certs/ca.js';
import { exportCa } from '../../certs/export.js';
import { caCommand } from '../../cli/ca.js';
import { modeOf, tempDirs } from './helpers.js';

const newDir = tempDirs();

describe('exportCa', () => {
  it('writes PEM, DER and Android .crt copies of the certificate, never the key', async () => {
    const ca = await loadOrCreateCa(newDir());
    const out = join(newDir(), 'export', 'here');
    const paths = await exportCa(ca, out);
    expect(paths).toEqual({
      pem: join(out, 'leakwatch-ca.pem'),
      der: join(out, 'leakwatch-ca.der'),
      crt: join(out, 'leakwatch-ca.crt'),
    });
    expect(readdirSync(out).sort()).toEqual(['leakwatch-ca.crt', 'leakwatch-ca.der', 'leakwatch-ca.pem']);
    for (const p of Object.values(paths)) {
      expect(modeOf(statSync(p))).toBe(0o644);
      const bytes = readFileSync(p);
      expect(new X509Certificate(bytes).fingerprint256).toBe(ca.fingerprintSha256);
      expect(bytes.toString('latin1')).not.toMatch(/PRIVATE KEY/);
      expect(bytes.includes(Buffer.from(ca.keyPem))).toBe(false);
    }
    expect(readFileSync(paths.pem, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(readFileSync(paths.der).equals(ca.certDer)).toBe(true);
    expect(readFileSync(paths.crt).equals(ca.certDer)).toBe(true);
  });

  it('overwrites an earlier export and fixes its mode', async () => {
    const ca = await loadOrCreateCa(newDir());
    const out = newDir();
    writeFileSync(join(out, 'leakwatch-ca.pem'), 'stale', { mode: 0o600 });
    const paths = await exportCa(ca, out);
    expect(readFileSync(paths.pem, 'utf8')).toBe(ca.certPem);
    expect(modeOf(statSync(paths.pem))).toBe(0o644);
  });
});

describe('caCommand', () => {
  it('creates the CA and prints its path and fingerprint', async () => {
    const data = newDir();
    const text = await caCommand({ dataDir: data });
    const ca = await loadOrCreateCa(data);
    expect(text).toContain(`CA certificate: ${ca.certPath}`);
    expect(text).toContain(`SHA-256 Fingerprint: ${ca.fingerprintSha256}`);
    expect(text).not.toContain('Exported');
    expect(await caCommand({ dataDir: data })).toBe(text); // same CA on the second run
  });

  it('lists the exported files when asked to export', async () => {
    const out = join(newDir(), 'ca-export');
    const text = await caCommand({ dataDir: newDir(), exportDir: out });
    for (const f of ['leakwatch-ca.pem', 'leakwatch-ca.der', 'leakwatch-ca.crt']) expect(text).toContain(join(out, f));
    expect(text).toMatch(/SHA-256 Fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  });
});
