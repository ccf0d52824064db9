// Defect: the CONNECT host went straight into certificate file paths; `CONNECT ../../pwned:443`
// wrote pwned.pem / pwned.key outside the library's CA dir. Now: strict parsing -> 400, and the
// library's certificate dir is never created at all.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTunnel } from '../../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(() => proxy.close());

it.each(['../../pwned:443', '..%2f..%2fpwned:443', 'a/b:443', '[:443', 'pwned', 'x:0', 'x:99999'])('CONNECT %s -> 400, nothing written', async (target) => {
  const caDir = dirname(proxy.caPath);
  const before = readdirSync(caDir).sort();
  const t = await openTunnel(proxy.port, target);
  t.socket.destroy();
  expect(t.status).toBe(400);
  expect(readdirSync(caDir).sort()).toEqual(before);
  expect(existsSync(join(caDir, '.http-mitm-proxy-unused'))).toBe(false);
  expect(existsSync(join(dirname(caDir), 'pwned.pem'))).toBe(false);
  await proxy.waitFor((e) => e.request.method === 'CONNECT' && e.error?.code === 'LW_BAD_TARGET');
});
