import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import { createRecentAnswers } from '../../proxy/dns/recent-answers.js';
import { ruleCoverage, startDnsServer, type DnsServer } from '../../proxy/dns/server.js';
import { dig, startStandIn, tinyRuleset, type StandIn } from './helpers.js';

const INTERCEPT = { v4: '192.0.2.10', v6: '2001:db8::10' };
let standIn: StandIn;
let observe: DnsServer;
let enforce: DnsServer;
const recorded: Exchange[] = [];
const recentAnswers = createRecentAnswers();
let nextId = 1;

const last = (): Exchange => recorded[recorded.length - 1]!;

beforeAll(async () => {
  standIn = await startStandIn();
  const common = {
    host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: standIn.port }, interceptAddress: INTERCEPT,
    nextId: () => nextId++, onExchange: (ex: Exchange) => void recorded.push(ex), log: silentLogger, upstreamTimeoutMs: 300,
  };
  observe = await startDnsServer({ ...common, coversName: ruleCoverage(tinyRuleset(), 'observe'), recentAnswers });
  enforce = await startDnsServer({ ...common, coversName: ruleCoverage(tinyRuleset(), 'enforce') });
});

afterAll(async () => {
  await observe?.close();
  await enforce?.close();
  await standIn?.close();
});

describe('DNS server with dig', () => {
  it('answers a ruled name with leakwatch\'s address and records it', async () => {
    const r = await dig(observe.port, 'vector.im', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.answers).toEqual(['A 192.0.2.10']);
    const ex = last();
    expect(ex).toMatchObject({
      kind: 'dns', listener: 'dns', client: { address: '127.0.0.1' },
      request: { method: 'QUERY', url: 'dns://vector.im/A', scheme: 'dns', host: 'vector.im', port: 53, path: '/A' },
      meta: { qtype: 'A', answer: '192.0.2.10', rcode: 'NOERROR', intercepted: true, blocked: false, ruleId: 'vector-is' },
    });
    expect(recentAnswers.latest('127.0.0.1')).toMatchObject({ name: 'vector.im', ruleId: 'vector-is', address: '192.0.2.10' });
    expect(standIn.seen.some((s) => s.name === 'vector.im')).toBe(false);
  });

  it('AAAA of a ruled subdomain over TCP gets the v6 address; other types get NODATA', async () => {
    const r = await dig(observe.port, 'Scalar.Vector.IM', 'AAAA', ['+tcp']);
    expect(r.answers).toEqual(['AAAA 2001:db8::10']);
    expect(last().request.host).toBe('scalar.vector.im');
    const txt = await dig(observe.port, 'vector.im', 'TXT');
    expect(txt.status).toBe('NOERROR');
    expect(txt.answers).toEqual([]);
  });

  it('in observe mode a block rule only intercepts; in enforce it answers 0.0.0.0 / :: / NXDOMAIN', async () => {
    expect((await dig(observe.port, 'tracker.example', 'A')).answers).toEqual(['A 192.0.2.10']);
    const a = await dig(enforce.port, 'tracker.example', 'A');
    expect(a.answers).toEqual(['A 0.0.0.0']);
    expect(last().meta).toMatchObject({ blocked: true, intercepted: false, ruleId: 'tracker', answer: '0.0.0.0' });
    expect((await dig(enforce.port, 'tracker.example', 'AAAA')).answers).toEqual(['AAAA ::']);
    expect((await dig(enforce.port, 'tracker.example', 'MX')).status).toBe('NXDOMAIN');
    // a block rule limited to one path must not take the whole name away; `*` rules cover no name
    expect((await dig(enforce.port, 'partial.example', 'A')).answers).toEqual(['A 192.0.2.10']);
  });

  it('forwards other names to the upstream and serves the second query from the cache', async () => {
    const before = standIn.seen.filter((s) => s.name === 'example.org' && s.type === 'A').length;
    const first = await dig(observe.port, 'example.org', 'A');
    expect(first.answers).toEqual(['A 93.184.216.34']);
    expect(last().meta).toMatchObject({ intercepted: false, blocked: false, ruleId: null, answer: '93.184.216.34', cached: false });
    const second = await dig(observe.port, 'example.org', 'A', ['+tcp']);
    expect(second.answers).toEqual(['A 93.184.216.34']);
    expect(last().meta).toMatchObject({ cached: true, answer: '93.184.216.34' });
    expect(standIn.seen.filter((s) => s.name === 'example.org' && s.type === 'A').length).toBe(before + 1);
    expect((await dig(observe.port, 'example.org', 'AAAA')).answers).toEqual(['AAAA 2606:2800:220:1:248:1893:25c8:1946']);
  });

  it('passes NXDOMAIN through and retries a truncated answer over TCP', async () => {
    const nx = await dig(observe.port, 'nothing.example', 'A');
    expect(nx.status).toBe('NXDOMAIN');
    expect(last().meta).toMatchObject({ rcode: 'NXDOMAIN' });
    const big = await dig(observe.port, 'big.example', 'A');
    expect(big.answers).toHaveLength(5);
    expect(standIn.seen.filter((s) => s.name === 'big.example').map((s) => s.transport)).toEqual(['udp', 'tcp']);
  });

  it('answers SERVFAIL when the upstream does not answer (after one retry)', async () => {
    const t0 = Date.now();
    const r = await dig(observe.port, 'slow.example', 'A');
    expect(r.status).toBe('SERVFAIL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(standIn.seen.filter((s) => s.name === 'slow.example')).toHaveLength(2);
    expect(last()).toMatchObject({ error: { code: 'LW_UPSTREAM_TIMEOUT' }, meta: { rcode: 'SERVFAIL' } });
  });

  it('drops malformed packets without harm and keeps answering', async () => {
    const dropped = observe.stats().dropped;
    const udp = createSocket('udp4');
    const junk = [Buffer.from('hello, not dns'), Buffer.from([0x12, 0x34, 0x01]), Buffer.alloc(12, 0xff), Buffer.alloc(600, 0x41)];
    for (const b of junk) await new Promise<void>((res) => udp.send(b, observe.port, '127.0.0.1', () => res()));
    udp.close();
    const closed = await new Promise<boolean>((res) => {
      const s = connect(observe.port, '127.0.0.1', () => s.write(Buffer.from([0xff, 0xff, 1, 2, 3])));
      s.on('close', () => res(true));
      s.on('error', () => undefined);
    });
    expect(closed).toBe(true);
    const r = await dig(observe.port, 'vector.im', 'A');
    expect(r.answers).toEqual(['A 192.0.2.10']);
    expect(observe.stats().dropped).toBeGreaterThanOrEqual(dropped + junk.length);
    expect(observe.stats().tcpClosedBad).toBeGreaterThanOrEqual(1);
  });
});

describe('DNS loop refusal', () => {
  it('answers SERVFAIL instead of forwarding to itself', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((res) => probe.bind(0, '127.0.0.1', res));
    const port = probe.address().port;
    probe.close();
    const seen: Exchange[] = [];
    const self = await startDnsServer({
      host: '127.0.0.1', port, upstream: { host: '127.0.0.1', port }, interceptAddress: INTERCEPT,
      coversName: () => null, nextId: () => 1, onExchange: (ex) => void seen.push(ex), log: silentLogger,
    });
    try {
      const r = await dig(self.port, 'example.org', 'A');
      expect(r.status).toBe('SERVFAIL');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ error: { code: 'LW_LOOP' } });
    } finally {
      await self.close();
    }
  });

  it('refuses a host-name upstream at start', async () => {
    await expect(startDnsServer({
      host: '127.0.0.1', port: 0, upstream: { host: 'dns.example', port: 53 }, interceptAddress: INTERCEPT,
      coversName: () => null, nextId: () => 1, onExchange: () => undefined, log: silentLogger,
    })).rejects.toThrow(/IP address/);
  });
});
