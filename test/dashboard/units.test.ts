import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAccessPolicy, cookieToken, crossOriginRead, hostAllowed, originAllowed, tokenMatches } from '../../dashboard/access.js';
import { toBodyView } from '../../dashboard/body-view.js';
import { StreamHub } from '../../dashboard/hub.js';
import { isoTime } from '../../dashboard/flow-item.js';
import { escapeLabel } from '../../dashboard/metrics.js';
import { flowQuery } from '../../dashboard/api.js';
import { loadOrCreateDashboardToken } from '../../dashboard/token.js';
import { gzipSync } from 'node:zlib';
import { zstdFrameRaw } from '../fixtures/bodies/zstd.js';
// The browser module is plain ESM with no DOM use at import time.
import { needles, segments } from '../../dashboard/public/highlight.js';
import { exchange } from './harness.js';

describe('access policy', () => {
  const p = buildAccessPolicy('127.0.0.1', 8081, 'tok');
  it('accepts loopback names on the bound port only', () => {
    for (const h of ['127.0.0.1:8081', 'localhost:8081', 'LOCALHOST:8081', '[::1]:8081']) expect(hostAllowed(p, h), h).toBe(true);
    for (const h of ['evil.example:8081', '127.0.0.1:8082', '127.0.0.1', 'localhost.evil.example:8081', undefined]) expect(hostAllowed(p, h)).toBe(false);
    expect(originAllowed(p, 'http://localhost:8081')).toBe(true);
    expect(originAllowed(p, 'http://127.0.0.1:9999')).toBe(false);
    expect(originAllowed(p, 'null')).toBe(false);
  });
  it('binds a specific address to that address alone', () => {
    const lan = buildAccessPolicy('192.168.1.5', 8081, 'tok');
    expect(hostAllowed(lan, '192.168.1.5:8081')).toBe(true);
    expect(hostAllowed(lan, 'localhost:8081')).toBe(false);
  });
  it('compares tokens in constant time and reads the port-named cookie', () => {
    expect(tokenMatches(p, 'tok')).toBe(true);
    expect(tokenMatches(p, 'to')).toBe(false);
    expect(tokenMatches(p, undefined)).toBe(false);
    const req = { headers: { cookie: 'a=b; leakwatch_token_8080=zzz; leakwatch_token_8081=tok' } } as never;
    expect(cookieToken(p, req)).toBe('tok');
  });
  it('treats other origins, including same-site ports, as cross-origin reads', () => {
    expect(crossOriginRead(p, { headers: { 'sec-fetch-site': 'same-site' } } as never)).toBe(true);
    expect(crossOriginRead(p, { headers: { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8081' } } as never)).toBe(false);
    expect(crossOriginRead(p, { headers: {} } as never)).toBe(false);
  });
});

describe('dashboard token', () => {
  it('is created once, 0600, base64url of 32 bytes, and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-tok-'));
    try {
      const t = loadOrCreateDashboardToken(dir);
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(join(dir, 'dashboard-token')).mode & 0o777).toBe(0o600);
      expect(loadOrCreateDashboardToken(dir)).toBe(t);
      writeFileSync(join(dir, 'dashboard-token'), 'short\n');
      expect(() => loadOrCreateDashboardToken(dir)).toThrow(/dashboard-token/);
      expect(readFileSync(join(dir, 'dashboard-token'), 'utf8')).toBe('short\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stream hub', () => {
  it('keeps a bounded ring and answers since() by position, then by id', () => {
    const hub = new StreamHub({ ringSize: 3, batchMs: 10_000 });
    const ids = [5, 3, 9, 7];
    for (const id of ids) hub.publish({ exchange: exchange({ id }) });
    hub.flushNow();
    expect(hub.snapshot().map((f) => f.id)).toEqual([3, 9, 7]);
    expect(hub.since(3)).toEqual({ items: hub.snapshot().slice(1), complete: true });
    expect(hub.since(5).complete).toBe(true); // below the oldest id still in the ring? 5 > 3: ring covers it
    expect(hub.since(1).complete).toBe(false);
    expect(hub.counters.flows).toBe(4);
    hub.close();
  });
  it('drops (and counts) instead of growing past maxPending', () => {
    const hub = new StreamHub({ maxPending: 2, batchMs: 10_000 });
    for (let i = 0; i < 5; i++) hub.publish({ exchange: exchange() });
    expect(hub.counters.droppedPending).toBe(3);
    hub.close();
  });
});

describe('flow item time', () => {
  it('formats like Date#toISOString, across second boundaries and outside the cached range', () => {
    const base = Date.UTC(2026, 10, 29, 23, 59, 59, 0);
    const times = [0, 1, 999, 1000, 1732874400000, base - 1, base, base + 7, base + 99, base + 999, base + 1000, 253402300799999, 253402300800000, -1, -62198755200000, 1.5];
    for (const t of times) expect(isoTime(t), String(t)).toBe(new Date(t).toISOString());
    // Back and forth between seconds (the cache holds one).
    for (const t of [base + 5, base - 995, base + 5]) expect(isoTime(t)).toBe(new Date(t).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});

describe('small helpers', () => {
  it('escapes Prometheus label values', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
  it('parses API filters strictly', () => {
    expect(flowQuery({ limit: '10', host: 'Vector.IM', kind: 'email' })).toEqual({ limit: 10, host: 'vector.im', kind: 'email' });
    expect(() => flowQuery({ limit: '0' })).toThrow(/limit/);
    expect(() => flowQuery({ q: ['a', 'b'] })).toThrow(/once/);
    expect(() => flowQuery({ since: 'yesterday' })).toThrow(/since/);
  });
  it('decodes gzip bodies and refuses to call binary text', () => {
    const v = toBodyView({ bytes: gzipSync('{"a":1}'), size: 27, truncated: false }, [['Content-Encoding', 'gzip'], ['Content-Type', 'application/json']]);
    expect(v?.text).toBe('{"a":1}');
    // zstd, through the same bounded decoder as the audit.
    const z = toBodyView({ bytes: zstdFrameRaw(Buffer.from('{"b":2}')), size: 20, truncated: false }, [['Content-Encoding', 'zstd']]);
    expect(z?.text).toBe('{"b":2}');
    // A bomb is shown up to the view's cap and marked truncated.
    const bomb = toBodyView({ bytes: gzipSync(Buffer.alloc(8 << 20, 0x61)), size: 8200, truncated: false }, [['Content-Encoding', 'gzip']]);
    expect(bomb?.truncated).toBe(true);
    expect(bomb?.text?.length).toBeGreaterThan(1 << 20);
    expect(bomb?.text?.length).toBeLessThanOrEqual(2 << 20);
    const bin = toBodyView({ bytes: Buffer.from([0, 1, 2, 255]), size: 4, truncated: false }, []);
    expect(bin?.text).toBeNull();
    expect(bin?.base64).toBe('AAEC/w==');
  });
  it('splits text around leaked values (raw, JSON-escaped, percent-encoded) without losing a character', () => {
    const list = needles(['a"b@x.org', 'ab']);
    const text = 'to=a%22b%40x.org&json={"e":"a\\"b@x.org"} raw a"b@x.org';
    const segs = segments(text, list);
    expect(segs.map((s) => s.text).join('')).toBe(text);
    expect(segs.filter((s) => s.hit).map((s) => s.text)).toEqual(['a%22b%40x.org', 'a\\"b@x.org', 'a"b@x.org']);
  });
});
