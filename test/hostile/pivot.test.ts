/**
 * The proxy must not be a pivot into this machine or its cloud: loopback, link-local, unspecified
 * and IPv4-mapped targets are refused (403, LW_TARGET_FORBIDDEN, recorded), whether the client
 * names them as literals, as `localhost`/metadata names, or as names a resolver answers with such
 * an address (checked on the resolved address). `--resolve` targets and `--allow-upstream` ranges
 * stay reachable. Real process, real clients, loopback only.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { openTunnel } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { rawExchange, spawnLeakwatch, startStandins, until, type Leakwatch, type Standins } from './harness.js';

/** A resolver that answers every A query for `*.rebind.test` with 127.0.0.1, meta.test with the metadata IP and lan.test with a LAN address. */
async function startRebindingResolver(): Promise<{ port: number; close(): Promise<void> }> {
  const sock: UdpSocket = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
  sock.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    const data = name.endsWith('rebind.test') ? '127.0.0.1' : name === 'meta.test' ? '169.254.169.254' : name === 'lan.test' ? '192.168.1.1' : undefined;
    const answers = data && question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 0, data }] : [];
    sock.send(dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: dnsPacket.RECURSION_DESIRED, questions: [question], answers }), r.port, r.address);
  });
  return { port: sock.address().port, close: () => new Promise<void>((res) => sock.close(() => res())) };
}

function statusAndCode(reply: string): { status: number; code: string | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
  const code = /\r\nX-Leakwatch-Error: (\S+)/i.exec(reply)?.[1];
  return { status, code };
}

let lw: Leakwatch;
let standins: Standins;
let secret: Origin;
let allowed: Origin;
let resolver: { port: number; close(): Promise<void> };
let transparentHttp = 0;
let transparentHttps = 0;

beforeAll(async () => {
  standins = await startStandins();
  // A loopback-only service the proxy must never reach, and one on 127.0.0.3 that --allow-upstream opens.
  secret = await startOrigin({ routes: { '/': (_q, r) => r.end('SECRET') }, ws: true });
  allowed = await startOrigin({ host: '127.0.0.3', routes: { '/': (_q, r) => r.end('allowed') } });
  resolver = await startRebindingResolver();
  lw = await spawnLeakwatch({
    args: [
      ...standins.args, '--dns-upstream', `127.0.0.1:${resolver.port}`, '--allow-upstream', '127.0.0.3/32',
      '--transparent-http-port', '0', '--transparent-https-port', '0',
    ],
  });
  transparentHttp = Number(/transparent HTTP :(\d+)/.exec(lw.stdout())![1]);
  transparentHttps = Number(/transparent HTTPS :(\d+)/.exec(lw.stdout())![1]);
}, 30_000);

afterAll(async () => {
  await lw?.stop();
  await standins?.close();
  await secret?.close();
  await allowed?.close();
  await resolver?.close();
});

const get = (target: string, host: string): Promise<{ reply: string }> =>
  rawExchange(lw.proxyPort, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('the proxy port refuses pivots', () => {
  it.each([
    ['loopback literal', () => `127.0.0.1:${secret.port}`],
    ['another loopback address', () => `127.0.0.2:${secret.port}`],
    ['localhost', () => `localhost:${secret.port}`],
    ['a *.localhost name', () => `x.localhost:${secret.port}`],
    ['the unspecified address', () => `0.0.0.0:${secret.port}`],
    ['IPv4-mapped loopback', () => `[::ffff:127.0.0.1]:${secret.port}`],
    ['IPv4-mapped loopback, hex form', () => `[::ffff:7f00:1]:${secret.port}`],
    ['IPv6 loopback', () => `[::1]:${secret.port}`],
    ['IPv6 unspecified', () => `[::]:${secret.port}`],
    ['the metadata address', () => '169.254.169.254'],
    ['IPv6 link-local', () => '[fe80::1]'],
    ['the metadata name', () => 'metadata.google.internal'],
    ['a name resolving to loopback', () => `a.rebind.test:${secret.port}`],
    ['a name resolving to the metadata address', () => 'meta.test'],
  ])('absolute-form HTTP to %s: 403 LW_TARGET_FORBIDDEN, nothing dialled', async (_what, authority) => {
    const before = secret.seen.length;
    const { reply } = await get(`http://${authority()}/`, authority());
    expect(statusAndCode(reply)).toEqual({ status: 403, code: 'LW_TARGET_FORBIDDEN' });
    expect(reply).not.toContain('SECRET');
    expect(secret.seen.length).toBe(before);
  });

  it.each([`127.0.0.1:${0}`, '[::ffff:127.0.0.1]:22', 'localhost:22', '169.254.169.254:443'])('CONNECT %s: 403 before any tunnel', async (target) => {
    const t = await openTunnel(lw.proxyPort, target.replace(':0', `:${secret.port}`)).catch((err: Error) => err);
    expect(t).not.toBeInstanceOf(Error);
    if (t instanceof Error) return;
    t.socket.destroy();
    expect(t.status).toBe(403);
  });

  it('CONNECT to a name that resolves to loopback: the CONNECT itself gets 403 (checked on the dialled address)', async () => {
    const before = secret.seen.length;
    const t = await openTunnel(lw.proxyPort, `b.rebind.test:${secret.port}`);
    t.socket.destroy();
    expect(t.status).toBe(403);
    expect(t.head).toMatch(/\r\nx-leakwatch-error: LW_TARGET_FORBIDDEN(?:\r\n|$)/i);
    expect(secret.seen.length).toBe(before);
  });

  it('WebSocket upgrades to loopback, or to a name resolving to it, are refused with 403 before any 101', async () => {
    const { reply } = await rawExchange(
      lw.proxyPort,
      `GET http://127.0.0.1:${secret.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${secret.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      3000,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 403/);
    const before = secret.seen.length;
    // The handshake is forwarded before the client is answered, so the resolved-address refusal
    // happens while dialling: the client must still get a plain 403, never a 101 first.
    const rebound = await rawExchange(
      lw.proxyPort,
      `GET http://c.rebind.test:${secret.port}/ HTTP/1.1\r\nHost: c.rebind.test:${secret.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      3000,
    );
    expect(statusAndCode(rebound.reply)).toEqual({ status: 403, code: 'LW_TARGET_FORBIDDEN' });
    expect(rebound.reply).not.toMatch(/ 101 /);
    expect(secret.seen.length).toBe(before);
    await until(async () => {
      const r = await lw.api<{ flows: Array<{ host: string; error: unknown }> }>('/api/flows?host=c.rebind.test&limit=10');
      return r.flows.some((f) => JSON.stringify(f.error ?? '').includes('LW_TARGET_FORBIDDEN'));
    }, 5000, 'the rebinding WebSocket refusal recorded');
  });

  it('refusals are recorded with the code', async () => {
    const flows = await until(async () => {
      const r = await lw.api<{ flows: Array<{ host: string; error: unknown }> }>('/api/flows?limit=200');
      const hit = r.flows.filter((f) => JSON.stringify(f.error ?? '').includes('LW_TARGET_FORBIDDEN'));
      return hit.length >= 10 ? hit : undefined;
    }, 5000, 'recorded refusals');
    const hosts = new Set(flows.map((f) => f.host));
    for (const h of ['127.0.0.1', 'localhost', 'a.rebind.test', 'metadata.google.internal', '169.254.169.254']) expect(hosts).toContain(h);
  });
});

// Refused before anything is dialled (IP literals by the request check, names once resolved, both
// before a socket exists), so these tests send no packet beyond loopback: a dial that did happen
// would end in a 502/504 network error, never in 403 LW_TARGET_FORBIDDEN.
describe('private LAN ranges are refused by default', () => {
  it.each([
    ['10/8', '10.0.0.1'],
    ['172.16/12', '172.31.255.1:8080'],
    ['192.168/16 (a home router)', '192.168.1.1'],
    ['fc00::/7', '[fd12:3456::1]'],
    ['IPv4-mapped 192.168/16', '[::ffff:192.168.1.1]'],
    ['a name resolving to 192.168.1.1', 'lan.test'],
  ])('absolute-form HTTP to %s: 403 LW_TARGET_FORBIDDEN', async (_what, authority) => {
    const { reply } = await get(`http://${authority}/admin`, authority);
    expect(statusAndCode(reply)).toEqual({ status: 403, code: 'LW_TARGET_FORBIDDEN' });
  });

  it('CONNECT 192.168.1.1:443: 403 before any tunnel', async () => {
    const t = await openTunnel(lw.proxyPort, '192.168.1.1:443');
    t.socket.destroy();
    expect(t.status).toBe(403);
  });

  it('the transparent HTTP listener refuses a Host naming 10.0.0.1', async () => {
    const { reply } = await rawExchange(transparentHttp, 'GET /admin HTTP/1.1\r\nHost: 10.0.0.1\r\nConnection: close\r\n\r\n');
    expect(statusAndCode(reply)).toEqual({ status: 403, code: 'LW_TARGET_FORBIDDEN' });
  });

  it('the refusal names --allow-upstream, in the record', async () => {
    const flows = await until(async () => {
      const r = await lw.api<{ flows: Array<{ id: number; error: unknown }> }>('/api/flows?host=192.168.1.1&limit=10');
      return r.flows.length > 0 ? r.flows : undefined;
    }, 5000, 'the 192.168.1.1 refusal recorded');
    expect(flows[0]!.error).toBe('LW_TARGET_FORBIDDEN');
    const detail = await lw.api<{ notes: unknown }>(`/api/flows/${flows[0]!.id}`);
    expect(JSON.stringify(detail)).toMatch(/private or unspecified address \(see --allow-upstream\)/);
  });
});

describe('explicit choices stay allowed', () => {
  it('--resolve targets on loopback are reached (the stand-ins)', async () => {
    await lw.stillServes();
  });

  it('--allow-upstream 127.0.0.3/32 opens that address, and only that one', async () => {
    const ok = await get(`http://127.0.0.3:${allowed.port}/`, `127.0.0.3:${allowed.port}`);
    expect(ok.reply).toMatch(/^HTTP\/1\.1 200/);
    expect(ok.reply).toContain('allowed');
    const no = await get(`http://127.0.0.4:${allowed.port}/`, `127.0.0.4:${allowed.port}`);
    expect(statusAndCode(no.reply).code).toBe('LW_TARGET_FORBIDDEN');
  });
});

describe('the transparent listeners refuse pivots', () => {
  it.each([() => `127.0.0.1:${secret.port}`, () => 'localhost', () => `d.rebind.test:${secret.port}`, () => '[::ffff:127.0.0.1]'])('transparent HTTP with Host %#: 403', async (host) => {
    const before = secret.seen.length;
    const { reply } = await rawExchange(transparentHttp, `GET / HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
    expect(statusAndCode(reply)).toEqual({ status: 403, code: 'LW_TARGET_FORBIDDEN' });
    expect(secret.seen.length).toBe(before);
  });

  it('transparent HTTPS with SNI localhost is closed without a dial, and recorded', async () => {
    await new Promise<void>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: transparentHttps, servername: 'localhost', rejectUnauthorized: false });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    await until(async () => {
      const r = await lw.api<{ flows: Array<{ host: string; error: unknown }> }>('/api/flows?host=localhost&limit=50');
      return r.flows.some((f) => JSON.stringify(f.error ?? '').includes('LW_TARGET_FORBIDDEN') && f.host === 'localhost');
    }, 5000, 'transparent refusal recorded');
  });
});
