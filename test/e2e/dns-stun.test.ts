/**
 * The DNS server and the STUN sensor end to end through `startLeakwatch` with the CLI's flags: the DNS server answered by dig
 * (a local stand-in resolver plays the internet), the STUN sensor hit by a Node dgram Binding
 * request after the client resolved stun.l.google.com through leakwatch, and VoIP signalling
 * through the proxy to a homeserver stand-in (SDP candidates, an empty turnServer answer).
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { ConfigError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { parseStun } from '../../proxy/stun/parse.js';
import { dig, startStandIn as startResolver, type StandIn as Resolver } from '../dns/helpers.js';
import { dashboardClient, type DashboardClient, type FlowItem } from '../helpers/matrix-e2e.js';
import { standInPki, startStandIn, type StandIn } from '../helpers/matrix-standins.js';

const run = promisify(execFile);
const HS = 'matrix.example.org';
const ROOM = '!kKQxgXZuGNaBIzUOeO:example.org';
// A 20-byte Binding request as WebRTC sends it (RFC 8489 §6)
const BINDING = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');

let dir: string;
let resolver: Resolver | undefined;
let hs: StandIn | undefined;
let running: Running | undefined;
let dash: DashboardClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-dns-stun-'));
  const pki = await standInPki();
  resolver = await startResolver();
  hs = await startStandIn(HS, pki, (req) => {
    if (req.path.endsWith('/voip/turnServer')) return { json: {} }; // Synapse default: turn_uris: []
    if (req.method === 'PUT' && req.path.includes('/send/')) return { json: { event_id: '$call1' } };
    return { status: 404, json: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } };
  });
  // the flags as the CLI passes them (commander camel-cases --dns-port etc.)
  running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: join(dir, 'leakwatch'),
      resolve: [hs.resolveSpec],
      upstreamCa: [pki.caFile],
      firstParty: [HS],
      dnsPort: '0',
      dnsUpstream: `127.0.0.1:${resolver.port}`,
      transparentHttpsPort: '0',
      stunPort: ['0', '0'],
    }),
    silentLogger,
  );
  dash = dashboardClient(running.dashboardUrl, running.token);
});

afterAll(async () => {
  await running?.close();
  await hs?.close();
  await resolver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitFlow(pred: (f: FlowItem) => boolean): Promise<FlowItem> {
  const row = (await dash.waitFor((list) => list.some(pred), 3000)).find(pred);
  if (!row) throw new Error('flow not recorded');
  return row;
}

function stunRequest(port: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, 1000);
    s.once('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.bind(0, '127.0.0.1', () => s.send(BINDING, port, '127.0.0.1'));
  });
}

async function proxyCurl(args: string[]): Promise<string> {
  const r = running!;
  const { stdout } = await run('/usr/bin/curl', ['--silent', '--show-error', '--fail', '--noproxy', '', '--proxy', r.proxyUrl, '--cacert', r.caPath, ...args]);
  return stdout;
}

describe.skipIf(!existsSync('/usr/bin/dig') || !existsSync('/usr/bin/curl'))('DNS, STUN and VoIP through startLeakwatch', () => {
  it('starts every listener on its own port and shows them', () => {
    const l = running!.listeners;
    expect(l.dns).toBeGreaterThan(0);
    expect(l.transparentHttps).toBeGreaterThan(0);
    expect(l.stun).toHaveLength(2);
    expect(new Set([l.dns, l.transparentHttps, ...l.stun]).size).toBe(4);
  });

  it('dig: a ruled name gets leakwatch\'s address and is recorded; other names are forwarded', async () => {
    const r = await dig(running!.listeners.dns!, 'vector.im', 'A');
    expect(r.answers).toEqual(['A 127.0.0.1']);
    const row = await waitFlow((f) => f.method === 'QUERY' && f.host === 'vector.im');
    expect(row.url).toBe('dns://vector.im/A');
    // classified by the host-only rule that covers vector.im (rules needing a path do not claim lookups)
    expect(row.rule).toBe('matrix.cdn.cloudflare');
    expect(resolver!.seen.some((s) => s.name === 'vector.im')).toBe(false);

    expect((await dig(running!.listeners.dns!, 'example.org', 'A')).answers).toEqual(['A 93.184.216.34']);
    const fwd = await waitFlow((f) => f.method === 'QUERY' && f.host === 'example.org');
    expect(fwd.rule).toBeNull();
    expect(resolver!.seen.some((s) => s.name === 'example.org')).toBe(true);
  });

  it('a STUN Binding request meant for stun.l.google.com is answered and recorded as stun-turn with the client\'s address', async () => {
    const l = running!.listeners;
    expect((await dig(l.dns!, 'stun.l.google.com', 'A')).answers).toEqual(['A 127.0.0.1']);
    const lookup = await waitFlow((f) => f.method === 'QUERY' && f.host === 'stun.l.google.com');
    expect(lookup).toMatchObject({ rule: 'matrix.voip.default-stun', category: 'stun-turn' });
    expect((await dash.flow(lookup.id)).flow.leaks).toEqual([]); // the resolver, not Google, saw the lookup

    // a later lookup of another ruled name must not change which server the binding was meant for
    await dig(l.dns!, 'vector.im', 'A');
    const reply = await stunRequest(l.stun[1]!);
    expect(reply).not.toBeNull();
    const parsed = parseStun(reply!);
    expect(parsed.ok && parsed.message.xorMappedAddress?.address).toBe('127.0.0.1');
    const row = await waitFlow((f) => f.method === 'BINDING');
    expect(row).toMatchObject({ host: 'stun.l.google.com', url: `stun://stun.l.google.com:${l.stun[1]}`, rule: 'matrix.voip.default-stun', category: 'stun-turn', severity: 'medium' });
    const leaks = (await dash.flow(row.id)).flow.leaks;
    expect(leaks).toContainEqual({ kind: 'ip_address', value: '127.0.0.1', where: 'connection.client', method: 'structural' });
  });

  it('an m.call.invite PUT with host, srflx and relay candidates yields ip_address findings', async () => {
    const sdp = [
      'v=0', 'o=- 6584580628695956864 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 54321 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 198.51.100.23',
      'a=candidate:1 1 udp 2122260223 192.168.1.34 49152 typ host generation 0',
      'a=candidate:2 1 udp 2122194687 203.0.113.9 49153 typ host generation 0',
      'a=candidate:3 1 udp 1677729535 198.51.100.23 54321 typ srflx raddr 192.168.1.34 rport 49152 generation 0',
      'a=candidate:4 1 udp 41885439 192.0.2.77 3478 typ relay raddr 198.51.100.23 rport 54321 generation 0', '',
    ].join('\r\n');
    const body = JSON.stringify({ call_id: 'c1', party_id: 'ALICEDEVICE', version: '1', lifetime: 60000, offer: { type: 'offer', sdp } });
    const url = `https://${HS}/_matrix/client/v3/rooms/${encodeURIComponent(ROOM)}/send/m.call.invite/m1`;
    expect(JSON.parse(await proxyCurl(['-X', 'PUT', '-H', 'Content-Type: application/json', '--data-binary', body, url]))).toEqual({ event_id: '$call1' });
    const row = await waitFlow((f) => f.method === 'PUT' && f.path.includes('/send/m.call.invite/'));
    expect(row).toMatchObject({ rule: 'homeserver.voip.call-signalling', category: 'first-party-exposure', firstParty: true });
    const ips = (await dash.flow(row.id)).flow.leaks.filter((l) => l.kind === 'ip_address');
    const where = (value: string): string[] => ips.filter((l) => l.value === value).map((l) => l.where.split('#')[1]!);
    expect(where('192.168.1.34')).toEqual(expect.arrayContaining(['host', 'raddr'])); // private host candidate
    expect(where('203.0.113.9')).toContain('host'); // public host candidate
    expect(where('198.51.100.23')).toEqual(expect.arrayContaining(['srflx', 'c'])); // a STUN server was used
    expect(where('192.0.2.77')).toContain('relay');
    expect(ips.every((l) => l.where.startsWith('request.body.offer.sdp#'))).toBe(true);

    // trickled candidates (m.call.candidates) too
    const cands = JSON.stringify({ call_id: 'c1', party_id: 'ALICEDEVICE', version: '1', candidates: [{ candidate: 'candidate:5 1 udp 1677729535 198.51.100.99 40000 typ srflx raddr 10.0.0.5 rport 40000', sdpMid: '0', sdpMLineIndex: 0 }] });
    await proxyCurl(['-X', 'PUT', '-H', 'Content-Type: application/json', '--data-binary', cands, url.replace('m.call.invite/m1', 'm.call.candidates/m2')]);
    const crow = await waitFlow((f) => f.method === 'PUT' && f.path.includes('/send/m.call.candidates/'));
    const cips = (await dash.flow(crow.id)).flow.leaks.filter((l) => l.kind === 'ip_address').map((l) => l.value);
    expect(cips).toEqual(expect.arrayContaining(['198.51.100.99', '10.0.0.5']));
  });

  it('a /voip/turnServer answer of {} is the no-TURN first-party-exposure finding with its remediation', async () => {
    expect(JSON.parse(await proxyCurl(['-H', 'Authorization: Bearer syt_fake', `https://${HS}/_matrix/client/v3/voip/turnServer`]))).toEqual({});
    const row = await waitFlow((f) => f.path === '/_matrix/client/v3/voip/turnServer');
    expect(row).toMatchObject({ rule: 'homeserver.voip.no-turn', category: 'first-party-exposure', severity: 'medium', firstParty: true });
    const view = (await (await fetch(`${running!.dashboardUrl}/api/rules`, { headers: { authorization: `Bearer ${running!.token}` } })).json()) as { rules: Array<{ id: string; remediation: string }> };
    expect(view.rules.find((x) => x.id === 'homeserver.voip.no-turn')?.remediation).toMatch(/Synapse `turn_uris`/);
  });

  it('a port that cannot be bound is one clear line and nothing stays half-started', async () => {
    const taken = running!.listeners.dns!;
    const flags = { port: '0', dashboardPort: '0', dataDir: join(dir, 'clash'), dnsPort: String(taken), dnsUpstream: '127.0.0.1' };
    const err = await startLeakwatch(validateStartFlags(flags), silentLogger).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`--dns-port 127.0.0.1:${taken}: address already in use`);
    // everything it had opened was closed: the same data dir starts again at once
    const again = await startLeakwatch(validateStartFlags({ ...flags, dnsPort: '0' }), silentLogger);
    await again.close();
  });
});
