/**
 * Transparent listeners through `startLeakwatch` with real curl and no proxy setting: clients that
 * DNS sent to leakwatch speak TLS (routed by SNI) or HTTP (routed by Host) directly. Upstream
 * stand-ins are reached through `--resolve`, exactly as the internet would be through DNS.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dbPath, openStore } from '../../store/db.js';
import { createQueries } from '../../store/queries.js';
import { curl } from '../helpers/curl.js';
import { dashboardClient, type FlowItem } from '../helpers/matrix-e2e.js';
import { identityServerHandler, standInPki, STANDIN, startStandIn, type StandIn } from '../helpers/matrix-standins.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const IS = 'vector.im';
const BOB = 'bob@example.com';
const BOB_HASH = createHash('sha256').update(`${BOB} email ${STANDIN.pepper}`).digest('base64url');
const OTHER_HASH = createHash('sha256').update(`dave@example.net email ${STANDIN.pepper}`).digest('base64url');

let dir: string;
let is: StandIn | undefined;
let plain: Origin | undefined;
let running: Running | undefined;
let denied: Running | undefined;
let tlsPort = 0;
let httpPort = 0;

/** A port that was free a moment ago (for names that must --resolve to leakwatch's own listener). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Facts the dashboard API does not show (listener, error code, SNI) from the store itself. */
function stored(r: Running, id: number) {
  const store = openStore(dbPath(r.config.dataDir));
  try {
    return createQueries(store).getFlow(id);
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-transparent-'));
  const pki = await standInPki();
  is = await startStandIn(IS, pki, identityServerHandler({ [BOB_HASH]: '@bob:example.com' }));
  plain = await startOrigin({
    routes: { '*': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"address":"bob@example.com","medium":"email"}') },
  });
  tlsPort = await freePort();
  running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: join(dir, 'leakwatch'),
      // upstream side: the stand-ins; loop.example points at leakwatch's own transparent port
      resolve: [is.resolveSpec, `id.example=127.0.0.1:${plain.port}`, `loop.example=127.0.0.1:${tlsPort}`],
      upstreamCa: [pki.caFile],
      identity: [`email=${BOB}`],
      transparentHttpsPort: String(tlsPort),
      transparentHttpPort: '0',
    }),
    silentLogger,
  );
  httpPort = running.listeners.transparentHttp!;
  denied = await startLeakwatch(
    validateStartFlags({ port: '0', dashboardPort: '0', dataDir: join(dir, 'denied'), allowClient: ['10.0.0.0/8'], transparentHttpsPort: '0', transparentHttpPort: '0' }),
    silentLogger,
  );
});

afterAll(async () => {
  await running?.close();
  await denied?.close();
  await is?.close();
  await plain?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const noProxy = ['--noproxy', '*', '--max-time', '10'];

describe.skipIf(!existsSync('/usr/bin/curl'))('transparent listeners through startLeakwatch', () => {
  it('HTTPS without CONNECT: routed by SNI, the lookup is recorded with its leaks and the stand-in answers', async () => {
    const r = running!;
    expect(running!.listeners.transparentHttps).toBe(tlsPort);
    const body = JSON.stringify({ addresses: [BOB_HASH, OTHER_HASH], pepper: STANDIN.pepper, algorithm: 'sha256' });
    const out = await curl([
      ...noProxy, '--fail',
      '--resolve', `${IS}:${tlsPort}:127.0.0.1`,
      '--cacert', r.caPath,
      '-H', `Authorization: Bearer ${STANDIN.isToken}`,
      '-H', 'Content-Type: application/json',
      '--data-binary', body,
      `https://${IS}:${tlsPort}/_matrix/identity/v2/lookup`,
    ]);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout.toString())).toEqual({ mappings: { [BOB_HASH]: '@bob:example.com' } });
    expect(is!.find('POST', '/_matrix/identity/v2/lookup').at(-1)!.text).toBe(body);

    const dash = dashboardClient(r.dashboardUrl, r.token);
    const isLookup = (f: FlowItem): boolean => f.host === IS && f.path === '/_matrix/identity/v2/lookup';
    const row = (await dash.waitFor((list) => list.some(isLookup), 2000)).find(isLookup);
    expect(row).toBeDefined();
    expect(row).toMatchObject({ rule: 'matrix.identity.v2.lookup', category: 'identity-server', status: 200, url: `https://${IS}/_matrix/identity/v2/lookup` });
    const leaks = (await dash.flow(row!.id)).flow.leaks;
    expect(leaks.find((l) => l.kind === 'email' && l.value === BOB)?.method).toMatch(/^known-value:/);
    expect(leaks.some((l) => l.kind === 'contact_hash' && l.value === OTHER_HASH)).toBe(true);
    expect(leaks.some((l) => l.kind === 'token' && l.value === STANDIN.isToken)).toBe(true);
    expect(stored(r, row!.id)).toMatchObject({ listener: 'transparent-https' });
  });

  it('a ClientHello without SNI is recorded (tls-failure, LW_CLIENT_NO_SNI) and closed', async () => {
    const r = running!;
    // curl sends no SNI to an IP literal
    const out = await curl([...noProxy, '--cacert', r.caPath, `https://127.0.0.1:${tlsPort}/`]);
    expect(out.code).not.toBe(0);
    const dash = dashboardClient(r.dashboardUrl, r.token);
    const isNoSni = (f: FlowItem): boolean => f.error === 'LW_CLIENT_NO_SNI';
    const row = (await dash.waitFor((list) => list.some(isNoSni), 2000)).find(isNoSni);
    expect(row).toBeDefined();
    expect(stored(r, row!.id)).toMatchObject({ listener: 'transparent-https', type: 'tls-failure', method: 'TLS' });
  });

  it('plain HTTP without a proxy is routed by Host through the same pipeline', async () => {
    const r = running!;
    const out = await curl([...noProxy, '--fail', '--resolve', `id.example:${httpPort}:127.0.0.1`, `http://id.example:${httpPort}/_matrix/identity/api/v1/lookup?medium=email&address=bob%40example.com`]);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout.toString())).toMatchObject({ address: BOB });
    expect(plain!.seen.at(-1)).toMatchObject({ method: 'GET', url: '/_matrix/identity/api/v1/lookup?medium=email&address=bob%40example.com' });
    const dash = dashboardClient(r.dashboardUrl, r.token);
    const isV1 = (f: FlowItem): boolean => f.host === 'id.example' && f.path.startsWith('/_matrix/identity/api/v1/lookup');
    const row = (await dash.waitFor((list) => list.some(isV1), 2000)).find(isV1);
    expect(row).toMatchObject({ rule: 'matrix.identity.v1.lookup', status: 200 });
    expect((await dash.flow(row!.id)).flow.leaks.some((l) => l.kind === 'email' && l.value === BOB)).toBe(true);
    expect(stored(r, row!.id)).toMatchObject({ listener: 'transparent-http' });
    // no Host header: nothing to route by
    const bare = await curl([...noProxy, '-H', 'Host:', '-o', '/dev/null', '-w', '%{http_code}', '--http1.0', `http://127.0.0.1:${httpPort}/`]);
    expect(bare.stdout.toString()).toBe('400');
  });

  it('the loop guard refuses names that lead back to leakwatch, on both listeners', async () => {
    const r = running!;
    const http = await curl([...noProxy, '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${httpPort}/`]);
    expect(http.stdout.toString()).toBe('508');
    const tls = await curl([...noProxy, '--cacert', r.caPath, '--resolve', `loop.example:${tlsPort}:127.0.0.1`, `https://loop.example:${tlsPort}/`]);
    expect(tls.code).not.toBe(0);
    const dash = dashboardClient(r.dashboardUrl, r.token);
    const isLoop = (f: FlowItem): boolean => f.error === 'LW_LOOP' && f.host === 'loop.example';
    const row = (await dash.waitFor((list) => list.some(isLoop), 2000)).find(isLoop);
    expect(row).toBeDefined();
    expect(stored(r, row!.id)).toMatchObject({ listener: 'transparent-https', type: 'tls-failure' });
  });

  it('the --allow-client policy applies to transparent listeners', async () => {
    const d = denied!;
    const tls = await curl([...noProxy, '--cacert', d.caPath, '--resolve', `${IS}:${d.listeners.transparentHttps}:127.0.0.1`, `https://${IS}:${d.listeners.transparentHttps}/`]);
    expect(tls.code).not.toBe(0);
    const http = await curl([...noProxy, '-o', '/dev/null', '-w', '%{http_code}', `http://id.example:${d.listeners.transparentHttp}/`, '--resolve', `id.example:${d.listeners.transparentHttp}:127.0.0.1`]);
    expect(http.stdout.toString()).toBe('403');
    // Counted per listener, never recorded one row each (a flood must not fill the store).
    const health = (await (await fetch(`${d.dashboardUrl}/api/health`, { headers: { authorization: `Bearer ${d.token}` } })).json()) as { listeners: { refusedClients: Record<string, number> } };
    expect(health.listeners.refusedClients).toMatchObject({ 'transparent-https': 1, 'transparent-http': 1 });
    expect((await dashboardClient(d.dashboardUrl, d.token).flows()).filter((f) => f.error === 'LW_CLIENT_DENIED')).toHaveLength(0);
    expect(is!.received.every((q) => q.method !== 'GET' || q.path !== '/')).toBe(true);
  });
});
