/**
 * The dashboard in real headless Chromium over the real store and audit pipeline: token link,
 * Live within one second, detail, the matrix count, an XSS corpus that must stay text, a page on
 * another origin that must not read the API or the stream, and a screenshot of every view
 * (test-artifacts/dashboard/<view>.png).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, startHarness, type Harness } from './harness.js';

const ART = join(process.cwd(), 'test-artifacts', 'dashboard');
let h: Harness;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const problems: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  h = await startHarness();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await ctx.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('dashboard in Chromium', () => {
  it('signs in with the start-up link, which leaves the address bar', async () => {
    await page.goto(`${h.base}/?token=${h.token}`);
    await page.waitForFunction(() => location.hash === '#/setup'); // no data yet: Setup is the landing page
    expect(page.url()).not.toContain(h.token);
    // Loopback only: a phone cannot open this address, so no QR code, and the page says why.
    await page.waitForSelector('.setup .qr .warn');
    expect(await page.textContent('.setup .qr')).toContain('No QR code');
    expect(await page.$('.setup img[alt^="QR"]')).toBeNull();
    await shot('setup');
  });

  it('shows a leaking exchange in Live within one second, and its detail', async () => {
    await page.goto(`${h.base}/#/live`);
    await page.waitForSelector('.status.s-live');
    const ex = exchange();
    const t0 = Date.now();
    await h.send(ex);
    await page.waitForSelector(`tr[data-id="${ex.id}"]`, { timeout: 1000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    const row = await page.textContent(`tr[data-id="${ex.id}"]`);
    expect(row).toContain('vector.im');
    expect(row).toContain('email');
    for (let i = 0; i < 4; i++) {
      await h.send(exchange({ host: 'matrix.example.org', path: `/_matrix/client/v3/sync?since=s${i}`, method: 'GET', reqBody: '' }));
    }
    await h.send(exchange({ host: 'scalar.vector.im', path: '/api/register?v=1.1', reqBody: '{"access_token":"tok-abcdef"}' }));
    await page.waitForFunction(() => document.querySelectorAll('table.flows tbody tr').length >= 6);
    await shot('live');
    await h.recorder.flush();
    await page.click(`tr[data-id="${ex.id}"]`);
    await page.waitForSelector('.detail .rule');
    const detail = await page.textContent('.detail');
    expect(detail).toContain('matrix.identity.validation.request-token');
    expect(detail).toContain('Why it matters');
    expect(await page.textContent('.detail pre.body mark.leak')).toBe('alice@example.org');
    await shot('detail');
  });

  it('pauses, resumes, and a search shows what the store matches', async () => {
    await page.goto(`${h.base}/#/live`);
    await page.waitForSelector('.status.s-live');
    await page.click('.live .toolbar button');
    const ex = exchange({ host: 'matrix.example.org', path: '/_matrix/client/v3/paused', method: 'GET', reqBody: '' });
    await h.send(ex);
    await page.waitForFunction(() => /Resume \(1 new\)/.test(document.querySelector('.live .toolbar button')?.textContent ?? ''));
    expect(await page.$(`tr[data-id="${ex.id}"]`)).toBeNull();
    await page.click('.live .toolbar button');
    await page.waitForSelector(`tr[data-id="${ex.id}"]`);
    await h.recorder.flush();
    await page.fill('.filters input[type=search] >> nth=0', 'vector.im');
    await page.waitForFunction(() => /^[1-9][\d,]* of [\d,]+ matches loaded$/.test(document.querySelector('.counts')?.textContent?.trim() ?? ''));
    expect(await page.$(`tr[data-id="${ex.id}"]`)).toBeNull();
    const hosts = await page.$$eval('table.flows td.c-host', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((x) => x.includes('vector.im'))).toBe(true);
  });

  it('shows a host name with a bidi override escaped and flagged, never reversed', async () => {
    await page.goto(`${h.base}/#/live`);
    await page.waitForSelector('.status.s-live');
    const ex = exchange({ host: 'evil\u202Egro.example', path: '/x', method: 'GET', reqBody: '' });
    await h.send(ex);
    await page.waitForSelector(`tr[data-id="${ex.id}"] td.host .host-odd`);
    const shown = await page.textContent(`tr[data-id="${ex.id}"] td.host`);
    expect(shown).toContain('evil\\u{202E}gro.example');
    expect(shown).not.toContain('\u202E');
  });

  it('counts the new exchanges in Who knows what', async () => {
    await h.recorder.flush();
    await page.goto(`${h.base}/#/who`);
    const cell = '.matrix td.cell[data-kind="email"] a';
    await page.waitForSelector(cell);
    const before = Number(await page.textContent(cell));
    await h.send(exchange());
    await h.recorder.flush();
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel as string)?.textContent) > (n as number), [cell, before], { timeout: 3000 });
    await shot('who');
    await page.click(cell);
    await page.waitForFunction(() => location.hash.startsWith('#/live?') && location.hash.includes('kind=email'));
    await page.waitForSelector('table.flows tbody tr');
  });

  it('renders an XSS corpus as text and runs nothing', async () => {
    const payloads = [
      '<script>alert(1);window.__pwned=1</script>',
      '<img src=x onerror="alert(2);window.__pwned=1">',
      '"><svg onload="alert(3);window.__pwned=1">',
      'javascript:alert(4)',
    ];
    const ex = exchange({
      path: `/_matrix/identity/v2/validate/email/requestToken?x=${payloads[0]}&y=${payloads[2]}`,
      reqHeaders: [['Host', 'vector.im'], ['User-Agent', payloads[1]!], ['Referer', payloads[3]!], ['Origin', payloads[2]!], ['X-Evil', payloads[0]!]],
      reqBody: JSON.stringify({ email: `${payloads[2]}@example.org`, client_secret: payloads[1], next_link: payloads[3] }),
      resHeaders: [['Content-Type', 'text/html'], ['X-Reply', payloads[1]!]],
      resBody: `<html>${payloads.join('')}</html>`,
    });
    await page.goto(`${h.base}/#/live`);
    await page.waitForSelector('.status.s-live');
    await h.send(ex);
    await page.waitForSelector(`tr[data-id="${ex.id}"]`);
    await h.recorder.flush();
    await page.click(`tr[data-id="${ex.id}"]`);
    await page.waitForSelector('.detail .rule');
    const text = await page.textContent('.detail');
    for (const p of payloads) expect(text).toContain(p);
    const marks = await page.$$eval('.detail mark.leak', (els) => els.map((e) => e.textContent));
    expect(marks).toContain(payloads[1]);
    const injected = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      scripts: document.querySelectorAll('main script').length,
      imgs: document.querySelectorAll('main img[src="x"]').length,
      svgs: document.querySelectorAll('main svg').length,
      jsLinks: Array.from(document.querySelectorAll('main a')).filter((a) => /^javascript:/i.test(a.getAttribute('href') ?? '')).length,
    }));
    expect(injected).toEqual({ pwned: undefined, scripts: 0, imgs: 0, svgs: 0, jsLinks: 0 });
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    await shot('xss-detail');
  });

  it('draws the timeline, rules and health views', async () => {
    await page.goto(`${h.base}/#/timeline`);
    await page.waitForSelector('.uplot canvas');
    await shot('timeline');
    await page.goto(`${h.base}/#/rules`);
    await page.waitForSelector('table.rules-table tbody tr');
    expect(await page.textContent('table.rules-table')).toContain('matrix.identity.v2.lookup');
    await page.screenshot({ path: join(ART, 'rules.png') }); // the first screenful: the list is long
    await page.click('tr[data-rule="matrix.identity.v2.lookup"] summary');
    expect(await page.textContent('tr[data-rule="matrix.identity.v2.lookup"]')).toContain('What to do');
    await page.screenshot({ path: join(ART, 'rules-open.png') });
    await page.goto(`${h.base}/#/health`);
    await page.waitForSelector('.cards .card');
    expect(await page.textContent('.cards')).toContain('0.1.0-test');
    await shot('health');
  });

  it('keeps a page on another local origin from reading the API or the stream', async () => {
    const port = new URL(h.base).port;
    const evil: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<script>
        window.results = {};
        fetch('http://127.0.0.1:${port}/api/flows', { credentials: 'include' })
          .then((r) => r.text()).then((t) => (window.results.fetch = 'read:' + t.slice(0, 40)), (e) => (window.results.fetch = 'blocked'));
        const ws = new WebSocket('ws://127.0.0.1:${port}/api/stream');
        ws.onmessage = (m) => (window.results.ws = 'read:' + String(m.data).slice(0, 40));
        ws.onerror = () => (window.results.ws = window.results.ws || 'blocked');
      </script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const evilPort = (evil.address() as AddressInfo).port;
    const other = await ctx.newPage(); // same browser context: it holds the dashboard cookie
    try {
      await other.goto(`http://127.0.0.1:${evilPort}/`);
      await other.waitForFunction(() => (window as any).results.fetch && (window as any).results.ws, null, { timeout: 5000 });
      const results = await other.evaluate(() => (window as any).results);
      expect(results).toEqual({ fetch: 'blocked', ws: 'blocked' });
    } finally {
      await other.close();
      evil.close();
    }
  });

  it('ran under the CSP without violations or page errors', () => {
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
  });
});
