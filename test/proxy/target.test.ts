// targetOf keeps per-tunnel caches (the Host header already matched, the URL's origin): they must
// never let a later request on the same tunnel through with a Host that does not match.
import { describe, expect, it } from 'vitest';
import type { TunnelInfo } from '../../proxy/engine-context.js';
import { targetOf } from '../../proxy/target.js';

const tunnel = (host: string, port: number): TunnelInfo => ({ host, port, client: { address: '127.0.0.1', port: 1 }, requests: 0 });

describe('targetOf inside a tunnel', () => {
  it('checks every request\'s Host, also after one matched', () => {
    const t = tunnel('good.test', 443);
    expect(targetOf('/a', 'good.test', t, true)).toMatchObject({ ok: true, target: { url: 'https://good.test/a', path: '/a' } });
    expect(targetOf('/b', 'evil.test', t, true)).toMatchObject({ ok: false, status: 421 });
    expect(targetOf('/c', 'GOOD.test:443', t, true)).toMatchObject({ ok: true, target: { url: 'https://good.test/c' } });
    expect(targetOf('/d', 'good.test', t, true)).toMatchObject({ ok: true, target: { url: 'https://good.test/d' } });
    expect(targetOf('/e', 'evil.test', t, true)).toMatchObject({ ok: false, status: 421 });
  });

  it('keeps a non-default port and IPv6 brackets in the URL', () => {
    expect(targetOf('/x?q=1', undefined, tunnel('good.test', 8443), true)).toMatchObject({ ok: true, target: { url: 'https://good.test:8443/x?q=1', port: 8443 } });
    expect(targetOf('/', '[::1]:8080', tunnel('::1', 8080), false)).toMatchObject({ ok: true, target: { url: 'http://[::1]:8080/', scheme: 'http' } });
  });

  it('still parses absolute-form and refuses other targets', () => {
    expect(targetOf('https://good.test/p', 'good.test', tunnel('good.test', 443), true)).toMatchObject({ ok: true, target: { path: '/p', url: 'https://good.test/p' } });
    expect(targetOf('*', 'good.test', tunnel('good.test', 443), true)).toMatchObject({ ok: true, target: { path: '*' } });
    expect(targetOf('x/y', 'good.test', tunnel('good.test', 443), true)).toMatchObject({ ok: false, status: 400 });
  });
});
