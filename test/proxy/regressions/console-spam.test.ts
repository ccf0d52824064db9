// Defect: http-mitm-proxy 1.1.0 has no silent mode: console.error dumped full error objects (certificates included)
// and console.debug/info chatted. Now the library prints nothing, even on failures, and the
// console is only rerouted for the library's own synchronous calls (restored afterwards).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { httpViaProxy, openTunnel } from '../../helpers/connect-client.js';
import { closedPort, onRequestHead, startRawOrigin, type RawOrigin } from '../../helpers/raw-origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

const methods = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;
let proxy: TestProxy;
let reset: RawOrigin;
const spies = methods.map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
const stdout = vi.spyOn(process.stdout, 'write');
const stderr = vi.spyOn(process.stderr, 'write');

beforeAll(async () => {
  reset = await startRawOrigin((s) => onRequestHead(s, () => s.resetAndDestroy()));
  proxy = await startTestProxy({ routes: { 'refused.test': await closedPort(), 'reset.test': reset.port } });
});
afterAll(async () => {
  await proxy.close();
  await reset.close();
});

it('prints nothing on startup, errors and bad input', async () => {
  expect((await httpViaProxy(proxy.port, 'http://refused.test/')).status).toBe(502);
  const r = await httpViaProxy(proxy.port, 'http://reset.test/');
  expect(r.status).toBe(502);
  expect(r.body.toString()).toBe('Bad Gateway\n');
  (await openTunnel(proxy.port, '../../x:443')).socket.destroy();
  await proxy.waitFor((e) => e.request.host === 'reset.test');
  for (const s of spies) expect(s).not.toHaveBeenCalled();
  expect(stdout).not.toHaveBeenCalled();
  expect(stderr).not.toHaveBeenCalled();
  // Our rerouting is scoped: console is ours again (the spies are still installed).
  expect(console.error).toBe(spies[4]);
});
