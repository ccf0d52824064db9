/**
 * Real captures for the report and diff tests: leakwatch started with the CLI's flags, HTTPS
 * stand-ins for vector.im (identity server), scalar.vector.im (integration manager),
 * posthog.element.io (analytics) and two unruled hosts, a stand-in resolver behind leakwatch's DNS
 * server, its STUN sensor, and curl / dig / a dgram socket as the clients. Each `capture` is one
 * leakwatch run (one session) on a shared data dir.
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { Resolver as DnsClient } from 'node:dns/promises';
import { startStandIn as startResolver, type StandIn as Resolver } from '../dns/helpers.js';
import { curl } from '../helpers/curl.js';
import { dashboardClient } from '../helpers/matrix-e2e.js';
import { identityServerHandler, scalarHandler, standInPki, startStandIn, STANDIN, type StandIn } from '../helpers/matrix-standins.js';

export const ME = 'alice@example.org';
export const CONTACTS = ['bob@example.com', 'carol@example.net'];
export const ANALYTICS_ID = 'a1b2c3d4-analytics-0000-1111';
export const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const ELEMENT_DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Element/1.11.85 Chrome/130.0.0.0 Electron/33.2.0 Safari/537.36';
const BINDING = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');

/** Identity service v2 hashed address: base64url(sha256("address medium pepper")). */
export const contactHash = (address: string): string =>
  createHash('sha256').update(`${address} email ${STANDIN.pepper}`).digest('base64url');

export interface World {
  readonly dir: string;
  readonly dataDir: string;
  readonly servers: StandIn[];
  readonly resolver: Resolver;
  readonly caFile: string;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-report-'));
  const pki = await standInPki();
  const resolver = await startResolver();
  const echo = (): { json: unknown } => ({ json: { ok: true } });
  const servers = [
    await startStandIn('vector.im', pki, identityServerHandler({ [contactHash(CONTACTS[0]!)]: '@bob:example.com' })),
    await startStandIn('scalar.vector.im', pki, scalarHandler()),
    await startStandIn('posthog.element.io', pki, echo),
    await startStandIn('collect.tracker-example.net', pki, echo),
    await startStandIn('cdn.newparty-example.org', pki, echo),
  ];
  return {
    dir,
    dataDir: join(dir, 'leakwatch'),
    servers,
    resolver,
    caFile: pki.caFile,
    async close() {
      for (const s of servers) await s.close();
      await resolver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CaptureOptions {
  readonly session: string;
  readonly mode: 'observe' | 'enforce';
  readonly block?: readonly string[];
  /** `--action RULE=ACTION` overrides (a hold is denied after 1 s: nobody answers it). */
  readonly action?: readonly string[];
  /** Also send an e-mail to an unruled host B never saw before. */
  readonly newParty?: boolean;
  /** The DNS-only lookup, the STUN request and the TLS failure (first capture only). */
  readonly extras?: boolean;
}

async function proxied(r: Running, ua: string, method: string, url: string, body?: unknown, headers: string[] = []): Promise<void> {
  const args = ['--noproxy', '', '--proxy', r.proxyUrl, '--cacert', r.caPath, '-A', ua, '-X', method, '-o', '/dev/null'];
  for (const h of headers) args.push('-H', h);
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  const res = await curl([...args, url]);
  if (res.code !== 0) throw new Error(`curl ${url}: ${res.stderr}`);
}

function stun(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no STUN answer'))), 2000);
    s.once('message', () => (clearTimeout(t), s.close(), resolve()));
    s.bind(0, '127.0.0.1', () => s.send(BINDING, port, '127.0.0.1'));
  });
}

/** One leakwatch run with the session's traffic; returns the number of exchanges recorded. */
export async function capture(w: World, o: CaptureOptions): Promise<number> {
  const running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: w.dataDir,
      resolve: w.servers.map((s) => s.resolveSpec),
      upstreamCa: [w.caFile],
      session: o.session,
      mode: o.mode,
      identity: [`email=${ME}`, ...CONTACTS.map((c) => `email=${c}`)],
      ...(o.block ? { block: [...o.block] } : {}),
      ...(o.action ? { action: [...o.action] } : {}),
      ...(o.action?.some((a) => a.endsWith('=hold')) ? { holdTimeout: '1' } : {}),
      ...(o.extras ? { dnsPort: '0', dnsUpstream: `127.0.0.1:${w.resolver.port}`, stunPort: ['0'] } : {}),
    }),
    silentLogger,
  );
  try {
    const is = 'https://vector.im/_matrix/identity/v2/lookup';
    await proxied(running, FIREFOX, 'POST', is, { addresses: CONTACTS.map(contactHash), algorithm: 'sha256', pepper: STANDIN.pepper }, [`Authorization: Bearer ${STANDIN.isToken}`]);
    await proxied(running, ELEMENT_DESKTOP, 'POST', 'https://scalar.vector.im/api/register?v=1.1', { access_token: STANDIN.openIdToken, token_type: 'Bearer', matrix_server_name: 'example.org', expires_in: 3600 });
    await proxied(running, FIREFOX, 'POST', 'https://posthog.element.io/e/', { event: '$pageview', distinct_id: ANALYTICS_ID, properties: { distinct_id: ANALYTICS_ID } });
    await proxied(running, FIREFOX, 'POST', 'https://collect.tracker-example.net/v1/collect', { user: { email: ME }, page: 'settings' });
    let expected = 4;
    if (o.newParty) {
      await proxied(running, FIREFOX, 'POST', 'https://cdn.newparty-example.org/beacon', { contact: ME });
      expected++;
    }
    if (o.extras) {
      // A client that does not trust leakwatch's CA (a pinned app): a TLS failure.
      const pinned = await curl(['--noproxy', '', '--proxy', running.proxyUrl, '--cacert', w.caFile, '-o', '/dev/null', 'https://vector.im/_matrix/identity/v2']);
      if (pinned.code === 0) throw new Error('the pinned client accepted leakwatch\'s certificate');
      // Node's own DNS client (c-ares) against leakwatch's DNS server.
      const dns = new DnsClient({ timeout: 2000, tries: 1 });
      dns.setServers([`127.0.0.1:${running.listeners.dns!}`]);
      // A name only looked up, never contacted through the proxy.
      await dns.resolve4('piwik.riot.im');
      // A STUN binding after looking up Google's STUN server (leakwatch's sensor answers it).
      await dns.resolve4('stun.l.google.com');
      await stun(running.listeners.stun[0]!);
      expected += 4;
    }
    const dash = dashboardClient(running.dashboardUrl, running.token);
    // The dashboard's flow items carry their session (dashboard/API.md).
    const mine = (fs: ReadonlyArray<object>): number => fs.filter((f) => (f as { session?: string }).session === o.session).length;
    return mine(await dash.waitFor((fs) => mine(fs) >= expected, 5000));
  } finally {
    await running.close(500);
  }
}
