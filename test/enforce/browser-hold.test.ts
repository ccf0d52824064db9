/**
 * Hold-and-ask and overrides in real headless Chromium over `startLeakwatch`: a client's request
 * waits (nothing reaches the origin), the dashboard shows it at once on any view, a click allows it
 * and the client receives the origin's answer; a second held request times out into deny. Then the
 * overrides UI: a rule's action from the Rules view, a host blocked from the exchange detail and from
 * the Overrides view, and removal. Screenshots: test-artifacts/dashboard/hold-panel*.png, overrides.png.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { httpViaProxy } from '../helpers/connect-client.js';
import type { Origin } from '../helpers/origin.js';
import { absoluteFormConnection } from '../helpers/ws-client.js';
import { startEchoOrigin, startLw, type Echo, type Lw, type Seen } from './harness.js';

const ART = join(process.cwd(), 'test-artifacts', 'dashboard');
const HOSTS = ['hold.test', 'tracker.test', 'free.test', 'free2.test', 'is.test', 'ws.test'];
// An identity-server hashed lookup (sha256 of "address medium pepper"): one hash is the declared
// --identity's, one a stranger's.
const PEPPER = 'matrixrocks';
const isHash = (address: string): string => createHash('sha256').update(`${address} email ${PEPPER}`).digest('base64url');
const BOB = 'bob@example.com';
const STRANGER_HASH = isHash('dave@example.net');
let origin: Origin & { received: Seen[] };
let lw: Lw;
let port: number;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const problems: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
const arrived = (host: string, path: string): Seen[] => origin.received.filter((r) => r.headers.host === host && r.url.startsWith(path));
type OverrideRow = { id: string; kind: string; ruleId: string | null; action: string | null; host: string | null };
const overrides = async (): Promise<OverrideRow[]> => ((await lw.api('GET', '/api/overrides')).json as { overrides: OverrideRow[] }).overrides;

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  origin = await startEchoOrigin();
  lw = await startLw({ mode: 'enforce', holdTimeout: '4', identity: ['mxid=@alice:example.org', `email=${BOB}`] }, HOSTS, origin.port);
  port = Number(new URL(lw.running.proxyUrl).port);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await ctx.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${lw.running.dashboardUrl}/?token=${lw.running.token}`);
  await page.waitForFunction(() => location.hash !== '');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await lw?.close();
  await origin?.close();
});

describe('hold-and-ask in Chromium', () => {
  it('a held request waits, shows up at once, and a click lets it through to the origin', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/live`);
    await page.waitForSelector('.status.s-live');
    const xss = encodeURIComponent('<img src=x onerror=alert(1)>');
    const pending = httpViaProxy(port, `http://hold.test/register?user=@alice:example.org&note=${xss}`);
    const t0 = Date.now();
    await page.waitForSelector('.holds li.held', { timeout: 2000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    const text = await page.textContent('.holds li.held');
    expect(text).toContain('hold.test/register');
    expect(text).toContain('test.hold.ask');
    expect(text).toContain('127.0.0.1');
    expect(text).toContain('Hold-and-ask stand-in');
    expect(text).toContain('@alice:example.org');
    expect(await page.$$eval('.holds img', (els) => els.length)).toBe(0); // captured text stays text
    expect(arrived('hold.test', '/register')).toHaveLength(0); // nothing upstream while pending
    await shot('hold-panel');
    await page.click('.holds li.held button[data-decision="allow"][data-scope="once"]');
    const r = await pending;
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body.toString()) as Echo).url).toContain('/register?user=@alice:example.org');
    expect(arrived('hold.test', '/register')).toHaveLength(1);
    await page.waitForSelector('.holds', { state: 'detached' });
    expect(await lw.flow('hold.test', '/register')).toMatchObject({ verdict: 'hold', rule: 'test.hold.ask' });
  });

  it('a second held request with no answer times out into deny', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/rules`); // the panel is on every view
    const t0 = Date.now();
    const pending = httpViaProxy(port, 'http://hold.test/second');
    await page.waitForSelector('.holds li.held');
    await shot('hold-panel-rules-view');
    const r = await pending;
    expect(r.status).toBe(403);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3500);
    expect(arrived('hold.test', '/second')).toHaveLength(0);
    await page.waitForSelector('.holds', { state: 'detached' });
    const d = await lw.dash.flow((await lw.flow('hold.test', '/second')).id);
    expect(JSON.stringify(d.notes)).toContain('no answer within 4 s');
  });

  it('the panel shows the body\'s findings (contact hashes resolved, tokens), and a denied request keeps them', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/live`);
    const body = JSON.stringify({ addresses: [isHash(BOB), STRANGER_HASH], pepper: PEPPER, algorithm: 'sha256' });
    const pending = httpViaProxy(
      port,
      'http://is.test/_matrix/identity/v2/lookup',
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer syt_holdtoken_123' } },
      body,
    );
    await page.waitForSelector('.holds li.held');
    const text = (await page.textContent('.holds li.held')) ?? '';
    expect(text).toContain('test.lookup.hold');
    expect(text).toContain(BOB); // the hash resolved to the declared identity
    expect(text).toContain(STRANGER_HASH); // an unknown contact stays a hash
    expect(text).toContain('syt_holdtoken_123');
    expect(arrived('is.test', '/_matrix')).toHaveLength(0);
    await shot('hold-panel-body');
    await page.click('.holds li.held button[data-decision="deny"][data-scope="once"]');
    expect((await pending).status).toBe(403);
    expect(arrived('is.test', '/_matrix')).toHaveLength(0);
    const f = await lw.flow('is.test', '/_matrix/identity/v2/lookup');
    expect(f.verdict).toBe('hold');
    expect(f.kinds).toEqual(expect.arrayContaining(['email', 'contact_hash', 'token']));
    const d = await lw.dash.flow(f.id);
    const leaks = d.flow.leaks.map((l) => `${l.kind}=${l.value}`);
    expect(leaks).toContain(`email=${BOB}`);
    expect(leaks).toContain(`contact_hash=${STRANGER_HASH}`);
    expect(leaks).toContain('token=syt_holdtoken_123');
    expect(d.request.body?.text).toBe(body);
    expect(JSON.stringify(d.notes)).toContain('denied by you');
    // The detail says the party did not get them, and marks the hash the body carries for bob.
    await page.goto(`${lw.running.dashboardUrl}/#/flow/${f.id}`);
    await page.waitForSelector('.panel.prevented');
    expect(await page.textContent('.panel.prevented')).toContain(BOB);
    const marked = await page.$$eval('.split pre.body mark.leak', (ms) => ms.map((m) => m.textContent));
    expect(marked).toEqual(expect.arrayContaining([isHash(BOB), STRANGER_HASH]));
    await shot('detail-held-body');
  });

  it('a held request with a body is forwarded intact once allowed', async () => {
    const body = JSON.stringify({ addresses: [STRANGER_HASH], pepper: PEPPER, algorithm: 'sha256' });
    const pending = httpViaProxy(port, 'http://is.test/_matrix/identity/v2/lookup?second=1', { method: 'POST', headers: { 'content-type': 'application/json' } }, body);
    await page.waitForSelector('.holds li.held');
    await page.click('.holds li.held button[data-decision="allow"][data-scope="once"]');
    expect((await pending).status).toBe(200);
    const seen = arrived('is.test', '/_matrix/identity/v2/lookup?second=1');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.bodyBytes.toString()).toBe(body);
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('"always" is saved and applies to the next request without asking', async () => {
    const first = httpViaProxy(port, 'http://hold.test/third');
    await page.waitForSelector('.holds li.held');
    await page.click('.holds li.held button[data-decision="allow"][data-scope="always"]');
    expect((await first).status).toBe(200);
    expect((await overrides()).some((o) => o.kind === 'hold-decision' && o.ruleId === 'test.hold.ask')).toBe(true);
    const t0 = Date.now();
    expect((await httpViaProxy(port, 'http://hold.test/fourth')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('WebSocket messages in Chromium', () => {
  it('Live and the detail show each message\'s direction and type; the handshake\'s findings stay on the handshake', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/live`);
    await page.waitForSelector('.status.s-live');
    const ws = new WebSocket('ws://ws.test/socket?user=@alice:example.org', { createConnection: absoluteFormConnection(port, 'http://ws.test') } as never);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send(JSON.stringify({ type: 'hello', to: BOB }));
    expect(await reply).toContain('echo:');
    ws.close();
    // Live (streamed rows): one row per message, each saying which way it went and what it was.
    await page.waitForFunction(() => document.querySelectorAll('.chip.ws').length >= 2);
    const chips = await page.$$eval('.chip.ws', (cs) => cs.map((c) => c.textContent));
    expect(chips).toEqual(expect.arrayContaining(['WS ↑ sent · text', 'WS ↓ received · text']));
    await shot('live-websocket');
    const flows = (await lw.dash.waitFor((fs) => fs.filter((f) => f.host === 'ws.test').length >= 3, 3000)).filter((f) => f.host === 'ws.test');
    const messages = flows.filter((f) => (f as unknown as { type: string }).type === 'websocket');
    const handshake = flows.find((f) => (f as unknown as { type: string }).type !== 'websocket')!;
    expect(messages).toHaveLength(2);
    expect(handshake.kinds).toContain('mxid');
    for (const m of messages) expect(m.kinds).not.toContain('mxid');
    const sent = messages.find((m) => (m as unknown as { direction: string }).direction === 'send')!;
    expect(sent.kinds).toContain('email');
    // The same from the store (a reload lists stored rows), and in the detail's message table.
    await page.goto(`${lw.running.dashboardUrl}/#/live?host=ws.test`);
    await page.waitForFunction(() => document.querySelectorAll('.chip.ws').length >= 2);
    expect(await page.$$eval('.chip.ws', (cs) => cs.map((c) => c.textContent))).toEqual(expect.arrayContaining(['WS ↑ sent · text', 'WS ↓ received · text']));
    await page.goto(`${lw.running.dashboardUrl}/#/flow/${sent.id}`);
    await page.waitForSelector('table.ws-messages');
    const cells = await page.$$eval('table.ws-messages tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    expect(cells).toEqual(['↑ sent · text', '↓ received · text']);
    expect(await page.textContent('.facts')).toContain('WS ↑ sent · text');
    await shot('detail-websocket');
  });
});

describe('overrides UI in Chromium', () => {
  it('changes a rule\'s action from the Rules view', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/rules`);
    const sel = 'tr[data-rule="test.tracker.collect"] select.action-select';
    await page.waitForSelector(sel);
    expect((await httpViaProxy(port, 'http://tracker.test/collect?uid=1')).status).toBe(204);
    await page.selectOption(sel, 'log');
    await page.waitForSelector('tr[data-rule="test.tracker.collect"] .action-cell small');
    expect((await overrides()).find((o) => o.kind === 'rule-action')).toMatchObject({ ruleId: 'test.tracker.collect', action: 'log' });
    expect((await httpViaProxy(port, 'http://tracker.test/collect?uid=2')).status).toBe(200);
  });

  it('blocks a host from the exchange detail', async () => {
    expect((await httpViaProxy(port, 'http://free2.test/page')).status).toBe(200);
    const f = await lw.flow('free2.test', '/page');
    await page.goto(`${lw.running.dashboardUrl}/#/flow/${f.id}`);
    await page.click('button.block-host-btn');
    await page.waitForSelector('.block-host >> text=Blocked');
    expect((await httpViaProxy(port, 'http://free2.test/page')).status).toBe(403);
  });

  it('lists overrides, adds a block from the form, removes with a click', async () => {
    await page.goto(`${lw.running.dashboardUrl}/#/overrides`);
    await page.waitForSelector('table.overrides-table');
    await page.fill('input[name="host"]', 'free.test/private');
    await page.click('form.inline:has(input[name="host"]) button');
    await page.waitForSelector('tr[data-override] >> text=block free.test/private');
    expect((await httpViaProxy(port, 'http://free.test/private/x')).status).toBe(403);
    expect((await httpViaProxy(port, 'http://free.test/public')).status).toBe(200);
    await shot('overrides');
    const rows = await page.$$eval('tr[data-override]', (trs) => trs.map((t) => t.textContent ?? ''));
    expect(rows.some((t) => t.includes('test.tracker.collect: log'))).toBe(true);
    expect(rows.some((t) => t.includes('block free2.test'))).toBe(true);
    expect(rows.some((t) => t.includes('allow test.hold.ask to hold.test'))).toBe(true);
    const before = (await overrides()).length;
    await page.click('tr[data-override]:has-text("block free.test/private") button.remove');
    await page.waitForFunction(() => !Array.from(document.querySelectorAll('tr[data-override]'), (t) => t.textContent ?? '').some((t) => t.includes('block free.test/private')));
    expect((await overrides()).length).toBe(before - 1);
    expect((await httpViaProxy(port, 'http://free.test/private/x')).status).toBe(200);
    expect(dialogs).toEqual([]);
    expect(problems.filter((p) => !/404|409/.test(p))).toEqual([]);
  });
});
