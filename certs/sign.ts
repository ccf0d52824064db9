/**
 * Native RSA signing for forge-built certificates, and RSA key generation off the event loop.
 *
 * forge builds the certificate structure well but signs in pure JavaScript (~30 ms per RSA-2048
 * signature, blocking the event loop). forge's `cert.sign(key, md)` only needs `md.update(tbsDer)`
 * and `key.sign(md)` returning the signature as a binary string, so we hand it a message-digest
 * stand-in that just keeps the TBS bytes and a signer that calls OpenSSL through `crypto.sign`
 * (~1 ms). This also avoids hashing twice (forge's JS SHA-256 and then OpenSSL's).
 */
import { generateKeyPair, randomBytes, sign as nativeSign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface RsaKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key in forge's form, for `cert.publicKey`. */
  readonly forgePublicKey: forge.pki.rsa.PublicKey;
}

/** RSA-2048 on libuv's thread pool: generating in the main thread would stall every connection. */
export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, forgePublicKey: toForgePublicKey(publicKey) };
}

export function toForgePublicKey(publicKey: KeyObject): forge.pki.rsa.PublicKey {
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
}

/** Signs `cert` with sha256WithRSAEncryption using `key` (an RSA private KeyObject). */
export function signCertificate(cert: forge.pki.Certificate, key: KeyObject): void {
  let tbs = '';
  const md = {
    algorithm: 'sha256', // forge picks the signature OID from this: sha256WithRSAEncryption
    update(bytes: string) {
      tbs += bytes;
      return md;
    },
  };
  const signer = {
    sign: (): string => nativeSign('sha256', Buffer.from(tbs, 'binary'), key).toString('binary'),
  };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, md as unknown as forge.md.MessageDigest);
}

/** DER bytes of a forge certificate. */
export function certificateToDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** A random positive serial in hex (16 bytes). The top bit is cleared so the DER INTEGER stays
 * positive, and the first byte is never 0 so the encoding is minimal (strict parsers reject
 * a leading 0x00 before a byte < 0x80). */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}
