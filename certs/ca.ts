/**
 * The leakwatch root CA: created once per data dir, then loaded on every start.
 *
 * Layout: <dataDir>/ca/ (0700) holding leakwatch-ca.pem (0644) and leakwatch-ca-key.pem (0600).
 * Creation is atomic: both files are written into a private temp dir which is then renamed to
 * `ca/`. rename() onto a non-empty directory fails, so when two processes start at once exactly
 * one CA wins and the loser loads it; a crash never leaves half a CA behind.
 *
 * A CA that is broken or expired is reported (ConfigError), never replaced silently: the user may
 * have installed it on devices, and a new one would make every intercepted connection fail.
 */
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { ConfigError } from '../core/errors.js';
import { ensureDataDir } from '../core/paths.js';
import { generateRsaKeyPair, randomSerialHex, signCertificate, type RsaKeyPair } from './sign.js';

export const CA_DIR_NAME = 'ca';
export const CA_CERT_FILE = 'leakwatch-ca.pem';
export const CA_KEY_FILE = 'leakwatch-ca-key.pem';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Everything the proxy and the CLI need about the CA, parsed once. */
export interface CaMaterial {
  /** The certificate as PEM (normalised: one certificate, no extra text). */
  readonly certPem: string;
  /** The private key file's PEM, as stored. */
  readonly keyPem: string;
  readonly certDer: Buffer;
  readonly certPath: string;
  readonly keyPath: string;
  /** SHA-256 of the DER, upper-case hex pairs joined by colons ("AB:CD:…"). */
  readonly fingerprintSha256: string;
  /** Distinguished name, e.g. "CN=leakwatch CA (host) 1a2b3c4d, O=leakwatch". */
  readonly subject: string;
  readonly notAfter: Date;
  /** The private key for native signing (crypto.sign). */
  readonly keyObject: KeyObject;
  /** forge's parse of the certificate: leaves copy its subject (as issuer) and SKI from here. */
  readonly forgeCert: forge.pki.Certificate;
}

export function caPaths(dataDir: string): { dir: string; certPath: string; keyPath: string } {
  const dir = join(dataDir, CA_DIR_NAME);
  return { dir, certPath: join(dir, CA_CERT_FILE), keyPath: join(dir, CA_KEY_FILE) };
}

/** Loads the CA of `dataDir`, creating the data dir and the CA if there is none yet. */
export async function loadOrCreateCa(dataDir: string): Promise<CaMaterial> {
  const abs = ensureDataDir(dataDir);
  const paths = caPaths(abs);
  if (!existsSync(paths.dir)) await createCa(abs, paths.dir);
  return loadCa(paths);
}

/**
 * Builds a self-signed CA certificate. Exported so tests can build one with another clock
 * (an expired CA); production code goes through loadOrCreateCa.
 */
export function buildCaCertificate(keys: RsaKeyPair, now: Date = new Date()): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS); // tolerate clients with a slow clock
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  cert.validity.notAfter = notAfter;
  // The random suffix makes each install's CA distinguishable in a device's trust store; the host
  // name is reduced to safe characters and shortened so the CN fits the 64-character limit.
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '').slice(0, 40) || 'unknown';
  const attrs = [
    { name: 'commonName', value: `leakwatch CA (${host}) ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'leakwatch' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    // pathLen 0: this CA may only sign leaves, so a leaked leaf key cannot mint further CAs.
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, keys.privateKey);
  return cert;
}

async function createCa(dataDir: string, caDir: string): Promise<void> {
  const keys = await generateRsaKeyPair();
  const certPem = forge.pki.certificateToPem(buildCaCertificate(keys));
  const keyPem = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  // mkdtemp creates the dir 0700 and in the data dir, so the rename below stays on one filesystem.
  const tmp = await mkdtemp(join(dataDir, '.ca-tmp-'));
  try {
    await chmod(tmp, 0o700);
    await writeNewFile(join(tmp, CA_KEY_FILE), keyPem, 0o600);
    await writeNewFile(join(tmp, CA_CERT_FILE), certPem, 0o644);
    try {
      await rename(tmp, caDir);
    } catch (err: unknown) {
      // Another process published its CA first (or ca/ holds something else): use what is there.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Exclusive create with the final mode set at open time, then fsync so a crash right after the
 * rename cannot leave an empty key behind. chmod undoes a restrictive umask on the public cert. */
async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function loadCa(paths: { dir: string; certPath: string; keyPath: string }): Promise<CaMaterial> {
  const { dir, certPath, keyPath } = paths;
  const startOver = `delete ${dir} and run "leakwatch ca" to create a new CA, then install the new one on your devices (and remove the old one)`;
  await tightenMode(dir, 0o700);
  const certText = await readOrExplain(certPath, 'CA certificate', startOver);
  const keyPem = await readOrExplain(keyPath, 'CA private key', startOver);
  await tightenMode(keyPath, 0o600);

  let x509: X509Certificate;
  let forgeCert: forge.pki.Certificate;
  try {
    x509 = new X509Certificate(certText);
    forgeCert = forge.pki.certificateFromPem(x509.toString());
  } catch (err: unknown) {
    throw new ConfigError(`CA certificate ${certPath} is not a readable RSA certificate (${errText(err)}): restore it from a backup or ${startOver}`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch (err: unknown) {
    throw new ConfigError(`CA private key ${keyPath} is not a readable private key (${errText(err)}): restore it from a backup or ${startOver}`);
  }
  if (!x509.checkPrivateKey(keyObject)) {
    throw new ConfigError(`CA private key ${keyPath} does not belong to the certificate ${certPath}: restore the matching pair or ${startOver}`);
  }
  if (!x509.ca) throw new ConfigError(`${certPath} is not a CA certificate (basicConstraints cA is not set): ${startOver}`);
  const notAfter = new Date(x509.validTo);
  if (!(notAfter.getTime() > Date.now())) {
    throw new ConfigError(`CA certificate ${certPath} expired on ${notAfter.toISOString()}: ${startOver}`);
  }
  return {
    certPem: x509.toString(),
    keyPem,
    certDer: x509.raw,
    certPath,
    keyPath,
    fingerprintSha256: x509.fingerprint256,
    subject: x509.subject.split('\n').join(', '),
    notAfter,
    keyObject,
    forgeCert,
  };
}

async function readOrExplain(path: string, what: string, startOver: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${errText(err)})`;
    throw new ConfigError(`${what} ${path} ${why}: restore it from a backup or ${startOver}`);
  }
}

/** Removes permission bits beyond `mode` (a copied or restored key may have come back 0644). */
async function tightenMode(path: string, mode: number): Promise<void> {
  const current = (await stat(path)).mode & 0o7777;
  if ((current & ~mode) !== 0) await chmod(path, current & mode);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
