// Defect: no upstream timeout; a hung origin hung the client forever. Now 504 after
// idleTimeoutMs, recorded as LW_UPSTREAM_TIMEOUT.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpViaProxy } from '../../helpers/connect-client.js';
import { startRawOrigin, type RawOrigin } from '../../helpers/raw-origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let hang: RawOrigin;
beforeAll(async () => {
  hang = await startRawOrigin(() => undefined);
  proxy = await startTestProxy({ routes: { 'hang.test': hang.port }, idleTimeoutMs: 400 });
});
afterAll(async () => {
  await proxy.close();
  await hang.close();
});

it('answers 504 when upstream sends nothing', async () => {
  const t0 = Date.now();
  const r = await httpViaProxy(proxy.port, 'http://hang.test/');
  expect(r.status).toBe(504);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(r.body.toString()).not.toMatch(/Error|ETIMEDOUT|at /);
  const ex = await proxy.waitFor((e) => e.request.host === 'hang.test');
  expect(ex.error?.code).toBe('LW_UPSTREAM_TIMEOUT');
});
