/**
 * Throw-away PKI for the bench origin: one CA and one leaf for *.bench.test + 127.0.0.1, made at run
 * time so nothing secret is committed and every run starts from a clean trust store.
 * Keys come from node:crypto (forge's own RSA keygen is pure JS and ~10x slower); forge only builds
 * and signs the two certificates, once per run, so its speed does not matter here.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface OriginPki {
  readonly caCertFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

function rsaKeys(): { pub: forge.pki.rsa.PublicKey; priv: forge.pki.rsa.PrivateKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e);
  return { pub, priv, pem };
}

function baseCert(pub: forge.pki.PublicKey, cn: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = pub;
  // Positive serial: a leading 0x00 byte keeps the DER integer from reading as negative.
  cert.serialNumber = '00' + randomBytes(8).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now + 7 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  return cert;
}

/** Writes origin-ca.pem, origin.pem and origin-key.pem into `dir` and returns their paths. */
export function makeOriginPki(dir: string): OriginPki {
  const ca = rsaKeys();
  const caCert = baseCert(ca.pub, 'leakwatch bench origin CA (throw-away)');
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.priv, forge.md.sha256.create());

  const leaf = rsaKeys();
  const leafCert = baseCert(leaf.pub, 'bench.test');
  leafCert.setIssuer(caCert.subject.attributes);
  leafCert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: '*.bench.test' },
        { type: 2, value: 'bench.test' },
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  leafCert.sign(ca.priv, forge.md.sha256.create());

  const out: OriginPki = {
    caCertFile: join(dir, 'origin-ca.pem'),
    certFile: join(dir, 'origin.pem'),
    keyFile: join(dir, 'origin-key.pem'),
  };
  writeFileSync(out.caCertFile, forge.pki.certificateToPem(caCert));
  writeFileSync(out.certFile, forge.pki.certificateToPem(leafCert));
  writeFileSync(out.keyFile, leaf.pem, { mode: 0o600 });
  return out;
}
