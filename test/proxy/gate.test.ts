import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateDecision, RequestGate } from '../../core/gate.js';
import { httpViaProxy } from '../helpers/connect-client.js';
import { readAll, startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';

let origin: Origin;
let proxy: TestProxy;
let release!: () => void;
const applied = { verdict: 'block', ruleId: 'test.rule' } as const;

const gate: RequestGate = {
  decide(head): GateDecision | Promise<GateDecision> {
    switch (head.path) {
      case '/respond':
        return { type: 'respond', applied, status: 451, headers: [['X-Blocked', 'yes']], body: Buffer.from('nope') };
      case '/close':
        return { type: 'close', applied };
      case '/headers':
        return { type: 'forward', applied: { verdict: 'strip', ruleId: 'strip.ua' }, headers: head.headers.filter(([k]) => k.toLowerCase() !== 'user-agent').concat([['User-Agent', 'generic']]) };
      case '/rewrite':
        return { type: 'forward', rewriteBody: (body, headers) => ({ headers, body: Buffer.from(body.toString().replace('secret', 'XXXXXXXXXXXX')) }) };
      case '/hold':
        return new Promise((resolve) => (release = () => resolve({ type: 'forward' })));
      default:
        return { type: 'forward' };
    }
  },
};

beforeAll(async () => {
  origin = await startOrigin({ routes: { '*': async (q, r) => r.end(`${q.headers['user-agent']}|${(await readAll(q)).toString()}`) } });
  proxy = await startTestProxy({ routes: { 'gate.test': origin.port }, gate });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

const hits = (path: string): number => origin.seen.filter((s) => s.url === path).length;

describe('request gate', () => {
  it('respond: answered locally, upstream never contacted, applied recorded', async () => {
    const r = await httpViaProxy(proxy.port, 'http://gate.test/respond');
    expect(r.status).toBe(451);
    expect(r.headers['x-blocked']).toBe('yes');
    expect(r.body.toString()).toBe('nope');
    expect(hits('/respond')).toBe(0);
    expect((await proxy.waitFor((e) => e.request.path === '/respond')).decision).toEqual(applied);
  });

  it('close: the client socket is destroyed', async () => {
    await expect(httpViaProxy(proxy.port, 'http://gate.test/close')).rejects.toThrow();
    expect(hits('/close')).toBe(0);
    const ex = await proxy.waitFor((e) => e.request.path === '/close');
    expect(ex.decision).toEqual(applied);
    expect(ex.error?.code).toBe('LW_BLOCKED');
  });

  it('forward with headers replaces request headers', async () => {
    const r = await httpViaProxy(proxy.port, 'http://gate.test/headers', { headers: { 'user-agent': 'Element/1.2 (secret device)' } });
    expect(r.body.toString()).toBe('generic|');
    expect((await proxy.waitFor((e) => e.request.path === '/headers')).decision?.verdict).toBe('strip');
  });

  it('forward with rewriteBody rewrites and fixes Content-Length', async () => {
    const r = await httpViaProxy(proxy.port, 'http://gate.test/rewrite', { method: 'POST', headers: { 'user-agent': 'a' } }, 'my secret!');
    expect(r.body.toString()).toBe('a|my XXXXXXXXXXXX!');
    const seen = origin.seen.find((s) => s.url === '/rewrite')!;
    const cl = seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length') + 1];
    expect(cl).toBe(String('my XXXXXXXXXXXX!'.length));
  });

  it('hold: nothing goes upstream until the promise resolves', async () => {
    const pending = httpViaProxy(proxy.port, 'http://gate.test/hold', { headers: { 'user-agent': 'h' } });
    await new Promise((r) => setTimeout(r, 150));
    expect(hits('/hold')).toBe(0);
    release();
    expect((await pending).body.toString()).toBe('h|');
    expect(hits('/hold')).toBe(1);
  });
});
