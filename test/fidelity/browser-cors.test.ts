/**
 * leakwatch's own answers in a real browser. A page on http://app.test fetches cross-origin
 * through the live proxy (headless Chromium, HTTPS via CONNECT + TLS, and plain HTTP): a block
 * (Matrix M_FORBIDDEN JSON), a neutralized answer and an upstream error must reach the page with
 * their status, body and X-Leakwatch-* headers, not as a CORS failure. Requests with an
 * Authorization header make Chromium send a preflight first: for a blocked path that preflight is
 * answered by leakwatch and never reaches the origin. In observe mode the preflight of a blocked
 * path travels on and is recorded as a would-block; a --block HOST/PATH answers its preflights too.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpViaProxy } from '../helpers/connect-client.js';
import type { Origin } from '../helpers/origin.js';
import { startEchoOrigin, startLw, type Lw, type Seen } from '../enforce/harness.js';

const PAGE = 'http://app.test';
const HOSTS = ['app.test', 'api.test', 'lookup.test', 'tls-down.test', 'blockme.test'];
let origin: Origin & { received: Seen[] };
let lw: Lw;
let observe: Lw;
let browser: Browser;
let page: Page;

interface Seen2 {
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  readonly lwError?: string | null;
  readonly verdict?: string | null;
}

beforeAll(async () => {
  origin = await startEchoOrigin();
  // tls-down.test points at the plain-HTTP echo origin: an https request there fails the TLS
  // handshake upstream (an upstream error leakwatch answers itself).
  // Names outside --resolve go to a resolver that does not exist (loopback port 9): whatever
  // the browser tries on its own (sign-in, updates) dies at the proxy and nothing leaves loopback.
  const flags = { action: ['test.api.matrix=block'], dnsUpstream: '127.0.0.1:9' };
  [lw, observe] = await Promise.all([startLw({ mode: 'enforce', ...flags, block: ['blockme.test/private'] }, HOSTS, origin.port), startLw({ mode: 'observe', ...flags }, HOSTS, origin.port)]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-domain-reliability',
      `--proxy-server=${lw.running.proxyUrl}`,
    ],
  });
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  page = await ctx.newPage();
  // The page comes through the proxy too (the echo origin's JSON is enough to run scripts in).
  // Not page.route(): with interception on, Playwright answers CORS preflights itself.
  await page.goto(`${PAGE}/`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([lw?.close(), observe?.close()]);
  await origin?.close();
});

function pageFetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Seen2> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        return { status: r.status, body: await r.text(), lwError: r.headers.get('x-leakwatch-error'), verdict: r.headers.get('x-leakwatch-verdict') };
      } catch (e) {
        return { error: String(e) };
      }
    },
    [url, init] as const,
  );
}

const preflights = (host: string): Seen[] => origin.received.filter((r) => r.method === 'OPTIONS' && String(r.headers.host).startsWith(host));

describe('Chromium reads leakwatch answers cross-origin', () => {
  for (const scheme of ['https', 'http'] as const) {
    it(`${scheme}: a block (with a preflight) shows its 403 M_FORBIDDEN, the preflight never reaches the origin`, async () => {
      const r = await pageFetch(`${scheme}://api.test/_matrix/integrations/v1/account`, { headers: { Authorization: 'Bearer secret-token' } });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body!)).toMatchObject({ errcode: 'M_FORBIDDEN' });
      expect(r.verdict).toBe('block');
      expect(preflights('api.test')).toHaveLength(0);
      expect(origin.received.filter((x) => x.url.startsWith('/_matrix/integrations'))).toHaveLength(0);
      const pre = await lw.flow('api.test', '/_matrix/integrations/v1/account', (f) => f.method === 'OPTIONS' && f.url.startsWith(scheme));
      expect(pre.verdict).toBe('block');
      expect(pre.rule).toBe('test.api.matrix');
    });

    it(`${scheme}: a neutralized answer is readable`, async () => {
      const r = await pageFetch(`${scheme}://lookup.test/lookup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"addresses":["x"]}' });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body!)).toEqual({ results: [] });
      expect(preflights('lookup.test')).toHaveLength(0);
    });
  }

  it('https: an upstream error shows as 502 with its code', async () => {
    const r = await pageFetch('https://tls-down.test/anything');
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(502);
    expect(r.lwError).toBe('LW_UPSTREAM_TLS');
  });
});

/** What Chromium sends before a request with an Authorization header, through `via`. */
const preflight = (via: Lw, url: string, method: string) =>
  httpViaProxy(Number(new URL(via.running.proxyUrl).port), url, {
    method: 'OPTIONS',
    headers: { origin: PAGE, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' },
  });

describe('preflights of a --block HOST/PATH', () => {
  it('are answered by leakwatch (204 allowing the announced request) and never reach the origin', async () => {
    const r = await preflight(lw, 'http://blockme.test/private/x', 'PUT');
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(PAGE);
    expect(r.headers['access-control-allow-methods']).toBe('PUT');
    expect(r.headers['access-control-allow-headers']).toBe('authorization');
    expect(r.headers['vary']).toBe('Origin');
    expect(origin.received.some((x) => x.url.startsWith('/private'))).toBe(false);
    const f = await lw.flow('blockme.test', '/private/x');
    expect(f.verdict).toBe('block');
  });
});

describe('preflights in observe mode', () => {
  it('travel to the origin and are recorded as would-block', async () => {
    const r = await preflight(observe, 'http://api.test/_matrix/integrations/v1/observe', 'GET');
    expect(r.status).toBe(200);
    expect(origin.received.some((x) => x.method === 'OPTIONS' && x.url === '/_matrix/integrations/v1/observe')).toBe(true);
    const f = await observe.flow('api.test', '/_matrix/integrations/v1/observe');
    expect(f.verdict).toBe('would-block');
    expect(f.rule).toBe('test.api.matrix');
  });
});
