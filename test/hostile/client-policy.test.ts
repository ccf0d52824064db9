/**
 * One client policy for every listener. With `--host 0.0.0.0 --dashboard-host 0.0.0.0
 * --allow-client 127.0.0.2/32`, a client on 127.0.0.1 gets nothing from the DNS server (UDP and
 * TCP: silence), the STUN sensor (no reflection), the proxy and the dashboard, and its attempts are
 * counted, not recorded one row each; 127.0.0.2 is served. Beyond loopback the dashboard speaks
 * HTTPS with a leaf from leakwatch's own CA. Real process, real sockets bound to distinct
 * loopback addresses.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/connect-client.js';
import { startStandIn, type StandIn } from '../dns/helpers.js';
import { CLI, openDb, spawnLeakwatch, startStandins, tempDir, until, type Leakwatch, type Standins } from './harness.js';

const ALLOWED = '127.0.0.2';
const REFUSED = '127.0.0.1';
const BINDING = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');

let lw: Leakwatch;
let standins: Standins;
let resolver: StandIn;
let dnsPort = 0;
let stunPort = 0;
let transparentHttp = 0;
let transparentHttps = 0;
const startedAt = Date.now();

const query = (id: number): Buffer => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.org' }] });

/** One UDP datagram from `from`; resolves with the reply or null after `waitMs`. */
function udpAsk(from: string, port: number, msg: Buffer, waitMs = 1500): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: Buffer | null): void => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(null), waitMs);
    s.on('message', (m) => done(m));
    s.bind(0, from, () => s.send(msg, port, '127.0.0.1'));
  });
}

/** A DNS query over TCP from `from`: the reply, or null when the server closes without one. */
function tcpAsk(from: string, port: number, msg: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      s.write(Buffer.concat([len, msg]));
    });
    let got = Buffer.alloc(0);
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve(got.length >= 2 ? got.subarray(2) : null);
    });
  });
}

/** Opens a connection from `from`, sends `bytes`, and resolves with what came back before the server closed. */
function refusedReply(from: string, port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => s.write(bytes));
    let got = '';
    const t = setTimeout(() => s.destroy(), 5000);
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve(got);
    });
  });
}

/** Runs `n` tasks, `width` at a time. */
async function inBatches<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_v, j) => task(i + j)))));
  return out;
}

const refusedCounts = async (): Promise<Record<string, number>> =>
  (await lw.api<{ listeners: { refusedClients: Record<string, number> } }>('/api/health')).listeners.refusedClients;

beforeAll(async () => {
  standins = await startStandins();
  resolver = await startStandIn();
  lw = await spawnLeakwatch({
    apiFrom: ALLOWED,
    args: [
      ...standins.args, '--host', '0.0.0.0', '--dashboard-host', '0.0.0.0', '--allow-client', `${ALLOWED}/32`,
      '--dns-port', '0', '--dns-upstream', `127.0.0.1:${resolver.port}`, '--dns-intercept-address', '127.0.0.1', '--stun-port', '0',
      '--transparent-http-port', '0', '--transparent-https-port', '0',
    ],
  });
  dnsPort = Number(/DNS :(\d+)/.exec(lw.stdout())![1]);
  stunPort = Number(/STUN sensor :(\d+)/.exec(lw.stdout())![1]);
  transparentHttp = Number(/transparent HTTP :(\d+)/.exec(lw.stdout())![1]);
  transparentHttps = Number(/transparent HTTPS :(\d+)/.exec(lw.stdout())![1]);
}, 30_000);

afterAll(async () => {
  await lw?.stop();
  await standins?.close();
  await resolver?.close();
});

describe('DNS', () => {
  it('UDP: the allowed client gets an answer, the refused one silence', async () => {
    const ok = await udpAsk(ALLOWED, dnsPort, query(1));
    expect(ok && dnsPacket.decode(ok).answers?.[0]).toMatchObject({ type: 'A', data: '93.184.216.34' });
    const before = resolver.seen.length;
    expect(await udpAsk(REFUSED, dnsPort, query(2))).toBeNull();
    expect(resolver.seen.length).toBe(before); // nothing forwarded upstream either
  });

  it('TCP: the refused client is closed without an answer', async () => {
    const ok = await tcpAsk(ALLOWED, dnsPort, query(3));
    expect(ok && dnsPacket.decode(ok).answers?.[0]).toMatchObject({ type: 'A', data: '93.184.216.34' });
    expect(await tcpAsk(REFUSED, dnsPort, query(4))).toBeNull();
  });

  it('a flood from a refused client is counted, not recorded', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, REFUSED, res));
    for (let i = 0; i < 300; i++) await new Promise<void>((res) => s.send(query(100 + i), dnsPort, '127.0.0.1', () => res()));
    s.close();
    const health = await until(async () => {
      const h = await lw.api<{ listeners: { dns: { refused: number; queries: number }; refusedClients: Record<string, number> } }>('/api/health');
      return h.listeners.dns.refused >= 301 ? h : undefined;
    }, 5000, 'refusals counted');
    expect(health.listeners.refusedClients['dns']).toBeGreaterThanOrEqual(302); // 301 UDP + 1 TCP
    expect(health.listeners.dns.queries).toBe(2); // the allowed client's two
    const db = openDb(lw.dataDir);
    try {
      const q = 'SELECT count(*) FROM exchanges e JOIN clients_by_id c ON c.id = e.client_id WHERE c.name = ?';
      // The same query finds the allowed client's rows, so the zero below can fail.
      await until(() => (db.prepare(q).pluck().get(ALLOWED) as number) >= 2, 5000, 'allowed client rows');
      expect(db.prepare(q).pluck().get(REFUSED)).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('STUN', () => {
  it('reflects for the allowed client only', async () => {
    const ok = await udpAsk(ALLOWED, stunPort, BINDING);
    expect(ok?.length).toBeGreaterThan(20);
    expect(await udpAsk(REFUSED, stunPort, BINDING)).toBeNull();
    const h = await lw.api<{ listeners: { stun: { refused: number; answered: number } } }>('/api/health');
    expect(h.listeners.stun).toMatchObject({ refused: 1, answered: 1 });
  });
});

describe('dashboard beyond loopback', () => {
  it('is HTTPS with a certificate from the leakwatch CA, for the address the client dialled', async () => {
    expect(lw.dashboardUrl).toMatch(/^https:\/\//);
    const r = await request(https, { host: '127.0.0.1', port: lw.dashboardPort, path: '/api/health', localAddress: ALLOWED, ca: lw.caPem, headers: { authorization: `Bearer ${lw.token}` }, agent: false });
    expect(r.status).toBe(200);
    // Plain HTTP gets no dashboard: the token never travels in clear text.
    const plain = await request(http, { host: '127.0.0.1', port: lw.dashboardPort, path: '/api/health', localAddress: ALLOWED, headers: { authorization: `Bearer ${lw.token}` }, agent: false }).catch((e: Error) => e);
    expect(plain).toBeInstanceOf(Error);
    const link = await request(https, { host: '127.0.0.1', port: lw.dashboardPort, path: `/?token=${lw.token}`, localAddress: ALLOWED, ca: lw.caPem, agent: false });
    expect(String(link.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('refuses a client outside --allow-client before TLS, and counts it', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const raw = net.connect({ host: '127.0.0.1', port: lw.dashboardPort, localAddress: REFUSED });
      raw.on('error', () => undefined);
      const s = tls.connect({ socket: raw, host: '127.0.0.1', ca: lw.caPem });
      s.once('secureConnect', () => resolve('connected'));
      s.once('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    expect(outcome).toMatch(/^error/);
    const h = await lw.api<{ listeners: { refusedClients: Record<string, number> } }>('/api/health');
    expect(h.listeners.refusedClients['dashboard']).toBeGreaterThanOrEqual(1);
  });

  it('/metrics carries the listener and refusal counters', async () => {
    const r = await request(https, { host: '127.0.0.1', port: lw.dashboardPort, path: '/metrics', localAddress: ALLOWED, ca: lw.caPem, headers: { authorization: `Bearer ${lw.token}` }, agent: false });
    const text = r.body.toString();
    expect(text).toMatch(/leakwatch_clients_refused_total\{listener="dns"\} [1-9]\d*/);
    expect(text).toMatch(/leakwatch_listener_stat\{listener="stun",stat="answered"\} 1/);
    expect(text).toMatch(/leakwatch_listener_stat\{listener="engine",stat="active"\} \d+/);
  });

  it('--dashboard-host 0.0.0.0 without --allow-client is refused with one line, exit 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'start', '--port', '0', '--dashboard-port', '0', '--dashboard-host', '0.0.0.0', '--data-dir', tempDir()], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--dashboard-host 0\.0\.0\.0: refusing .* without --allow-client/);
  });
});

describe('the proxy port', () => {
  it('serves the allowed client and refuses the other', async () => {
    const ask = (from: string) => request(http, { host: '127.0.0.1', port: lw.proxyPort, path: 'http://plain.test/hello', localAddress: from, agent: false });
    expect((await ask(ALLOWED)).status).toBe(200);
    expect((await ask(REFUSED)).status).toBe(403);
  });
});

describe('a flood of refused connections', () => {
  const rowsOf = (from: string): number => {
    const db = openDb(lw.dataDir);
    try {
      return db.prepare('SELECT count(*) FROM exchanges e JOIN clients_by_id c ON c.id = e.client_id WHERE c.name = ?').pluck().get(from) as number;
    } finally {
      db.close();
    }
  };

  it('500 connections to the proxy port: each refused with 403, counted 500, recorded 0', async () => {
    const before = await refusedCounts();
    const replies = await inBatches(500, 50, () => refusedReply(REFUSED, lw.proxyPort, 'GET http://plain.test/hello HTTP/1.1\r\nHost: plain.test\r\n\r\n'));
    expect(replies.filter((r) => /^HTTP\/1\.1 403 [^]*X-Leakwatch-Error: LW_CLIENT_DENIED/.test(r))).toHaveLength(500);
    const after = await refusedCounts();
    expect(after['proxy']! - before['proxy']!).toBe(500);
    // Written after the flood and through the same pipeline: once it is in the store, any row the
    // flood had produced would be too.
    const marker = await request(http, { host: '127.0.0.1', port: lw.proxyPort, path: 'http://plain.test/hello?after-flood', localAddress: ALLOWED, agent: false });
    expect(marker.status).toBe(200);
    const db = openDb(lw.dataDir);
    try {
      await until(() => db.prepare("SELECT count(*) FROM exchanges WHERE path LIKE '%after-flood%'").pluck().get() === 1, 5000, 'the allowed request stored');
    } finally {
      db.close();
    }
    expect(rowsOf(ALLOWED)).toBeGreaterThan(0); // the query finds rows, so the zero can fail
    expect(rowsOf(REFUSED)).toBe(0);
  });

  it('the transparent listeners refuse and count the same way (HTTP gets a 403, TLS a close)', async () => {
    const before = await refusedCounts();
    const http403 = await inBatches(100, 50, () => refusedReply(REFUSED, transparentHttp, 'GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n'));
    expect(http403.filter((r) => /^HTTP\/1\.1 403 [^]*LW_CLIENT_DENIED/.test(r))).toHaveLength(100);
    const tlsReplies = await inBatches(100, 50, () => refusedReply(REFUSED, transparentHttps, Buffer.from('160301000100', 'hex')));
    expect(tlsReplies.every((r) => r === '')).toBe(true);
    const after = await refusedCounts();
    expect(after['transparent-http']! - before['transparent-http']!).toBe(100);
    expect(after['transparent-https']! - before['transparent-https']!).toBe(100);
    expect(rowsOf(REFUSED)).toBe(0);
  });

  it('the log names a refused client at most once a minute', () => {
    const lines = (lw.stdout() + lw.stderr()).split('\n').filter((l) => l.includes('refused by --allow-client') && l.includes(REFUSED));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    // Hundreds of refusals above; one line per started minute of this file at most.
    expect(lines.length).toBeLessThanOrEqual(Math.ceil((Date.now() - startedAt) / 60_000));
  });
});
