// Guards the runtime patches: if http-mitm-proxy is ever upgraded or loaded twice, these fail.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { installModulePatches, patchState } from '../../../proxy/patches.js';

it('replaces the final filters and the CA loader in the module instance the library uses', () => {
  installModulePatches();
  expect(patchState()).toEqual({ requestFilter: 'leakwatchRequestFilter', responseFilter: 'leakwatchResponseFilter', caCreatePatched: true });
  const require = createRequire(import.meta.url);
  const mod = require('http-mitm-proxy/dist/lib/ProxyFinalResponseFilter.js') as { ProxyFinalResponseFilter: { name: string } };
  expect(mod.ProxyFinalResponseFilter.name).toBe('leakwatchResponseFilter');
  const pkg = require('http-mitm-proxy/package.json') as { version: string };
  expect(pkg.version).toBe('1.1.0');
});
