/**
 * `leakwatch purge --value V` while leakwatch runs: real traffic through the real proxy (an
 * identity-server lookup by hash, a token request, a path with the value in capitals and
 * percent-encoded, a WebSocket message), then the purge, which the running process performs.
 * Afterwards a byte scan of leakwatch.db, -wal and -shm finds no spelling of V nor its IS v2 hash,
 * and a `?since=0` replay of the live stream does not bring the exchanges back.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { purgeCommand } from '../../cli/purge.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dbPath } from '../../store/db.js';
import { dashboardClient, proxiedFetch } from '../helpers/matrix-e2e.js';
import { identityServerHandler, standInPki, STANDIN, startStandIn, type StandIn } from '../helpers/matrix-standins.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { absoluteFormConnection } from '../helpers/ws-client.js';

const IS = 'vector.im';
const CHAT = 'chat.example.test';
const BOB = 'bob.purge@example.com';
const KEEP = 'carol@example.org';
const hash = (a: string): string => createHash('sha256').update(`${a} email ${STANDIN.pepper}`).digest('base64url');
const SPELLINGS = [BOB, BOB.toUpperCase(), encodeURIComponent(BOB), encodeURIComponent(BOB).replace('%40', '%40')];
const HASHES = [hash(BOB), hash(BOB).replace(/-/g, '+').replace(/_/g, '/')];

function traces(text: string): string[] {
  const lower = text.toLowerCase();
  return [...SPELLINGS.filter((s) => lower.includes(s.toLowerCase())), ...HASHES.filter((h) => text.includes(h))];
}

let dir: string;
let dataDir: string;
let is: StandIn | undefined;
let chat: Origin | undefined;
let lw: Running | undefined;

function dbText(): string {
  const file = dbPath(dataDir);
  return [file, `${file}-wal`, `${file}-shm`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
}

/** Every frame a fresh `?since=0` stream client gets within `ms`. */
async function replay(ms = 600): Promise<string> {
  const port = new URL(lw!.dashboardUrl).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/stream?since=0`, { headers: { authorization: `Bearer ${lw!.token}` } });
  const frames: string[] = [];
  ws.on('message', (m) => frames.push(String(m)));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  await new Promise((r) => setTimeout(r, ms));
  ws.terminate();
  return frames.join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-purge-run-'));
  dataDir = join(dir, 'data');
  const pki = await standInPki();
  is = await startStandIn(IS, pki, identityServerHandler({ [hash(BOB)]: '@bob:example.com' }));
  chat = await startOrigin({ ws: true, routes: { '*': (_req, res) => res.end('ok') } });
  lw = await startLeakwatch(validateStartFlags({
    port: '0', dashboardPort: '0', dataDir, storeBodies: 'all', session: 'purge',
    resolve: [is.resolveSpec, `${CHAT}=127.0.0.1:${chat.port}`], upstreamCa: [pki.caFile], identity: [`email=${BOB}`, `email=${KEEP}`],
  }), silentLogger);
  const f = proxiedFetch(lw.proxyUrl, readFileSync(lw.caPath, 'utf8'));
  const auth = { Authorization: `Bearer ${STANDIN.isToken}`, 'Content-Type': 'application/json' };
  await (await f.fetch(`https://${IS}/_matrix/identity/v2/hash_details`, { headers: auth })).text();
  await (await f.fetch(`https://${IS}/_matrix/identity/v2/lookup`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ addresses: [hash(BOB), hash(KEEP)], pepper: STANDIN.pepper, algorithm: 'sha256' }),
  })).text();
  await (await f.fetch(`https://${IS}/_matrix/identity/v2/validate/email/requestToken`, {
    method: 'POST', headers: auth, body: JSON.stringify({ email: BOB, client_secret: 'c5e1x', send_attempt: '1' }),
  })).text();
  await (await f.fetch(`https://${IS}/_matrix/identity/v2/validate/email/requestToken`, {
    method: 'POST', headers: auth, body: JSON.stringify({ email: KEEP, client_secret: 'c5e1y', send_attempt: '1' }),
  })).text();
  await f.close();
  // Unclassified traffic: a path and a WebSocket message that carry the value.
  const proxyPort = Number(new URL(lw.proxyUrl).port);
  const ws = new WebSocket(`ws://${CHAT}/chat?u=${encodeURIComponent(BOB).toLowerCase()}`, { createConnection: absoluteFormConnection(proxyPort, `http://${CHAT}`) as never });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const echoed = new Promise((resolve) => ws.once('message', resolve));
  ws.send(JSON.stringify({ text: `write to ${BOB.toUpperCase()}` }));
  await echoed;
  ws.close();
  await dashboardClient(lw.dashboardUrl, lw.token).waitFor((l) => l.length >= 8, 5000);
  await new Promise((r) => setTimeout(r, 300));
}, 60_000);

afterAll(async () => {
  await lw?.close();
  await is?.close();
  await chat?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('purge while leakwatch runs', () => {
  it('before: the value, in several spellings, and its hash are in the store and the stream', async () => {
    expect(traces(dbText()).length).toBeGreaterThan(0);
    const r = await replay();
    expect(r.toLowerCase()).toContain(BOB);
    expect(r).toContain(hash(BOB));
  });

  it('the running process purges and says what it removed', async () => {
    const line = await purgeCommand({ dataDir, value: BOB });
    expect(line).toMatch(/^Purged \(by the running leakwatch, live stream included\): \d+ findings? deleted/);
    expect(line).toMatch(/rewritten/);
    expect(line).toMatch(/Looked for its identity-server hash under 1 pepper/);
    expect(line).toMatch(/Database compacted, WAL emptied\./);
  });

  it('after: no spelling and no hash in leakwatch.db, -wal or -shm; the other contact stays', () => {
    const text = dbText();
    expect(traces(text)).toEqual([]);
    expect(text).toContain(KEEP);
  });

  it('after: a ?since=0 replay does not bring the value back', async () => {
    const r = await replay();
    expect(r).toContain('flows');
    expect(traces(r)).toEqual([]);
  });

  it('after a restart nothing comes back either', async () => {
    await lw!.close();
    lw = undefined;
    expect(existsSync(join(dataDir, 'running.json'))).toBe(false);
    expect(traces(dbText())).toEqual([]);
    expect(await purgeCommand({ dataDir, value: BOB })).toMatch(/^Nothing held that value\./);
  });
});
