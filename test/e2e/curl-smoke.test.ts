/**
 * Smoke test of the whole pipeline with a client that is not Node: curl through `startLeakwatch`
 * (CONNECT, TLS with leakwatch's CA via --cacert) to the vector.im stand-in's v2 lookup; the flow,
 * classified and with its findings, must be readable from the dashboard API within 1 s.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient } from '../helpers/matrix-e2e.js';
import { identityServerHandler, standInPki, STANDIN, startStandIn, type StandIn } from '../helpers/matrix-standins.js';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';
const IS = 'vector.im';
const BOB = 'bob@example.com';
const BOB_HASH = createHash('sha256').update(`${BOB} email ${STANDIN.pepper}`).digest('base64url');
const OTHER_HASH = createHash('sha256').update(`dave@example.net email ${STANDIN.pepper}`).digest('base64url');

let dir: string;
let is: StandIn | undefined;
let running: Running | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-curl-'));
  const pki = await standInPki();
  is = await startStandIn(IS, pki, identityServerHandler({ [BOB_HASH]: '@bob:example.com' }));
  running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: join(dir, 'leakwatch'),
      resolve: [is.resolveSpec],
      upstreamCa: [pki.caFile],
      identity: [`email=${BOB}`],
    }),
    silentLogger,
  );
});

afterAll(async () => {
  await running?.close();
  await is?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CURL))('curl through startLeakwatch', () => {
  it('a v2 lookup by curl shows up in the dashboard API within 1 s', async () => {
    const r = running!;
    const body = JSON.stringify({ addresses: [BOB_HASH, OTHER_HASH], pepper: STANDIN.pepper, algorithm: 'sha256' });
    const { stdout } = await run(CURL, [
      '--silent',
      '--show-error',
      '--fail',
      '--noproxy', '',
      '--proxy', r.proxyUrl,
      '--cacert', r.caPath,
      '-H', `Authorization: Bearer ${STANDIN.isToken}`,
      '-H', 'Content-Type: application/json',
      '--data-binary', body,
      `https://${IS}/_matrix/identity/v2/lookup`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ mappings: { [BOB_HASH]: '@bob:example.com' } });
    expect(is!.find('POST', '/_matrix/identity/v2/lookup')[0]!.text).toBe(body);

    const t0 = Date.now();
    const dash = dashboardClient(r.dashboardUrl, r.token);
    const isLookup = (f: { host: string; url: string }): boolean => f.host === IS && new URL(f.url).pathname === '/_matrix/identity/v2/lookup';
    const flows = await dash.waitFor((list) => list.some(isLookup), 1000);
    const row = flows.find(isLookup);
    expect(row, `no lookup flow after ${Date.now() - t0} ms`).toBeDefined();
    expect(Date.now() - t0).toBeLessThanOrEqual(1000);
    expect(row!.rule).toBe('matrix.identity.v2.lookup');
    expect(row!.category).toBe('identity-server');
    expect(row!.status).toBe(200);

    const leaks = (await dash.flow(row!.id)).flow.leaks;
    const has = (kind: string, value: string): boolean => leaks.some((l) => l.kind === kind && l.value === value);
    expect(leaks.find((l) => l.kind === 'email' && l.value === BOB)?.method).toMatch(/^known-value:/);
    expect(has('contact_hash', OTHER_HASH)).toBe(true);
    expect(has('token', STANDIN.isToken)).toBe(true);
    expect(leaks.find((l) => l.kind === 'user_agent')?.value).toMatch(/^curl\//);
  });
});
