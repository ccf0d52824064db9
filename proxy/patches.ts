/**
 * Module-level runtime patches to http-mitm-proxy 1.1.0 (pinned exactly; nothing in node_modules
 * is edited). The library looks these exports up at call time through its CommonJS `exports`
 * objects, so replacing them here reaches every Proxy instance. We load the library through
 * createRequire so we patch the very module instance it uses.
 */
import { createRequire } from 'node:module';
import { leakwatchRequestFilter, leakwatchResponseFilter } from './direct-filters.js';
import type { LibProxy } from './lib-types.js';

const require = createRequire(import.meta.url);

type FilterModule = Record<string, unknown>;
interface CaClass {
  create: (dir: string, cb: (err: Error | null, ca?: unknown) => void) => void;
}

const requestFilterModule = require('http-mitm-proxy/dist/lib/ProxyFinalRequestFilter.js') as FilterModule;
const responseFilterModule = require('http-mitm-proxy/dist/lib/ProxyFinalResponseFilter.js') as FilterModule;
const caModule = require('http-mitm-proxy/dist/lib/ca.js') as { default: CaClass };
const proxyModule = require('http-mitm-proxy') as { Proxy: new () => unknown };

/**
 * CA dirs we hand to the library, mapped to a stand-in CA. The library insists on loading or
 * generating a CA (and writes ca.pem, a 0644 private key and per-host files into sslCaDir).
 * We never use its CA (certificates come from certs/), so for our dirs `CA.create` answers with a
 * stand-in and nothing at all is written. Other callers keep the original behaviour.
 */
const caStandIns = new Map<string, object>();
let originalCreate: CaClass['create'] | undefined;

export interface PatchState {
  readonly requestFilter: string;
  readonly responseFilter: string;
  readonly caCreatePatched: boolean;
}

export function installModulePatches(): void {
  if (requestFilterModule['ProxyFinalRequestFilter'] !== leakwatchRequestFilter) {
    requestFilterModule['ProxyFinalRequestFilter'] = leakwatchRequestFilter;
  }
  if (responseFilterModule['ProxyFinalResponseFilter'] !== leakwatchResponseFilter) {
    responseFilterModule['ProxyFinalResponseFilter'] = leakwatchResponseFilter;
  }
  if (!originalCreate) {
    const ca = caModule.default;
    const original = ca.create.bind(ca);
    originalCreate = original;
    ca.create = (dir, cb) => {
      const standIn = caStandIns.get(dir);
      if (!standIn) return original(dir, cb);
      process.nextTick(cb, null, standIn);
    };
  }
}

/** Registers `dir` so the library's CA.create returns a stand-in for it and touches no files. */
export function registerCaStandIn(dir: string, certPem: string): void {
  caStandIns.set(dir, {
    getPem: () => certPem,
    generateServerCertificateKeys: () => {
      throw new Error('leakwatch: the library CA must not issue certificates');
    },
  });
}

export function unregisterCaStandIn(dir: string): void {
  caStandIns.delete(dir);
}

/** What is installed now; the regression test asserts on this. */
export function patchState(): PatchState {
  const name = (v: unknown): string => (typeof v === 'function' ? v.name : typeof v);
  return {
    requestFilter: name(requestFilterModule['ProxyFinalRequestFilter']),
    responseFilter: name(responseFilterModule['ProxyFinalResponseFilter']),
    caCreatePatched: originalCreate !== undefined,
  };
}

export function newLibraryProxy(): LibProxy {
  installModulePatches();
  return new proxyModule.Proxy() as LibProxy;
}
