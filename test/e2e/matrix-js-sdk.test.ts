/**
 * A real client end to end: matrix-js-sdk 37 drives traffic through the live proxy
 * (`startLeakwatch`: proxy + audit pipeline + SQLite + dashboard, in-process) to local HTTPS
 * stand-ins for the homeserver, vector.im, scalar.vector.im and a push gateway. The SDK's fetch goes
 * through leakwatch over CONNECT + TLS and trusts only leakwatch's CA; leakwatch reaches the
 * stand-ins with --resolve and trusts their throw-away CA with --upstream-ca. The findings are read
 * back through the dashboard API, and the stand-ins' logs prove every request arrived intact.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SERVICE_TYPES, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient, proxiedFetch, type DashboardClient, type FlowItem, type Leak, type ProxiedFetch } from '../helpers/matrix-e2e.js';
import {
  homeserverHandler,
  identityServerHandler,
    pushGatewayHandler,
  scalarHandler,
  STANDIN,
  standInPki,
  startStandIn,
  type StandIn,
} from '../helpers/matrix-standins.js';

const HS = 'matrix.example.org';
const IS = 'vector.im';
const SCALAR = 'scalar.vector.im';
const PUSH = 'push.example.net';

const BOB = 'bob@example.com';
const PHONE = '+447700900123';
const CAROL = 'carol@example.org';
const ALICE_EMAIL = 'alice@example.org';

// Identity service v2 hash: unpadded base64url(sha256("<address> <medium> <pepper>")); msisdn digits.
const isHash = (address: string, medium: string): string =>
  createHash('sha256').update(`${address} ${medium} ${STANDIN.pepper}`).digest('base64url');
const BOB_HASH = isHash(BOB, 'email');
const PHONE_HASH = isHash(PHONE.slice(1), 'msisdn');
const CAROL_HASH = isHash(CAROL, 'email');

const PUSHER = {
  pushkey: 'pj9YmuD6boZfMYuJj018cg:APA91bdFJlX9yRpPdthe5XXB05Wf9jHjYLnB2M47ybCFSjmCRmNDbKHEpKkWibdr',
  kind: 'http',
  app_id: 'im.vector.app.android',
  app_display_name: 'Element',
  device_display_name: "Alice's Pixel 7",
  profile_tag: 'mobile_1234567890',
  lang: 'en-GB',
  data: { url: `https://${PUSH}/_matrix/push/v1/notify`, format: 'event_id_only' },
  append: false,
} as const;

const ROOM_ID = '!kKQxgXZuGNaBIzUOeO:example.org';
const EVENT_ID = '$3957tyerfgewrf384:example.org';

let dir: string;
let standIns: StandIn[] = [];
let hs: StandIn, is: StandIn, scalar: StandIn, push: StandIn;
let running: Running | undefined;
let client: MatrixClient | undefined;
let sdkFetch: ProxiedFetch | undefined;
let synapseFetch: ProxiedFetch | undefined;
let dash: DashboardClient;

beforeAll(async () => {
  // The SDK logs every request at debug level (loglevel underneath; setLevel is not in its types).
  (sdkLogger as unknown as { setLevel(level: string): void }).setLevel('warn');
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-sdk-'));
  const pki = await standInPki();
  const started = await Promise.all([
    startStandIn(HS, pki, homeserverHandler()),
    startStandIn(IS, pki, identityServerHandler({ [BOB_HASH]: '@bob:example.com' })),
    startStandIn(SCALAR, pki, scalarHandler()),
    startStandIn(PUSH, pki, pushGatewayHandler()),
  ]);
  standIns = started;
  [hs, is, scalar, push] = started;
  const config = validateStartFlags({
    port: '0',
    dashboardPort: '0',
    dataDir: join(dir, 'leakwatch'),
    resolve: standIns.map((s) => s.resolveSpec),
    upstreamCa: [pki.caFile],
    firstParty: [HS],
    identity: [`email=${BOB}`, `phone=${PHONE}`],
  });
  running = await startLeakwatch(config, silentLogger);
  const leakwatchCa = readFileSync(running.caPath, 'utf8');
  sdkFetch = proxiedFetch(running.proxyUrl, leakwatchCa);
  // The homeserver's own outgoing HTTP (Synapse with https_proxy = leakwatch), for the push notify.
  synapseFetch = proxiedFetch(running.proxyUrl, leakwatchCa);
  dash = dashboardClient(running.dashboardUrl, running.token);
  client = createClient({
    baseUrl: `https://${HS}`,
    idBaseUrl: `https://${IS}`,
    accessToken: STANDIN.hsAccessToken,
    userId: STANDIN.userId,
    fetchFn: sdkFetch.fetch,
  });
});

afterAll(async () => {
  client?.stopClient();
  await sdkFetch?.close();
  await synapseFetch?.close();
  await running?.close();
  await Promise.all(standIns.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What one exchange must look like in the dashboard. */
interface Expect {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly rule: string | null;
  readonly category: string | null;
  /** Each must be among the flow's findings (kind + value; method by prefix when given). */
  readonly leaks: ReadonlyArray<Partial<Leak> & { kind: string; value: string }>;
  /** (kind, value) pairs that must NOT be there. */
  readonly absent?: ReadonlyArray<{ kind: string; value: string }>;
}

const pathOf = (f: FlowItem): string => new URL(f.url).pathname;
const matches = (f: FlowItem, e: Expect): boolean => f.method === e.method && f.host === e.host && pathOf(f) === e.path;

describe('matrix-js-sdk through the live proxy', () => {
  it('records every third-party exchange with the right rule, kinds and values; stand-ins get it intact', async () => {
    const c = client!;
    const t0 = Date.now();

    // 0. First party, not a leak: the client's capability probe.
    const versions = await c.getVersions();
    expect(versions.versions).toContain('v1.11');

    // 1. Identity server registration (IS-05): OpenID token from the homeserver (OID-00), handed to IS.
    const openId = await c.getOpenIdToken();
    expect(openId.access_token).toBe(STANDIN.openIdToken);
    const isReg = await c.registerWithIdentityServer(openId);
    expect(isReg.access_token).toBe(STANDIN.isToken);
    const isToken = isReg.access_token;

    // Terms (IS-07) as Element's IdentityAuthClient does, and the account check (IS-06).
    const terms = await c.getTerms(SERVICE_TYPES.IS, `https://${IS}`);
    expect(JSON.stringify(terms)).toContain(STANDIN.isTermsUrl);
    await c.agreeToTerms(SERVICE_TYPES.IS, `https://${IS}`, isToken, [STANDIN.isTermsUrl]);
    const account = await c.getIdentityAccount(isToken);
    expect(account.user_id).toBe(STANDIN.userId);

    // 2. v2 hashed lookup of three contacts (IS-03 hash_details, then IS-04 lookup).
    const found = await c.identityHashedLookup(
      [
        [BOB, 'email'],
        [PHONE.slice(1), 'msisdn'],
        [CAROL, 'email'],
      ],
      isToken,
    );
    expect(found).toEqual([{ address: BOB, mxid: '@bob:example.com' }]);

    // 3. Email validation directly at the identity server (IS-08).
    const clientSecret = 'e2eClientSecret5sgNa70p3m';
    const nextLink = 'https://chat.example.org/#/settings/discovery';
    const sid = await c.requestEmailToken(ALICE_EMAIL, clientSecret, 1, nextLink, isToken);
    expect(sid.sid).toBe(STANDIN.sid);

    // 4. Integration manager (IM-01, IM-02): the SDK has no Scalar client, so this mirrors Element's
    //    ScalarAuthClient: a fresh OpenID token, POSTed as-is to /api/register?v=1.1, then the
    //    token check on /api/account, both through the same proxied fetch the SDK uses.
    const openId2 = await c.getOpenIdToken();
    const reg = await sdkFetch!.fetch(`https://${SCALAR}/api/register?v=1.1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(openId2),
    });
    expect(reg.status).toBe(200);
    const scalarToken = ((await reg.json()) as { scalar_token: string }).scalar_token;
    expect(scalarToken).toBe(STANDIN.scalarToken);
    const acct = await sdkFetch!.fetch(`https://${SCALAR}/api/account?scalar_token=${encodeURIComponent(scalarToken)}&v=1.1`);
    expect(((await acct.json()) as { user_id: string }).user_id).toBe(STANDIN.userId);

    // 5. Pusher registration at the homeserver (PUSH-01).
    await c.setPusher({ ...PUSHER, data: { ...PUSHER.data } });

    // 6. The homeserver then notifies the pusher's gateway for an event (PUSH-02). Synapse does this
    //    itself; here the test plays Synapse, through the same proxy (Synapse with https_proxy).
    const notify = await synapseFetch!.fetch(PUSHER.data.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Synapse/1.157.1' },
      body: JSON.stringify({
        notification: {
          event_id: EVENT_ID,
          room_id: ROOM_ID,
          counts: { unread: 2 },
          prio: 'high',
          devices: [{ app_id: PUSHER.app_id, pushkey: PUSHER.pushkey, pushkey_ts: 1719835200, data: { format: 'event_id_only' } }],
        },
      }),
    });
    expect(((await notify.json()) as { rejected: unknown[] }).rejected).toEqual([]);

    // ---- What leakwatch recorded -----------------------------------------------------------------
    const v2 = '/_matrix/identity/v2';
    const expected: Expect[] = [
      { method: 'GET', host: HS, path: '/_matrix/client/versions', rule: null, category: null, leaks: [] },
      {
        method: 'POST',
        host: HS,
        path: `/_matrix/client/v3/user/${encodeURIComponent(STANDIN.userId)}/openid/request_token`,
        rule: 'homeserver.openid.request-token',
        category: 'first-party-exposure',
        leaks: [
          { kind: 'mxid', value: STANDIN.userId },
          { kind: 'token', value: STANDIN.openIdToken },
        ],
      },
      {
        method: 'POST',
        host: IS,
        path: `${v2}/account/register`,
        rule: 'matrix.identity.v2.account.register',
        category: 'identity-server',
        leaks: [
          { kind: 'token', value: STANDIN.openIdToken, method: 'structural' },
          { kind: 'server_name', value: STANDIN.serverName, method: 'structural' },
          { kind: 'token', value: STANDIN.isToken },
        ],
      },
      {
        method: 'POST',
        host: IS,
        path: `${v2}/terms`,
        rule: 'matrix.identity.v2.terms',
        category: 'identity-server',
        leaks: [
          { kind: 'url', value: STANDIN.isTermsUrl },
          { kind: 'token', value: STANDIN.isToken },
        ],
      },
      {
        method: 'GET',
        host: IS,
        path: `${v2}/account`,
        rule: 'matrix.identity.v2.account',
        category: 'identity-server',
        leaks: [
          { kind: 'token', value: STANDIN.isToken },
          { kind: 'mxid', value: STANDIN.userId },
        ],
      },
      {
        method: 'GET',
        host: IS,
        path: `${v2}/hash_details`,
        rule: 'matrix.identity.v2.hash-details',
        category: 'identity-server',
        leaks: [{ kind: 'token', value: STANDIN.isToken }],
      },
      {
        method: 'POST',
        host: IS,
        path: `${v2}/lookup`,
        rule: 'matrix.identity.v2.lookup',
        category: 'identity-server',
        leaks: [
          { kind: 'email', value: BOB, method: 'known-value:' },
          { kind: 'phone', value: PHONE, method: 'known-value:' },
          { kind: 'contact_hash', value: CAROL_HASH },
          { kind: 'token', value: STANDIN.isToken },
        ],
        // The two declared contacts are named, not left as anonymous hashes.
        absent: [
          { kind: 'contact_hash', value: BOB_HASH },
          { kind: 'contact_hash', value: PHONE_HASH },
        ],
      },
      {
        method: 'POST',
        host: IS,
        path: `${v2}/validate/email/requestToken`,
        rule: 'matrix.identity.validation.request-token',
        category: 'identity-server',
        leaks: [
          { kind: 'email', value: ALICE_EMAIL },
          { kind: 'token', value: clientSecret },
          { kind: 'url', value: nextLink },
          { kind: 'token', value: STANDIN.isToken },
        ],
      },
      {
        method: 'POST',
        host: SCALAR,
        path: '/api/register',
        rule: 'element.integrations.scalar.register',
        category: 'integration-manager',
        leaks: [
          { kind: 'token', value: openId2.access_token, method: 'structural' },
          { kind: 'server_name', value: STANDIN.serverName },
          { kind: 'token', value: STANDIN.scalarToken },
        ],
      },
      {
        method: 'GET',
        host: SCALAR,
        path: '/api/account',
        rule: 'element.integrations.scalar.account',
        category: 'integration-manager',
        leaks: [
          { kind: 'token', value: STANDIN.scalarToken },
          { kind: 'mxid', value: STANDIN.userId },
        ],
      },
      {
        method: 'POST',
        host: HS,
        path: '/_matrix/client/v3/pushers/set',
        rule: 'homeserver.pushers.set',
        category: 'first-party-exposure',
        leaks: [
          { kind: 'push_key', value: PUSHER.pushkey },
          { kind: 'device_name', value: PUSHER.device_display_name },
          { kind: 'url', value: PUSHER.data.url },
          { kind: 'accept_language', value: PUSHER.lang },
        ],
      },
      {
        method: 'POST',
        host: PUSH,
        path: '/_matrix/push/v1/notify',
        rule: 'synapse.push.notify',
        category: 'push-gateway',
        leaks: [
          { kind: 'push_key', value: PUSHER.pushkey },
          { kind: 'room_id', value: ROOM_ID },
          { kind: 'event_id', value: EVENT_ID },
        ],
      },
    ];

    const flows = await dash.waitFor((list) => expected.every((e) => list.some((f) => matches(f, e))), 5000);
    const missing = expected.filter((e) => !flows.some((f) => matches(f, e))).map((e) => `${e.method} ${e.host}${e.path}`);
    expect(missing, `flows not recorded within 5 s; have: ${flows.map((f) => `${f.method} ${f.url}`).join(', ')}`).toEqual([]);

    for (const e of expected) {
      const row = flows.find((f) => matches(f, e))!;
      const label = `${e.method} ${e.host}${e.path}`;
      expect(row.status, label).toBe(200);
      expect(row.error ?? null, label).toBeNull();
      expect(row.rule, label).toBe(e.rule);
      expect(row.category, label).toBe(e.category);
      const detail = await dash.flow(row.id);
      const leaks = detail.flow.leaks;
      const shown = JSON.stringify(leaks.map((l) => [l.kind, l.value, l.method]));
      for (const want of e.leaks) {
        const hit = leaks.find(
          (l) => l.kind === want.kind && l.value === want.value && (want.method === undefined || l.method.startsWith(want.method)),
        );
        expect(hit, `${label}: expected ${want.kind} ${want.value} ${want.method ?? ''}; got ${shown}`).toBeDefined();
      }
      for (const no of e.absent ?? []) {
        expect(leaks.some((l) => l.kind === no.kind && l.value === no.value), `${label}: unexpected ${no.kind} ${no.value}`).toBe(false);
      }
      if (e.rule === null) {
        // A first-party exchange no rule matches is not a leak. (Not asserted: `firstParty`, which
        // /api/flows derives from the category instead of the recorded first_party column.)
        expect(leaks, `${label}: a first-party exchange no rule matches is not a leak`).toEqual([]);
        expect(row.kinds, label).toEqual([]);
        expect(row.severity, label).toBe('none');
      }
    }

    // The identity server learnt the token hash_details/lookup sent in the Authorization header.
    const lookupRow = flows.find((f) => matches(f, expected.find((e) => e.path === `${v2}/lookup`)!))!;
    const lookupLeaks = (await dash.flow(lookupRow.id)).flow.leaks;
    expect(lookupLeaks.filter((l) => l.kind === 'contact_hash').map((l) => l.value)).toEqual([CAROL_HASH]);

    // ---- What the stand-ins received: every request the clients sent, intact --------------------
    const all = [...sdkFetch!.sent, ...synapseFetch!.sent];
    const byHost = new Map(standIns.map((s) => [s.name, s]));
    const consumed = new Set<unknown>();
    for (const s of all) {
      const u = new URL(s.url);
      const standIn = byHost.get(u.hostname)!;
      const got = standIn.received.find((r) => !consumed.has(r) && r.method === s.method && r.url === u.pathname + u.search);
      expect(got, `${s.method} ${s.url} never reached ${u.hostname}`).toBeDefined();
      consumed.add(got);
      expect(got!.text, `${s.method} ${s.url}: body`).toBe(s.body);
      expect(got!.headers['host'], `${s.method} ${s.url}: Host`).toBe(u.host);
      for (const h of ['authorization', 'content-type', 'user-agent']) {
        if (s.headers[h] !== undefined) expect(got!.headers[h], `${s.method} ${s.url}: ${h}`).toBe(s.headers[h]);
      }
    }
    expect(consumed.size).toBe(hs.received.length + is.received.length + scalar.received.length + push.received.length);
    // Spot checks on what the third parties now hold.
    expect(is.find('POST', `${v2}/lookup`)[0]!.json).toEqual({
      addresses: [BOB_HASH, PHONE_HASH, CAROL_HASH],
      pepper: STANDIN.pepper,
      algorithm: 'sha256',
    });
    expect(is.find('POST', `${v2}/validate/email/requestToken`)[0]!.json).toEqual({
      client_secret: clientSecret,
      email: ALICE_EMAIL,
      send_attempt: '1',
      next_link: nextLink,
    });
    expect(scalar.find('POST', '/api/register')[0]!.json).toEqual(openId2);
    expect(hs.find('POST', '/_matrix/client/v3/pushers/set')[0]!.json).toEqual(PUSHER);
    expect(push.received).toHaveLength(1);

    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
