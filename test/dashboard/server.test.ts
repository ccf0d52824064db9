import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, startHarness, type Harness } from './harness.js';
import { openWs, raw, until } from './http.js';

let h: Harness;
let hostHdr: string;
const bearer = () => ({ Authorization: `Bearer ${h.token}`, Host: hostHdr });

beforeAll(async () => {
  h = await startHarness();
  hostHdr = new URL(h.base).host;
  await h.send(exchange());
  await h.recorder.flush();
});
afterAll(async () => h?.close());

const PROTECTED = ['/api/flows', '/api/flows/1', '/api/summary', '/api/exposure', '/api/facets', '/api/export', '/api/timeline', '/api/rules',
  '/api/health', '/api/sessions', '/metrics'];

describe('auth', () => {
  it('refuses every protected route without the token', async () => {
    for (const p of PROTECTED) {
      const r = await raw(h.base, p, { Host: hostHdr });
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain('alice');
    }
    await expect(openWs(h.base, '/api/stream', { Host: hostHdr })).rejects.toThrow('HTTP 401');
  });

  it('refuses a wrong bearer token', async () => {
    const r = await raw(h.base, '/api/flows', { Host: hostHdr, Authorization: 'Bearer nope' });
    expect(r.status).toBe(401);
  });

  it('accepts the bearer token on every route', async () => {
    for (const p of PROTECTED) expect((await raw(h.base, p, bearer())).status, p).toBe(200);
  });

  it('turns the start-up link into an HttpOnly SameSite=Strict cookie and drops the token from the URL', async () => {
    const r = await raw(h.base, `/?token=${h.token}`, { Host: hostHdr });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    const api = await raw(h.base, '/api/flows', { Host: hostHdr, Cookie: pair });
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body).flows.length).toBeGreaterThan(0);
    expect((await raw(h.base, '/?token=wrong', { Host: hostHdr })).status).toBe(401);
  });
});

describe('host and origin checks', () => {
  it('refuses a rebinding Host header, even with the token', async () => {
    for (const host of ['evil.example:' + new URL(h.base).port, 'evil.example', `127.0.0.1:1`]) {
      const r = await raw(h.base, '/api/flows', { ...bearer(), Host: host });
      expect(r.status, host).toBe(421);
      expect((await raw(h.base, '/', { Host: host })).status).toBe(421);
    }
    await expect(openWs(h.base, '/api/stream', { ...bearer(), Host: 'evil.example' })).rejects.toThrow('HTTP 421');
  });

  it('accepts localhost and 127.0.0.1 names on the bound port', async () => {
    const port = new URL(h.base).port;
    expect((await raw(h.base, '/api/health', { ...bearer(), Host: `localhost:${port}` })).status).toBe(200);
  });

  it('refuses a cross-origin WebSocket even with a valid cookie', async () => {
    const cookie = `leakwatch_token_${new URL(h.base).port}=${h.token}`;
    await expect(openWs(h.base, '/api/stream', { Host: hostHdr, Cookie: cookie, Origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openWs(h.base, '/api/stream', { Host: hostHdr, Cookie: cookie, Origin: 'http://127.0.0.1:1' })).rejects.toThrow('HTTP 403');
    const ok = await openWs(h.base, '/api/stream', { Host: hostHdr, Cookie: cookie, Origin: h.base });
    ok.ws.close();
  });

  it('refuses cross-origin reads and state-changing requests', async () => {
    const r = await raw(h.base, '/api/flows', { ...bearer(), Origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    const site = await raw(h.base, '/api/flows', { ...bearer(), 'Sec-Fetch-Site': 'same-site' });
    expect(site.status).toBe(403);
    const post = await raw(h.base, '/api/flows', { Host: hostHdr, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, 'POST', '{}');
    expect(post.status).toBe(403);
    const noOrigin = await raw(h.base, '/api/flows', { Host: hostHdr, 'Content-Type': 'application/json' }, 'POST', '{}');
    expect(noOrigin.status).toBe(403);
    const own = await raw(h.base, '/api/flows', { ...bearer(), Origin: h.base }, 'POST', '{}');
    expect(own.status).toBe(404); // passes the guard; there is no POST route yet
  });
});

describe('what is served', () => {
  it('never serves the CA key, the token file or the database', async () => {
    const paths = [
      '/ca/leakwatch-ca-key.pem', '/leakwatch-ca-key.pem', '/setup/leakwatch-ca-key.pem', '/dashboard-token', '/leakwatch.db',
      '/ui/../../ca/leakwatch-ca-key.pem', '/ui/%2e%2e/%2e%2e/dashboard-token', '/vendor/../package.json', '/ui/../server.ts',
      '/setup/../ca/leakwatch-ca-key.pem', '/node_modules/preact/package.json', '/.git/config', '/ui/.gitignore', '/api/../dashboard-token',
    ];
    for (const p of paths) {
      const r = await raw(h.base, p, bearer());
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain('PRIVATE KEY');
      expect(r.body).not.toContain(h.token);
    }
    const all = await Promise.all(['/setup/leakwatch-ca.pem', '/setup/info.json', '/proxy.pac', '/'].map((p) => raw(h.base, p, bearer())));
    for (const r of all) {
      expect(r.body).not.toContain('PRIVATE KEY');
      expect(r.body).not.toContain(h.token);
    }
  });

  it('sends a strict CSP and the other security headers on every response', async () => {
    for (const p of ['/', '/api/flows', '/setup/info.json', '/ui/app.js', '/nope']) {
      const r = await raw(h.base, p, bearer());
      const csp = String(r.headers['content-security-policy']);
      expect(csp, p).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('serves the CA as PEM, DER and .crt, and the PAC and QR, without the token', async () => {
    const pem = await raw(h.base, '/setup/leakwatch-ca.pem', { Host: hostHdr });
    expect(pem.status).toBe(200);
    expect(pem.body).toBe(h.ca.certPem);
    for (const ext of ['der', 'crt']) {
      const r = await fetch(`${h.base}/setup/leakwatch-ca.${ext}`);
      expect(Buffer.from(await r.arrayBuffer()).equals(h.ca.certDer)).toBe(true);
    }
    const pac = await raw(h.base, '/proxy.pac', { Host: hostHdr });
    expect(pac.headers['content-type']).toMatch(/application\/x-ns-proxy-autoconfig/);
    expect(pac.body).toMatch(/function FindProxyForURL\(url, host\)/);
    expect(pac.body).toContain('"PROXY 127.0.0.1:8080"');
    // Evaluate the PAC as a browser would (isPlainHostName is one of the PAC built-ins).
    const pacFn = new Function('isPlainHostName', `${pac.body}; return FindProxyForURL;`)((h: string) => !h.includes('.'));
    expect(pacFn('https://vector.im/', 'vector.im')).toBe('PROXY 127.0.0.1:8080');
    expect(pacFn('http://printer/', 'printer')).toBe('DIRECT');
    expect(pacFn('http://localhost:8081/', 'localhost')).toBe('DIRECT');
    const qr = await raw(h.base, '/setup/qr.svg', { Host: hostHdr });
    expect(qr.headers['content-type']).toMatch(/image\/svg\+xml/);
    expect(qr.body).toMatch(/^<svg/);
    const info = JSON.parse((await raw(h.base, '/setup/info.json', { Host: hostHdr })).body);
    expect(info.fingerprintSha256).toBe(h.ca.fingerprintSha256);
  });
});

describe('API and metrics', () => {
  it('lists, filters and details flows from the store', async () => {
    const list = JSON.parse((await raw(h.base, '/api/flows?kind=email', bearer())).body).flows;
    expect(list.length).toBe(1);
    expect(list[0]).toMatchObject({ host: 'vector.im', category: 'identity-server', kinds: expect.arrayContaining(['email']) });
    expect(JSON.parse((await raw(h.base, '/api/flows?kind=phone', bearer())).body).flows).toEqual([]);
    expect((await raw(h.base, '/api/flows?limit=abc', bearer())).status).toBe(400);
    const d = JSON.parse((await raw(h.base, `/api/flows/${list[0].id}`, bearer())).body);
    expect(d.flow.leaks.map((l: { value: string }) => l.value)).toContain('alice@example.org');
    expect(d.request.body.text).toContain('alice@example.org');
    expect(d.ruleInfo.id).toBe('matrix.identity.validation.request-token');
    expect((await raw(h.base, '/api/flows/999999', bearer())).status).toBe(404);
    const sum = JSON.parse((await raw(h.base, '/api/summary', bearer())).body).cells;
    expect(sum.find((c: { kind: string }) => c.kind === 'email').count).toBe(1);
    const tl = JSON.parse((await raw(h.base, '/api/timeline', bearer())).body);
    expect(tl.buckets.length).toBeGreaterThan(0);
  });

  it('counts, exposes by outcome and domain, lists facets and exports a filter', async () => {
    const json = async (p: string) => JSON.parse((await raw(h.base, p, bearer())).body);
    expect(await json('/api/flows?kind=email&count=1')).toMatchObject({ total: 1, totalCapped: false });
    const cells = (await json('/api/exposure')).cells as Array<Record<string, unknown>>;
    expect(cells).toContainEqual(expect.objectContaining({ host: 'vector.im', domain: 'vector.im', kind: 'email', outcome: 'sent', count: 1 }));
    const facets = await json('/api/facets');
    expect(facets.kinds).toContain('email');
    expect(facets.sessions.length).toBeGreaterThan(0);
    const csv = await raw(h.base, '/api/export?format=csv&kind=email', bearer());
    expect(csv.headers['content-disposition']).toContain('leakwatch.csv');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,time,session,type,method,url,status,error,error_message,category,party,rule,severity,verdict,kind,value,where,finding_method');
    expect(lines.slice(1).some((l) => l.includes(',email,alice@example.org,'))).toBe(true);
    const har = JSON.parse((await raw(h.base, '/api/export?format=har&kind=email', bearer())).body);
    expect(har.log.entries).toHaveLength(1);
    expect(har.log.entries[0]._type).toBe('http');
    expect((await raw(h.base, '/api/export?format=xml', bearer())).status).toBe(400);
    expect((await json('/api/health')).store).toMatchObject({ exchanges: expect.any(Number), tlsFailures: 0 });
  });

  it('exposes Prometheus text with HELP and TYPE lines', async () => {
    const r = await raw(h.base, '/metrics', bearer());
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = r.body.trimEnd().split('\n');
    expect(r.body).toMatch(/# HELP leakwatch_flows_total .+\n# TYPE leakwatch_flows_total counter\nleakwatch_flows_total 1\n/);
    expect(r.body).toMatch(/leakwatch_findings_total\{category="identity-server"\} \d+/);
    expect(r.body).toMatch(/# TYPE leakwatch_recorder_queue_depth gauge/);
    expect(r.body).toMatch(/leakwatch_recorder_dropped_total 0/);
    for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[\d.e+]+)$/);
  });

  it('exposes what the process costs: event-loop delay, GC pauses, heap and RSS', async () => {
    // Some garbage, so the young generation is collected at least once before the scrape.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += JSON.stringify({ i, s: 'x'.repeat(i % 64) }).length;
    expect(keep).toBeGreaterThan(0);
    const body = (await raw(h.base, '/metrics', bearer())).body;
    const value = (re: RegExp): number => Number(re.exec(body)?.[1] ?? NaN);
    const p50 = value(/^leakwatch_event_loop_delay_ms\{quantile="0\.5"\} ([\d.]+)$/m);
    const p99 = value(/^leakwatch_event_loop_delay_ms\{quantile="0\.99"\} ([\d.]+)$/m);
    const max = value(/^leakwatch_event_loop_delay_ms\{quantile="1"\} ([\d.]+)$/m);
    expect(p50).toBeGreaterThanOrEqual(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(max).toBeGreaterThanOrEqual(p99);
    expect(value(/^leakwatch_gc_pauses_total (\d+)$/m)).toBeGreaterThan(0);
    expect(body).toMatch(/^leakwatch_gc_pause_seconds_total\{kind="(minor|major|incremental|weakcb)"\} [\d.e-]+$/m);
    const rss = value(/^leakwatch_resident_memory_bytes (\d+)$/m);
    const heap = value(/^leakwatch_heap_used_bytes (\d+)$/m);
    expect(heap).toBeGreaterThan(1_000_000);
    expect(rss).toBeGreaterThan(heap);
  });
});

describe('WebSocket messages in the detail', () => {
  it('lists the messages of the same connection', async () => {
    const base = exchange({ host: 'matrix.example.org', path: '/_matrix/client/unstable/org.matrix.msc4108/ws', method: 'GET', reqBody: '' });
    const ids: number[] = [];
    for (const [i, conn] of [[0, 77], [1, 77], [2, 78], [3, 77]] as const) {
      const data = Buffer.from(JSON.stringify({ n: i, content: { body: `hello ${i}` } }));
      const ex = { ...base, id: base.id * 100 + i, kind: 'websocket' as const, request: { ...base.request, scheme: 'wss' as const },
        websocket: { connectionId: conn, direction: i % 2 ? ('receive' as const) : ('send' as const), binary: false, data: { bytes: data, size: data.length, truncated: false } } };
      ids.push(ex.id);
      await h.send(ex);
    }
    await h.recorder.flush();
    const d = JSON.parse((await raw(h.base, `/api/flows/${ids[1]}`, bearer())).body);
    expect(d.websocket.connectionId).toBe(77);
    expect(d.websocket.messages.map((m: { id: number }) => m.id)).toEqual([ids[0], ids[1], ids[3]]);
    expect(d.websocket.messages[0].text).toContain('hello 0');
    expect(d.request.body.text).toContain('hello 1');
  });
});
