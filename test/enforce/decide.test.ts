import { gunzipSync, gzipSync, brotliCompressSync, brotliDecompressSync, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RequestHead } from '../../core/gate.js';
import { HoldQueue } from '../../core/hold-queue.js';
import { blockAnswer } from '../../rules/block-response.js';
import { firstPartySet } from '../../rules/classify.js';
import { decideAction, EMPTY_OVERLAY, planDecision, type DecideContext, type Overlay } from '../../rules/decide.js';
import { createEnforcementGate } from '../../rules/enforce-gate.js';
import { matrixIdentityHash } from '../../rules/identity-hash.js';
import { buildKnownValueIndex, parseIdentity } from '../../rules/known-values.js';
import { loadRuleset, parsePackText } from '../../rules/load.js';
import { stripBody, stripHeaders, stripQuery, GENERIC_USER_AGENT } from '../../rules/strip.js';
import { validatePack } from '../../rules/schema.js';

const ruleset = loadRuleset({ builtin: true, extra: [] });
const known = buildKnownValueIndex([parseIdentity('email=bob@example.com'), parseIdentity('phone=+447700900123')]);
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
  ruleset,
  firstParty: firstPartySet(['matrix.example.org']),
  mode: 'enforce',
  overlay: EMPTY_OVERLAY,
  known,
  now: 1_000_000,
  ...over,
});
const head = (method: string, url: string, headers: Array<[string, string]> = [], client = '127.0.0.1'): RequestHead => {
  const u = new URL(url);
  return {
    method,
    url,
    scheme: u.protocol.slice(0, -1) as RequestHead['scheme'],
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    path: u.pathname + u.search,
    headers: [['Host', u.host], ...headers],
    client: { address: client, port: 50000 },
  };
};
const overlay = (o: Partial<Overlay>): Overlay => ({ ...EMPTY_OVERLAY, ...o });
const plan = (h: RequestHead, c: DecideContext) => planDecision(h, decideAction(h, c), c);

describe('decide: actions from the packs', () => {
  it('neutralizes the v2 identity lookup with the pack\'s canned answer', () => {
    const d = plan(head('POST', 'https://vector.im/_matrix/identity/v2/lookup'), ctx());
    expect(d.type).toBe('respond');
    if (d.type !== 'respond') return;
    expect(d.status).toBe(200);
    expect(JSON.parse(d.body.toString())).toEqual({ mappings: {} });
    expect(d.applied).toEqual({ verdict: 'neutralize', ruleId: 'matrix.identity.v2.lookup' });
  });

  it('v1 lookup -> {}, bulk_lookup -> {"threepids":[]}', () => {
    const v1 = plan(head('GET', 'https://vector.im/_matrix/identity/api/v1/lookup?medium=email&address=bob@example.com'), ctx());
    const bulk = plan(head('POST', 'https://matrix.org/_matrix/identity/api/v1/bulk_lookup'), ctx());
    expect(v1.type === 'respond' && v1.body.toString()).toBe('{}');
    expect(bulk.type === 'respond' && bulk.body.toString()).toBe('{"threepids":[]}');
  });

  it('blocks analytics with 204 and records the rule', () => {
    const d = plan(head('POST', 'https://posthog.element.io/e/'), ctx());
    expect(d).toMatchObject({ type: 'respond', status: 204, applied: { verdict: 'block', ruleId: 'element.analytics.posthog' } });
  });

  it('observe mode forwards everything and records would-*', () => {
    const c = ctx({ mode: 'observe' });
    expect(plan(head('POST', 'https://posthog.element.io/e/'), c)).toEqual({ type: 'forward', applied: { verdict: 'would-block', ruleId: 'element.analytics.posthog' } });
    expect(plan(head('POST', 'https://vector.im/_matrix/identity/v2/lookup'), c)).toMatchObject({ type: 'forward', applied: { verdict: 'would-neutralize' } });
    const hold = overlay({ actions: new Map([['element.integrations.scalar.register', 'hold']]) });
    expect(plan(head('POST', 'https://scalar.vector.im/api/register'), ctx({ mode: 'observe', overlay: hold }))).toMatchObject({ type: 'forward', applied: { verdict: 'would-hold' } });
  });

  it('log rules and unmatched traffic are forwarded untouched', () => {
    expect(plan(head('GET', 'https://matrix.example.org/_matrix/client/v3/sync'), ctx())).toEqual({ type: 'forward' });
    expect(plan(head('GET', 'https://example.net/'), ctx())).toEqual({ type: 'forward' });
  });
});

describe('decide: the overlay', () => {
  it('a rule action override applies (log -> block, with a Matrix-style error on /_matrix/)', () => {
    const o = overlay({ actions: new Map([['matrix.integrations.v1.api', 'block']]) });
    const d = plan(head('GET', 'https://scalar.vector.im/_matrix/integrations/v1/terms'), ctx({ overlay: o }));
    expect(d.type).toBe('respond');
    if (d.type !== 'respond') return;
    expect(d.status).toBe(403);
    expect(JSON.parse(d.body.toString())).toEqual({ errcode: 'M_FORBIDDEN', error: 'Blocked by leakwatch: matrix.integrations.v1.api' });
  });

  it('host and host+path blocks beat the packs; prefixes are segment-aware', () => {
    const o = overlay({ blocks: [{ ruleId: 'block:tracker.example/collect', host: 'tracker.example', pathPrefix: '/collect' }, { ruleId: 'block:*.ads.example', host: '*.ads.example', pathPrefix: '' }] });
    const c = ctx({ overlay: o });
    expect(plan(head('GET', 'http://tracker.example/collect?x=1'), c)).toMatchObject({ type: 'respond', status: 403, applied: { ruleId: 'block:tracker.example/collect' } });
    expect(plan(head('GET', 'http://tracker.example/collect/more'), c)).toMatchObject({ type: 'respond' });
    expect(plan(head('GET', 'http://tracker.example/collector'), c)).toEqual({ type: 'forward' });
    expect(plan(head('GET', 'https://cdn.ads.example/x.js'), c)).toMatchObject({ type: 'respond' });
    const text = plan(head('GET', 'https://cdn.ads.example/x.js'), c);
    expect(text.type === 'respond' && text.body.toString()).toBe('Blocked by leakwatch: block:*.ads.example\n');
  });

  it('an allowed client is never touched', () => {
    const o = overlay({ allowedClients: new Set(['10.0.0.7']) });
    expect(plan(head('POST', 'https://posthog.element.io/e/', [], '::ffff:10.0.0.7'), ctx({ overlay: o }))).toEqual({
      type: 'forward',
      applied: { verdict: 'allow', ruleId: 'element.analytics.posthog', detail: 'client 10.0.0.7 is allowed' },
    });
    expect(plan(head('GET', 'https://example.net/', [], '10.0.0.7'), ctx({ overlay: o }))).toEqual({ type: 'forward' });
    expect(plan(head('POST', 'https://posthog.element.io/e/', [], '10.0.0.8'), ctx({ overlay: o })).type).toBe('respond');
  });

  it('lasting hold decisions apply to the same rule + host (+ client) until they expire', () => {
    const actions = new Map([['element.integrations.scalar.register', 'hold' as const]]);
    const h = head('POST', 'https://scalar.vector.im/api/register');
    expect(plan(h, ctx({ overlay: overlay({ actions }) })).type).toBe('hold');
    const allow = overlay({ actions, lasting: [{ ruleId: 'element.integrations.scalar.register', host: 'scalar.vector.im', client: '127.0.0.1', decision: 'allow', expiresAt: 2_000_000 }] });
    expect(plan(h, ctx({ overlay: allow }))).toMatchObject({ type: 'forward', applied: { verdict: 'allow' } });
    expect(plan(h, ctx({ overlay: allow, now: 3_000_000 })).type).toBe('hold');
    expect(plan(head('POST', 'https://scalar.vector.im/api/register', [], '10.1.1.1'), ctx({ overlay: allow })).type).toBe('hold');
    const deny = overlay({ actions, lasting: [{ ruleId: 'element.integrations.scalar.register', host: 'scalar.vector.im', client: null, decision: 'deny', expiresAt: null }] });
    expect(plan(h, ctx({ overlay: deny }))).toMatchObject({ type: 'respond', status: 403, applied: { verdict: 'block' } });
  });
});

describe('strip', () => {
  it('removes Referer, Origin, Cookie, Accept-Language and replaces User-Agent for third parties', () => {
    const o = overlay({ actions: new Map([['element.analytics.posthog', 'strip']]) });
    const h = head('POST', 'https://posthog.element.io/e/?ip=1&ver=2', [
      ['User-Agent', 'Element/1.11 (Pixel 7)'], ['Referer', 'https://chat.example.org/#/room/!a'], ['Origin', 'https://chat.example.org'],
      ['Cookie', 'a=b'], ['Accept-Language', 'en-GB'], ['Content-Type', 'application/json'],
    ]);
    const d = plan(h, ctx({ overlay: o }));
    expect(d.type).toBe('forward');
    if (d.type !== 'forward') return;
    expect(d.headers).toEqual([['Host', 'posthog.element.io'], ['User-Agent', GENERIC_USER_AGENT], ['Content-Type', 'application/json']]);
    expect(d.applied?.verdict).toBe('strip');
    expect(d.applied?.detail).toContain('referer');
  });

  it('drops query parameters, keeping the others byte for byte', () => {
    expect(stripQuery('/a?x=1&access_token=s%20t&y=%2F', ['access_token'])).toEqual({ path: '/a?x=1&y=%2F', removed: ['access_token'] });
    expect(stripQuery('/a?access_token=1', ['access_token']).path).toBe('/a');
    expect(stripHeaders([['X', '1']], []).headers).toEqual([['X', '1']]);
  });

  it('drops initial_device_display_name from a login body (first party: headers kept)', () => {
    const o = overlay({ actions: new Map([['homeserver.login.initial-device-name', 'strip']]) });
    const h = head('POST', 'https://matrix.example.org/_matrix/client/v3/login', [['User-Agent', 'Element'], ['Content-Type', 'application/json']]);
    const d = plan(h, ctx({ overlay: o }));
    if (d.type !== 'forward' || !d.rewriteBody) throw new Error('expected a body rewrite');
    expect(d.headers).toEqual(h.headers);
    const body = Buffer.from(JSON.stringify({ type: 'm.login.password', user: 'alice', password: 'x', initial_device_display_name: 'chat.example.org (Firefox, Linux)' }));
    const r = d.rewriteBody(body, h.headers);
    expect(JSON.parse(r.body.toString())).toEqual({ type: 'm.login.password', user: 'alice', password: 'x' });
  });

  it('removes only the known contacts from an identity lookup, in gzip, deflate and br bodies', () => {
    const pepper = 'matrixrocks';
    const bob = matrixIdentityHash('bob@example.com', 'email', pepper);
    const phone = matrixIdentityHash('447700900123', 'msisdn', pepper);
    const other = matrixIdentityHash('carol@example.org', 'email', pepper);
    const json = { addresses: [bob, other, phone], algorithm: 'sha256', pepper };
    const spec = { json: [], known: ['addresses[*]'] };
    const cases: Array<[string, (b: Buffer) => Buffer, (b: Buffer) => Buffer]> = [
      ['gzip', gzipSync, gunzipSync],
      ['br', brotliCompressSync, brotliDecompressSync],
      ['deflate', deflateRawSync, inflateRawSync],
    ];
    for (const [enc, encode, decode] of cases) {
      const headers: Array<[string, string]> = [['Content-Encoding', enc], ['Content-Type', 'application/json']];
      const r = stripBody(encode(Buffer.from(JSON.stringify(json))), headers, spec, known);
      expect(r.removed).toBe(2);
      expect(JSON.parse(decode(r.body).toString())).toEqual({ addresses: [other], algorithm: 'sha256', pepper });
    }
  });

  it('stops at the decode cap: a body that inflates past it is forwarded as it came, not half-stripped', () => {
    // 17 MiB of JSON whitespace before the field: over the 16 MiB cap every decoder shares.
    const json = Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(17 << 20, 0x20), Buffer.from('","initial_device_display_name":"x"}')]);
    const bomb = gzipSync(json);
    expect(bomb.length).toBeLessThan(100_000);
    const headers: Array<[string, string]> = [['Content-Encoding', 'gzip'], ['Content-Type', 'application/json']];
    const r = stripBody(bomb, headers, { json: ['initial_device_display_name'], known: [] });
    expect(r.removed).toBe(0);
    expect(r.body).toBe(bomb);
    // Under the cap the same shape is stripped.
    const small = gzipSync(Buffer.from('{"pad":"  ","initial_device_display_name":"x"}'));
    expect(stripBody(small, headers, { json: ['initial_device_display_name'], known: [] }).removed).toBe(1);
  });

  it('leaves bodies it does not understand alone', () => {
    const body = Buffer.from('not json');
    expect(stripBody(body, [], { json: ['a'], known: [] }, known).body).toBe(body);
    const zstd = stripBody(Buffer.from('{"a":1}'), [['Content-Encoding', 'zstd']], { json: ['a'], known: [] }, known);
    expect(zstd.removed).toBe(0);
  });
});

describe('rule format: strip and neutralize', () => {
  const rule = (over: Record<string, unknown>) => ({ id: 't.r', party: 'p', category: 'analytics', hosts: ['a.example'], severity: 'low', why: 'w', cite: 'c', remediation: 'r', ...over });
  const pack = (r: Record<string, unknown>) => ({ pack: 't', version: 1, description: 'd', rules: [r] });
  it('accepts and normalises both sections', () => {
    const v = validatePack(pack(rule({ strip: { headers: ['Referer'], json: ['a.b'] }, neutralize: { json: { ok: true } } })));
    expect(v.ok && v.value.rules[0]).toMatchObject({ strip: { headers: ['referer'], query: [], json: ['a.b'], known: [] }, neutralize: { status: 200, json: { ok: true } } });
  });
  it('rejects unknown keys, empty strips, bad statuses and missing json, with file:line:col', () => {
    const bad = (r: Record<string, unknown>) => {
      const v = validatePack(pack(rule(r)));
      return v.ok ? [] : v.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(bad({ strip: { header: ['x'] } }).join('\n')).toMatch(/strip\.header: unknown key "header" \(did you mean headers\?\)/);
    expect(bad({ strip: {} }).join('\n')).toMatch(/must name at least one/);
    expect(bad({ strip: { headers: ['bad header'] } }).join('\n')).toMatch(/HTTP header name/);
    expect(bad({ neutralize: { status: 500, json: {} } }).join('\n')).toMatch(/neutralize\.status/);
    expect(bad({ neutralize: { status: 200 } }).join('\n')).toMatch(/neutralize\.json: required/);
    expect(() => parsePackText('pack: t\nversion: 1\ndescription: d\nrules:\n  - id: t.r\n    party: p\n    category: analytics\n    hosts: [a.example]\n    severity: low\n    why: w\n    cite: c\n    remediation: r\n    strip: { headrs: [x] }\n', 'x.yaml'))
      .toThrow(/x\.yaml:13:\d+: rules\[0\]\.strip\.headrs: unknown key/);
  });
  it('the built-in packs carry the canned answers as data', () => {
    const byId = new Map(ruleset.rules.map((r) => [r.id, r]));
    expect(byId.get('matrix.identity.v2.lookup')?.neutralize).toEqual({ status: 200, json: { mappings: {} } });
    expect(byId.get('homeserver.login.initial-device-name')?.strip?.json).toEqual(['initial_device_display_name']);
  });
});

describe('block answers', () => {
  it('fit the protocol', () => {
    expect(blockAnswer('/_matrix/client/v3/x?y', null, 'r.x').status).toBe(403);
    expect(blockAnswer('/piwik.php', 'analytics', 'r.x').status).toBe(204);
    expect(blockAnswer('/api/envelope/', 'crash-report', 'r.x').status).toBe(204);
    expect(blockAnswer('/x', 'integration-manager', 'r.x')).toMatchObject({ status: 403, body: Buffer.from('Blocked by leakwatch: r.x\n') });
  });
});

describe('hold queue and the gate', () => {
  const holdOverlay = overlay({ actions: new Map([['element.integrations.scalar.register', 'hold']]) });
  it('waits for a decision, tells subscribers, saves lasting ones, settles siblings', async () => {
    const holds = new HoldQueue({ timeoutMs: 5000 });
    const events: string[] = [];
    holds.subscribe((e) => events.push(e.type));
    const saved: unknown[] = [];
    const gate = createEnforcementGate({ state: () => ({ ...ctx({ overlay: holdOverlay }) }), holds, onLasting: (d) => saved.push(d) });
    const h = head('POST', 'https://scalar.vector.im/api/register?v=1.1&access_token=secret-token-123', [['Authorization', 'Bearer abc']]);
    const p1 = gate.decide(h) as Promise<unknown>;
    const p2 = gate.decide(h) as Promise<unknown>;
    expect(holds.list()).toHaveLength(2);
    const item = holds.list()[0]!;
    expect(item).toMatchObject({ ruleId: 'element.integrations.scalar.register', host: 'scalar.vector.im', client: '127.0.0.1', method: 'POST' });
    expect(item.why).toMatch(/OpenID/);
    expect(holds.resolve(item.id, 'allow', 'hour').map((x) => x.id)).toEqual([1, 2]);
    await expect(p1).resolves.toMatchObject({ type: 'forward', applied: { verdict: 'hold', detail: 'held, then allowed by you (for an hour)' } });
    await expect(p2).resolves.toMatchObject({ type: 'forward' });
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ decision: 'allow', ruleId: 'element.integrations.scalar.register', client: '127.0.0.1' });
    expect(events).toEqual(['hold', 'hold', 'hold-resolved', 'hold-resolved']);
    expect(holds.resolve(item.id, 'deny', 'once')).toEqual([]);
  });

  it('times out into deny', async () => {
    const holds = new HoldQueue({ timeoutMs: 50 });
    const gate = createEnforcementGate({ state: () => ctx({ overlay: holdOverlay }), holds, onLasting: () => undefined });
    const d = await gate.decide(head('POST', 'https://scalar.vector.im/api/register'));
    expect(d).toMatchObject({ type: 'respond', status: 403, applied: { verdict: 'hold', detail: 'held, then denied: no answer within 0 s' } });
  });
});
