/**
 * Hold-and-ask and overrides in real headless Chromium over `startLeakwatch`: a client's request
 * waits (nothing reaches the origin), the dashboard shows it at once on any view, a click allows it
 * and the client receives the origin's answer; a second held request times out into deny. Then the
 * overrides UI: a rule's action from the Rules view, a host blocked from the exchange detail and from
 * the Overrides view, and removal. Screenshots: test-artifacts/dashboard/hold-panel*.png, overrides.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpViaProxy } from '../helpers/connect-client.js';
import type { Origin } from '../helpers/origin.js';
import { startEchoOrigin, startLw, type Echo, type Lw, type Seen } from './harness.js';

const ART = join(process.cwd(), 'test-artifacts', 'dashboard');
const HOSTS = ['hold.test', 'tracker.test', 'free.test', 'free2.test'];
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
  lw = await startLw({ mode: 'enforce', holdTimeout: '4', identity: ['mxid=@alice:example.org'] }, HOSTS, origin.port);
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
