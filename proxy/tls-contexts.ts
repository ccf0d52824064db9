/**
 * SecureContexts for intercepted hosts, built from certs/' leaf issuer and kept in a bounded LRU.
 * Replaces the library's certificate path entirely (its per-host RSA keygen cost 94-458 ms on the
 * event loop, its disk cache turned hostnames into file paths, and forceSNI's addContext list
 * grows forever and is scanned linearly on every handshake).
 */
import tls from 'node:tls';
import { Lru } from '../certs/lru.js';
import type { LeafIssuer } from '../certs/leaf.js';

export interface TlsContexts {
  /** Context for `host`; throws (code LW_BAD_TARGET) for hosts the issuer refuses. */
  forHost(host: string): tls.SecureContext;
  /** An SNICallback: the certificate follows the name the client asked for. */
  readonly sniCallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
  readonly size: number;
}

export function createTlsContexts(issuer: LeafIssuer, maxEntries = 1000): TlsContexts {
  const cache = new Lru<string, tls.SecureContext>(maxEntries);
  const forHost = (host: string): tls.SecureContext => {
    const key = host.toLowerCase();
    const hit = cache.get(key);
    if (hit) return hit;
    const leaf = issuer.issue(key);
    const ctx = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
    cache.set(key, ctx);
    return ctx;
  };
  return {
    forHost,
    sniCallback(servername, cb) {
      try {
        cb(null, forHost(servername));
      } catch (err: unknown) {
        cb(err instanceof Error ? err : new Error(String(err)));
      }
    },
    get size() {
      return cache.size;
    },
  };
}
