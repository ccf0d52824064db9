/**
 * Enforcement seen by a real client: matrix-js-sdk 37 through `startLeakwatch --mode enforce` to local HTTPS
 * stand-ins. The neutralized identity lookup keeps the SDK working (no exception, empty result);
 * the blocked integration-manager registration reaches the SDK as a clean MatrixError (M_FORBIDDEN),
 * and the stand-ins' logs prove neither request left the proxy.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, MatrixError, Method, SERVICE_TYPES, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient, proxiedFetch, type DashboardClient, type ProxiedFetch } from '../helpers/matrix-e2e.js';
import { homeserverHandler, identityServerHandler, scalarHandler, STANDIN, standInPki, startStandIn, type StandIn } from '../helpers/matrix-standins.js';

const HS = 'matrix.example.org';
const IS = 'vector.im';
const SCALAR = 'scalar.vector.im';
const BOB = 'bob@example.com';
const isHash = (address: string, medium: string): string => createHash('sha256').update(`${address} ${medium} ${STANDIN.pepper}`).digest('base64url');

let dir: string;
let standIns: StandIn[] = [];
let hs: StandIn, is: StandIn, scalar: StandIn;
let running: Running | undefined;
let client: MatrixClient;
let sdkFetch: ProxiedFetch | undefined;
let dash: DashboardClient;

beforeAll(async () => {
  (sdkLogger as unknown as { setLevel(level: string): void }).setLevel('silent');
  dir = mkdtempSync(join(tmpdir(), 'lw-enforce-sdk-'));
  const pki = await standInPki();
  standIns = await Promise.all([
    startStandIn(HS, pki, homeserverHandler()),
    startStandIn(IS, pki, identityServerHandler({ [isHash(BOB, 'email')]: '@bob:example.com' })),
    startStandIn(SCALAR, pki, scalarHandler()),
  ]);
  [hs, is, scalar] = standIns as [StandIn, StandIn, StandIn];
  running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: join(dir, 'leakwatch'),
      resolve: standIns.map((s) => s.resolveSpec),
      upstreamCa: [pki.caFile],
      firstParty: [HS],
      identity: [`email=${BOB}`],
      mode: 'enforce',
      action: ['matrix.integrations.v1.api=block', 'element.integrations.scalar.register=block'],
    }),
    silentLogger,
  );
  sdkFetch = proxiedFetch(running.proxyUrl, readFileSync(running.caPath, 'utf8'));
  dash = dashboardClient(running.dashboardUrl, running.token);
  client = createClient({ baseUrl: `https://${HS}`, idBaseUrl: `https://${IS}`, accessToken: STANDIN.hsAccessToken, userId: STANDIN.userId, fetchFn: sdkFetch.fetch });
}, 30_000);

afterAll(async () => {
  client?.stopClient();
  await sdkFetch?.close();
  await running?.close(500);
  await Promise.all(standIns.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('matrix-js-sdk 37 with enforcement', () => {
  it('keeps working when its identity lookup is neutralized: no exception, empty result', async () => {
    const found = await client.identityHashedLookup([[BOB, 'email'], ['447700900123', 'msisdn']], STANDIN.isToken);
    expect(found).toEqual([]);
    expect(is.find('GET', '/_matrix/identity/v2/hash_details')).toHaveLength(1); // a log rule: forwarded
    expect(is.find('POST', '/_matrix/identity/v2/lookup')).toHaveLength(0);
    const flows = await dash.waitFor((fs) => fs.some((f) => f.path === '/_matrix/identity/v2/lookup'), 3000);
    const f = flows.find((x) => x.path === '/_matrix/identity/v2/lookup')!;
    expect(f).toMatchObject({ verdict: 'neutralize', rule: 'matrix.identity.v2.lookup', status: 200 });
  });

  it('first-party traffic is untouched', async () => {
    expect((await client.getVersions()).versions).toContain('v1.11');
    expect((await client.getOpenIdToken()).access_token).toBe(STANDIN.openIdToken);
  });

  it('reports a clean MatrixError (M_FORBIDDEN) when integration-manager registration is blocked', async () => {
    const openId = await client.getOpenIdToken();
    const register = client.http.requestOtherUrl(Method.Post, `https://${SCALAR}/_matrix/integrations/v1/account/register`, openId as never);
    const err = await register.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).errcode).toBe('M_FORBIDDEN');
    expect((err as MatrixError).httpStatus).toBe(403);
    expect((err as MatrixError).message).toContain('Blocked by leakwatch: matrix.integrations.v1.api');

    const terms = await client.getTerms(SERVICE_TYPES.IM, `https://${SCALAR}`).then(() => null, (e: unknown) => e);
    expect(terms).toBeInstanceOf(MatrixError);
    expect((terms as MatrixError).errcode).toBe('M_FORBIDDEN');

    // Element's legacy Scalar registration (ScalarAuthClient): a plain 403 the client reports.
    const scalarReg = await sdkFetch!.fetch(`https://${SCALAR}/api/register?v=1.1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(openId) });
    expect(scalarReg.status).toBe(403);
    expect(await scalarReg.text()).toBe('Blocked by leakwatch: element.integrations.scalar.register\n');

    expect(scalar.received).toHaveLength(0);
    const flows = await dash.waitFor((fs) => fs.filter((f) => f.host === SCALAR).length >= 3, 3000);
    expect(flows.filter((f) => f.host === SCALAR).map((f) => f.verdict)).toEqual(['block', 'block', 'block']);
    expect(hs.find('POST', `/_matrix/client/v3/user/${encodeURIComponent(STANDIN.userId)}/openid/request_token`).length).toBeGreaterThan(0);
  });
});
