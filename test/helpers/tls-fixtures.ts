/**
 * Throw-away certificate authorities for tests. `originPki()` stands in for the public web PKI:
 * origin servers get leaves from it and the proxy is told to trust it (`upstreamCaPems`). A
 * second, untrusted one makes "bad upstream certificate" origins. Built with certs/ so tests pay
 * one RSA keygen per CA (cached per process).
 */
import { loadOrCreateCa, type CaMaterial } from '../../certs/ca.js';
import { createLeafIssuer, type LeafIssuer } from '../../certs/leaf.js';
import { tempDir } from './temp.js';

export interface TestPki {
  readonly ca: CaMaterial;
  readonly issuer: LeafIssuer;
  /** PEM of the root clients (or the proxy) must trust. */
  readonly caPem: string;
  /** A leaf for these names (the first is the CN), PEM key and cert. */
  leaf(host: string): { key: string; cert: string };
  readonly dataDir: string;
}

const cache = new Map<string, Promise<TestPki>>();
/** A fresh data dir, removed after the test file. */
export const tempDataDir = (prefix = 'lw-test-'): string => tempDir(prefix);

async function build(name: string): Promise<TestPki> {
  const dataDir = tempDataDir(`lw-pki-${name}-`);
  const ca = await loadOrCreateCa(dataDir);
  const issuer = await createLeafIssuer(ca);
  return {
    ca,
    issuer,
    caPem: ca.certPem,
    dataDir,
    leaf(host) {
      const l = issuer.issue(host);
      return { key: l.keyPem, cert: l.certPem };
    },
  };
}

/** Named PKIs, one per name per process: 'origin' (trusted by the proxy), 'rogue' (not), 'proxy'. */
export function testPki(name: 'origin' | 'rogue' | 'proxy' = 'origin'): Promise<TestPki> {
  let p = cache.get(name);
  if (!p) cache.set(name, (p = build(name)));
  return p;
}
