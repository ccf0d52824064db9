/** Rule features for DNS/STUN/VoIP traffic: `from: connection` extractors and `response: { json: empty }` conditions. */
import { describe, expect, it } from 'vitest';
import { EMPTY_BODY, type Exchange, type RawHeaders } from '../../core/exchange.js';
import { auditExchange } from '../../rules/audit.js';
import { classify } from '../../rules/classify.js';
import { compileRuleset } from '../../rules/compile.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';
import { parsePackText } from '../../rules/load.js';
import { validatePack } from '../../rules/schema.js';

const PACK = `
pack: t
version: 1
description: test
rules:
  - id: t.no-turn
    party: hs
    category: first-party-exposure
    hosts: ["*"]
    paths: ["/voip/turnServer"]
    response: { json: empty }
    severity: medium
    why: w
    cite: c
    remediation: turn_uris
  - id: t.turn
    party: hs
    category: first-party-exposure
    hosts: ["*"]
    paths: ["/voip/turnServer"]
    severity: low
    why: w
    cite: c
    remediation: r
  - id: t.stun
    party: stun
    category: stun-turn
    hosts: ["stun.example"]
    severity: medium
    why: w
    cite: c
    remediation: r
    extract:
      - { from: connection, name: client, kind: ip_address }
`;
const ruleset = compileRuleset([parsePackText(PACK, 't.yaml')]);
const ctx = { ruleset, firstParty: new Set<string>(), known: buildKnownValueIndex([]), mode: 'observe' as const };

function ex(over: { kind?: Exchange['kind']; host?: string; path?: string; method?: string; client?: string; response?: string; headers?: RawHeaders; truncated?: boolean }): Exchange {
  const res = over.response;
  return {
    id: 1, kind: over.kind ?? 'http', listener: 'test', startedAt: 0, endedAt: 1,
    client: { address: over.client ?? '10.0.0.5', port: 40000 },
    request: { method: over.method ?? 'GET', url: 'x', scheme: 'https', host: over.host ?? 'hs.example', port: 443, path: over.path ?? '/voip/turnServer', httpVersion: '1.1', headers: [], body: EMPTY_BODY },
    ...(res === undefined ? {} : {
      response: { status: 200, statusMessage: 'OK', headers: over.headers ?? [['Content-Type', 'application/json']], body: { bytes: Buffer.from(res), size: res.length, truncated: over.truncated ?? false } },
    }),
  };
}

describe('response conditions', () => {
  it('json: empty holds for {} and [] only, with or without whitespace', () => {
    for (const body of ['{}', '[]', ' { } ']) expect(auditExchange(ex({ response: body }), ctx).classification?.ruleId).toBe('t.no-turn');
    for (const body of ['{"uris":[]}', '[1]', 'null', '']) expect(auditExchange(ex({ response: body }), ctx).classification?.ruleId).toBe('t.turn');
    expect(auditExchange(ex({ response: '{}', headers: [['Content-Type', 'text/html']] }), ctx).classification?.ruleId).toBe('t.no-turn');
    expect(auditExchange(ex({ response: '{}', truncated: true }), ctx).classification?.ruleId).toBe('t.turn');
  });

  it('without the exchange (the request gate, before the response) such rules are skipped', () => {
    expect(classify({ method: 'GET', host: 'hs.example', path: '/voip/turnServer' }, ruleset, new Set()).match?.rule.id).toBe('t.turn');
  });

  it('the schema accepts json: empty only, and only on log rules', () => {
    const base = { pack: 'p', version: 1, description: 'd' };
    const r = { id: 'a.b', party: 'p', category: 'cdn', hosts: ['x.example'], severity: 'low', why: 'w', cite: 'c', remediation: 'r' };
    expect(validatePack({ ...base, rules: [{ ...r, response: { json: 'empty' } }] }).ok).toBe(true);
    const bad = validatePack({ ...base, rules: [{ ...r, response: { json: 'full' } }, { ...r, id: 'a.c', response: { json: 'empty' }, action: 'block' }, { ...r, id: 'a.d', response: { jsno: 'empty' } }] });
    expect(bad.ok).toBe(false);
    const messages = bad.ok ? [] : bad.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages.some((m) => m.startsWith('rules.0.response.json'))).toBe(true);
    expect(messages).toContain('rules.1.action: a rule with a response condition can only log: the request gate acts before the response exists');
    expect(messages.some((m) => m.startsWith('rules.2.response') && m.includes('json'))).toBe(true);
  });
});

describe('connection extractor', () => {
  it('yields the client address for STUN and HTTP exchanges, never for DNS lookups', () => {
    const stun = auditExchange(ex({ kind: 'stun', host: 'stun.example', path: '/', method: 'BINDING', client: '::ffff:192.168.1.7' }), ctx);
    expect(stun.classification?.category).toBe('stun-turn');
    expect(stun.findings).toEqual([{ kind: 'ip_address', value: '192.168.1.7', where: 'connection.client', method: 'structural' }]);
    const dns = auditExchange(ex({ kind: 'dns', host: 'stun.example', path: '/A', method: 'QUERY' }), ctx);
    expect(dns.classification?.ruleId).toBe('t.stun');
    expect(dns.findings).toEqual([]);
  });

  it('the schema takes name: client and the request side only', () => {
    const base = { pack: 'p', version: 1, description: 'd' };
    const r = { id: 'a.b', party: 'p', category: 'cdn', hosts: ['x.example'], severity: 'low', why: 'w', cite: 'c', remediation: 'r' };
    const v = (x: unknown) => validatePack({ ...base, rules: [{ ...r, extract: [x] }] }).ok;
    expect(v({ from: 'connection', name: 'client', kind: 'ip_address' })).toBe(true);
    expect(v({ from: 'connection', name: 'server', kind: 'ip_address' })).toBe(false);
    expect(v({ from: 'connection', name: 'client', kind: 'ip_address', part: 'response' })).toBe(false);
  });
});
