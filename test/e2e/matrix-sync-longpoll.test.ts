/**
 * A Matrix client's /sync long-polls survive the proxy with its default timeouts: matrix-js-sdk
 * syncs for ~100 s through the live leakwatch (CONNECT + TLS, flags as a user would start it,
 * no timeout flag) against a stand-in homeserver that holds every incremental /sync for 30-35 s,
 * the way Synapse does with `timeout=30000`. The client must reach SYNCING and never leave it
 * (a proxy timeout shorter than the hold showed as RECONNECTING every second poll).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClientEvent, createClient, SyncState, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient, proxiedFetch, type FlowItem, type ProxiedFetch } from '../helpers/matrix-e2e.js';
import { homeserverHandler, STANDIN, standInPki, startStandIn, type Handler, type StandIn } from '../helpers/matrix-standins.js';

const HS = 'matrix.example.org';
/** How long the stand-in holds each incremental /sync, in turn (ms). */
const HOLDS = [30_000, 31_000, 35_000];

let dir: string;
let hs: StandIn | undefined;
let running: Running | undefined;
let client: MatrixClient | undefined;
let sdkFetch: ProxiedFetch | undefined;
const held: Array<{ since: string; heldMs: number }> = [];
const pending = new Set<NodeJS.Timeout>();

const emptySync = (next: string) => ({
  next_batch: next,
  rooms: { join: {}, invite: {}, leave: {}, knock: {} },
  account_data: { events: [] },
  presence: { events: [] },
  to_device: { events: [] },
  device_lists: { changed: [], left: [] },
});

/** The homeserver, plus what startClient needs: push rules, a filter, and a holding /sync. */
function syncingHomeserver(): Handler {
  const base = homeserverHandler();
  let polls = 0;
  return (r) => {
    if (r.method === 'GET' && r.path === '/_matrix/client/v3/pushrules/') return { json: { global: { override: [], underride: [], sender: [], room: [], content: [] } } };
    if (r.method === 'POST' && /^\/_matrix\/client\/v3\/user\/[^/]+\/filter$/.test(r.path)) return { json: { filter_id: 'f1' } };
    if (r.method === 'GET' && r.path === '/_matrix/client/v3/sync') {
      const since = r.query.get('since');
      if (!since) return { json: emptySync('s0') };
      const holdMs = HOLDS[polls++ % HOLDS.length]!;
      const t0 = Date.now();
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          pending.delete(t);
          held.push({ since, heldMs: Date.now() - t0 });
          resolve({ json: emptySync(`s${polls}`) });
        }, holdMs);
        pending.add(t);
      });
    }
    return base(r);
  };
}

beforeAll(async () => {
  (sdkLogger as unknown as { setLevel(level: string): void }).setLevel('error');
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-longpoll-'));
  const pki = await standInPki();
  hs = await startStandIn(HS, pki, syncingHomeserver());
  const config = validateStartFlags({
    port: '0',
    dashboardPort: '0',
    dataDir: join(dir, 'leakwatch'),
    resolve: [hs.resolveSpec],
    upstreamCa: [pki.caFile],
    firstParty: [HS],
  });
  running = await startLeakwatch(config, silentLogger);
  sdkFetch = proxiedFetch(running.proxyUrl, readFileSync(running.caPath, 'utf8'));
  client = createClient({ baseUrl: `https://${HS}`, accessToken: STANDIN.hsAccessToken, userId: STANDIN.userId, fetchFn: sdkFetch.fetch });
});

afterAll(async () => {
  client?.stopClient();
  for (const t of pending) clearTimeout(t);
  await sdkFetch?.close();
  await running?.close();
  await hs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('matrix-js-sdk stays SYNCING through ~100 s of /sync long-polls held 30-35 s', { timeout: 108_000 }, async () => {
  const c = client!;
  const states: string[] = [];
  c.on(ClientEvent.Sync, (state) => states.push(state));
  await c.startClient({ initialSyncLimit: 1 });
  // Three held polls back to back: 30 + 31 + 35 s.
  const deadline = Date.now() + 100_000;
  while (held.length < HOLDS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));

  expect(held.map((h) => h.heldMs >= 29_900)).toEqual(HOLDS.map(() => true));
  const firstReady = states.findIndex((s) => s === SyncState.Prepared || s === SyncState.Syncing);
  expect(firstReady).toBeGreaterThanOrEqual(0);
  // After PREPARED: only SYNCING, once per completed poll (no RECONNECTING, ERROR or STOPPED).
  expect(states.slice(firstReady + 1).every((s) => s === SyncState.Syncing)).toBe(true);
  expect(states.filter((s) => s === SyncState.Syncing).length).toBeGreaterThanOrEqual(HOLDS.length);
  // The proxy recorded each held poll as answered, none as a timeout.
  const dash = dashboardClient(running!.dashboardUrl, running!.token);
  const isSync = (x: FlowItem): boolean => new URL(x.url).pathname === '/_matrix/client/v3/sync' && x.status !== null;
  const syncs = (await dash.waitFor((f) => f.filter(isSync).length > HOLDS.length, 5_000)).filter(isSync);
  expect(syncs.length).toBeGreaterThan(HOLDS.length);
  expect(syncs.every((x) => x.status === 200 && !x.error)).toBe(true);
});
