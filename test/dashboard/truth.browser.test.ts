/**
 * The dashboard tells the truth, on a desktop and on a phone: `leakwatch start` as a real process
 * in enforce mode, real HTTP and TLS traffic through its proxy, headless Chromium against its
 * dashboard at 1440x900 and 390x844.
 * - a value search matches across more than one page (300) of stored exchanges, exactly the rows
 *   /api/flows answers, and "load older" reaches the rest;
 * - a request the rules block shows as prevented, not as data the party received;
 * - a host no rule knows that received an e-mail address gets its own row, flagged for review, and
 *   a rule on any host (`*`) shows each host it matched;
 * - a client that does not trust the CA is shown as a TLS failure (mark, filter, Health, words),
 *   and the export keeps the failure type and error;
 * - keyboard only: Live -> an exchange -> back;
 * - live items carry their session; on a phone a held request keeps Allow / Deny on screen, and a
 *   denied one shows its findings as prevented;
 * - stopped, the dashboard says "leakwatch is not running — retrying" and recovers by itself;
 * - no horizontal overflow at 390 px and no serious/critical axe-core violation on any view.
 * Screenshots of every view at both sizes go to test-artifacts/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../helpers/built.js';
import { httpViaProxy, openTunnel, tlsInTunnel } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { until } from './http.js';

const MAIN = join(repoRoot, 'dist/cli/main.js');
const PACK = fileURLToPath(new URL('./fixtures/truth-pack.yaml', import.meta.url));
const SHOTS = join(repoRoot, 'test-artifacts', 'screenshots');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const EMAIL = 'bob@example.com';
const UNRULED = 't.leakytracker.net';
const TRACKER = 'collect.trackerco.net';
const WILD = ['a.wildhost-one.org', 'b.wildhost-two.com'];
const PINNED = 'secure.pinnedapp.net';
const HELD = 'ask.holdme.org';
const SEARCHED = 320;
const SIZES = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const VIEWS = ['who', 'live', 'timeline', 'rules', 'overrides', 'setup', 'health'] as const;

let dir: string;
let origin: Origin;
let child: ChildProcess | undefined;
let proxyPort: number;
let base: string;
let token: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];
/** While leakwatch is stopped on purpose, the browser's failed requests are expected. */
let down = false;
let startOutput = '';

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function apiText(path: string): Promise<string> {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.text();
}

/** Many requests, a few at a time (the proxy is real; so is its queue). */
async function sendAll(urls: readonly string[], parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      await httpViaProxy(proxyPort, url);
    }
  }));
}

/** A client that does not trust leakwatch's CA: the handshake fails on the client's side. */
async function untrustingClient(host: string): Promise<string> {
  const t = await openTunnel(proxyPort, `${host}:443`);
  try {
    const s = await tlsInTunnel(t.socket, { servername: host });
    s.destroy();
    return 'handshake succeeded';
  } catch (err) {
    t.socket.destroy();
    return (err as Error).message;
  }
}

/** Long lists (Live, Rules) are shot as the screen shows them, the rest as the whole page. */
const shot = (view: string, size: string) =>
  page.screenshot({ path: join(SHOTS, `${view}-${size}.png`), fullPage: view !== 'live' && view !== 'rules' });

async function axeViolations(): Promise<string[]> {
  // Evaluated over the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // Rows past the 40th come from the same template as the first 40: checking each of a few
    // hundred only multiplies the time.
    const ctx = { exclude: [['table.flows tbody tr:nth-child(n+41)'], ['table.rules-table tbody tr:nth-child(n+41)']] };
    const r = await (window as unknown as { axe: { run: (ctx: object, o: object) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } })
      .axe.run(ctx, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.where.join(' | ')}`);
}

async function open(hash: string, ready: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector(ready, { timeout: 10_000 });
}

const READY: Record<(typeof VIEWS)[number], string> = {
  who: 'table.matrix td.cell',
  live: 'table.flows tbody tr',
  timeline: '.timeline .panel',
  rules: 'table.rules-table tbody tr',
  overrides: 'section h2',
  setup: '.setup .steps',
  health: '.health .cards',
};

/** `leakwatch start` in enforce mode with the test pack; the hosts of the test map to the origin. */
async function startProcess(dashboardPort: string): Promise<void> {
  const resolve = [UNRULED, TRACKER, ...WILD, PINNED, HELD].flatMap((h) => ['--resolve', `${h}=127.0.0.1:${origin.port}`]);
  child = spawn(process.execPath, [MAIN, 'start', '--port', '0', '--dashboard-port', dashboardPort, '--data-dir', join(dir, 'lw'),
    '--rules', PACK, '--mode', 'enforce', '--identity', `email=${EMAIL}`, '--session', 'truth-test', '--block', 'blocked.example.net', ...resolve],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const banner = /proxy http:\/\/127\.0\.0\.1:(\d+) · dashboard (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/;
  await until(() => banner.test(out), 20_000, 'leakwatch did not start');
  startOutput = out;
  const m = banner.exec(out)!;
  proxyPort = Number(m[1]);
  base = m[2]!;
  token = m[3]!;
}

async function stopProcess(): Promise<void> {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
}

beforeAll(async () => {
  ensureBuilt();
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'lw-dash-truth-'));
  origin = await startOrigin({ routes: { '*': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}') } });
  await startProcess('0');

  await sendAll(Array.from({ length: SEARCHED }, (_, i) => `http://${UNRULED}/pixel?i=${i}&e=${encodeURIComponent(EMAIL)}`));
  await sendAll([1, 2, 3].map((i) => `http://${TRACKER}/collect?n=${i}&email=${encodeURIComponent(EMAIL)}`));
  await sendAll(WILD.map((h) => `http://${h}/beacon?email=${encodeURIComponent(EMAIL)}`));
  expect(await untrustingClient(PINNED)).not.toBe('handshake succeeded');
  const stored = async () => (await api<{ store: { exchanges: number; tlsFailures: number } }>('/api/health')).store;
  await until(async () => { const s = await stored(); return s.exchanges >= SEARCHED + 5 && s.tlsFailures >= 1; }, 10_000, 'traffic not recorded');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !down) problems.push(`console: ${msg.text()}`);
  });
  await page.goto(`${base}/?token=${token}`);
  await page.waitForFunction(() => location.hash === '#/who');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopProcess();
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard tells the truth (real process, Chromium)', () => {
  it('a value search gives the rows /api/flows gives, over the whole store, with load older', async () => {
    const want = await api<{ flows: Array<{ id: number }>; total: number }>(`/api/flows?q=${encodeURIComponent(EMAIL)}&limit=1000&count=1`);
    expect(want.total).toBeGreaterThan(300);
    await open(`#/live?q=${encodeURIComponent(EMAIL)}`, 'table.flows tbody tr');
    await page.waitForFunction(() => /^300 of \d[\d,]* matches loaded$/.test(document.querySelector('.counts')?.textContent?.trim() ?? ''));
    expect(await page.textContent('.counts')).toContain(`300 of ${want.total} matches loaded`);
    const first = await page.$$eval('table.flows tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
    expect(first).toEqual(want.flows.slice(0, 300).map((f) => f.id));
    await page.click('button.older');
    await page.waitForFunction((n) => document.querySelectorAll('table.flows tbody tr').length === n, want.total);
    const all = await page.$$eval('table.flows tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
    expect(all).toEqual(want.flows.map((f) => f.id));
  });

  it('a blocked request is prevented, not received; an unruled host and each `*` host get their own rows', async () => {
    await open('#/who', 'table.matrix td.cell');
    const cell = (party: string, domain: string) => page.$eval(`td.cell[data-party="${party}"][data-domain="${domain}"][data-kind="email"]`,
      (td) => ({ sent: Number(td.getAttribute('data-sent')), prevented: Number(td.getAttribute('data-prevented')), text: td.textContent ?? '' }));
    const blocked = await cell('Tracker Co', 'trackerco.net');
    expect(blocked).toMatchObject({ sent: 0, prevented: 3 });
    expect(blocked.text).toContain('3 prevented');
    const unruled = await cell('', 'leakytracker.net');
    expect(unruled.sent).toBe(SEARCHED);
    const row = await page.$eval('tr.unruled[data-row$="leakytracker.net"] th', (th) => th.textContent ?? '');
    expect(row).toContain('no rule — review');
    expect(await cell('Any-host beacon', 'wildhost-one.org')).toMatchObject({ sent: 1, prevented: 0 });
    expect(await cell('Any-host beacon', 'wildhost-two.com')).toMatchObject({ sent: 1, prevented: 0 });
    // The prevented view puts the blocked data first.
    await page.click('.seg button:has-text("Prevented")');
    expect(await page.$eval('td.cell[data-party="Tracker Co"][data-kind="email"] a', (a) => a.textContent)).toBe('3');
    await page.click('.seg button:has-text("What parties learned")');
  });

  it('a client that does not trust the CA shows as a TLS failure: mark, filter, Health, words, export', async () => {
    await open('#/live?type=tls-failure', 'table.flows tbody tr.tls-fail');
    const rows = await page.$$eval('table.flows tbody tr', (trs) => trs.map((tr) => ({ cls: tr.className, text: tr.textContent ?? '' })));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((r) => r.cls.includes('tls-fail') && r.text.includes('TLS failure') && r.text.includes(PINNED))).toBe(true);
    await page.click('table.flows tbody tr.tls-fail a.row-link');
    await page.waitForSelector('.tls-explain');
    expect(await page.textContent('.tls-explain')).toContain(`--passthrough ${PINNED}`);
    expect(await page.textContent('.tls-explain')).toContain("does not trust leakwatch's CA");
    await open('#/health', '.health .cards');
    expect(await page.textContent('a.card[href="#/live?type=tls-failure"] .v')).toBe(String(rows.length));
    const jsonl = await apiText('/api/export?format=jsonl&type=tls-failure');
    const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l) as { type: string; error: string | null; errorMessage: string | null; url: string });
    expect(lines).toHaveLength(rows.length);
    expect(lines[0]).toMatchObject({ type: 'tls-failure' });
    expect(lines[0]!.error).toMatch(/^LW_/);
    expect(lines[0]!.url).toContain(PINNED);
    const csv = await apiText('/api/export?format=csv&type=tls-failure');
    expect(csv.split('\r\n')[1]).toContain(',tls-failure,');
  });

  it('overrides in force are listed in the Rules view, and the banner starts with the proxy and dashboard', async () => {
    expect(startOutput).toMatch(/^leakwatch \S+: proxy http:\/\/127\.0\.0\.1:\d+ · dashboard /);
    await open('#/rules', '.saved-overrides');
    expect(await page.textContent('.saved-overrides')).toContain('block blocked.example.net');
  });

  it('keyboard only: Live -> an exchange -> back', async () => {
    await open('#/live', 'table.flows tbody tr');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let focused = '';
    for (let i = 0; i < 40 && !focused.startsWith('row-link'); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => `${document.activeElement?.className ?? ''} ${document.activeElement?.getAttribute('href') ?? ''}`);
    }
    expect(focused).toMatch(/^row-link #\/flow\/\d+$/);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/flow/'));
    await page.waitForSelector('.detail h2');
    expect(focused).toContain(await page.evaluate(() => location.hash));
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => location.hash === '#/live');
  });

  it('live items carry their session: choosing it keeps the rows that arrive', async () => {
    await open('#/live', 'table.flows tbody tr');
    const session = await page.$eval('label.session select option:nth-child(2)', (o) => (o as HTMLOptionElement).value);
    await page.selectOption('label.session select', session);
    await httpViaProxy(proxyPort, `http://${UNRULED}/after-select?e=${encodeURIComponent(EMAIL)}`);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('table.flows td.c-path')).some((td) => td.textContent?.trim().startsWith('/after-select')));
    await page.selectOption('label.session select', '');
  });

  for (const size of SIZES) {
    it(`every view at ${size.width}x${size.height}: no horizontal overflow, axe clean, screenshot`, async () => {
      await page.setViewportSize({ width: size.width, height: size.height });
      const failures: string[] = [];
      for (const view of VIEWS) {
        await open(`#/${view}`, READY[view]);
        await page.waitForTimeout(150);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (overflow > 0) failures.push(`${view}: ${overflow}px wider than the screen`);
        for (const v of await axeViolations()) failures.push(`${view}: ${v}`);
        await shot(view, size.name);
      }
      const flowId = (await api<{ flows: Array<{ id: number }> }>(`/api/flows?host=${TRACKER}&limit=1`)).flows[0]!.id;
      await open(`#/flow/${flowId}`, '.detail h2');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) failures.push(`detail: ${overflow}px wider than the screen`);
      for (const v of await axeViolations()) failures.push(`detail: ${v}`);
      await shot('detail', size.name);
      expect(failures).toEqual([]);
    }, 90_000);
  }

  it('on a phone the top bar is compact: one row with a menu button that opens the views', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open('#/live', 'table.flows tbody tr');
    const bar = await page.$eval('header.top', (h) => h.getBoundingClientRect().height);
    expect(bar).toBeLessThan(60);
    expect(await page.isVisible('header.top nav')).toBe(false);
    await page.click('.menu-btn');
    expect(await page.isVisible('header.top nav a[href="#/health"]')).toBe(true);
    await page.click('header.top nav a[href="#/health"]');
    await page.waitForSelector('.health .cards');
    expect(await page.isVisible('header.top nav')).toBe(false);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('on a phone a held request keeps Allow / Deny on screen; denied, its findings show as prevented', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open('#/live', 'table.flows tbody tr');
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const answer = httpViaProxy(proxyPort, `http://${HELD}/collect?email=${encodeURIComponent(EMAIL)}`);
    await page.waitForSelector('.holds li.held');
    expect(await page.textContent('.holds')).toContain(EMAIL);
    for (const sel of ['.holds button[data-decision="allow"][data-scope="once"]', '.holds button[data-decision="deny"][data-scope="once"]']) {
      const box = (await page.locator(sel).boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height).toBeLessThanOrEqual(844);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'holds-phone.png') });
    await page.click('.holds button[data-decision="deny"][data-scope="once"]');
    expect((await answer).status).toBe(403); // answered by leakwatch: it never reached the party
    const flow = await until(async () => (await api<{ flows: Array<{ id: number }> }>(`/api/flows?host=${HELD}`)).flows[0], 5000, 'held exchange not recorded');
    await open(`#/flow/${flow.id}`, '.detail h2');
    await page.waitForSelector('.panel.prevented');
    expect(await page.textContent('.panel.prevented h3')).toContain('prevented');
    expect(await page.textContent('.panel.prevented')).toContain(EMAIL);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('says leakwatch is not running while it is down, and recovers by itself', async () => {
    await open('#/health', '.health .cards');
    const port = new URL(base).port;
    down = true;
    await stopProcess();
    await page.waitForFunction(() => /leakwatch is not running — retrying/.test(document.querySelector('header .status')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /leakwatch is not running — retrying/.test(document.querySelector('.health')?.textContent ?? ''), undefined, { timeout: 5000 });
    await startProcess(port);
    await page.waitForFunction(() => /^live/.test(document.querySelector('header .status')?.textContent?.trim() ?? ''), undefined, { timeout: 15_000 });
    await page.waitForFunction(() => !/not running/.test(document.querySelector('.health')?.textContent ?? ''), undefined, { timeout: 5000 });
    down = false;
  }, 40_000);

  it('no page errors', () => {
    expect(problems).toEqual([]);
  });
});
