/**
 * What the DNS server answers to one parsed query:
 * - a name a rule blocks (enforce): 0.0.0.0 / :: for A / AAAA, NXDOMAIN for other types;
 * - a name a rule covers: leakwatch's own address (A -> v4, AAAA -> v6 or NODATA); other types
 *   get NODATA so that e.g. HTTPS records (RFC 9460 §7.3 address hints) cannot route around us;
 * - anything else: the cache, else the upstream resolver (SERVFAIL when it fails or would loop).
 */
import type { Answer } from 'dns-packet';
import { ERR } from '../../core/errors.js';
import type { ExchangeError } from '../../core/exchange.js';
import { DnsCache } from './cache.js';
import type { CoversName } from './coverage.js';
import type { RecentAnswers } from './recent-answers.js';
import type { ForwardResult } from './upstream.js';
import { responseFacts, synthesize, withId, type Query } from './wire.js';

/** Seconds our own answers live: short, so rule changes take effect soon. */
export const SYNTH_TTL = 30;

export interface ResolveDeps {
  readonly coversName: CoversName;
  readonly interceptAddress: { readonly v4: string; readonly v6?: string };
  readonly forward: (query: Buffer) => Promise<ForwardResult>;
  readonly cache: DnsCache;
  readonly recentAnswers?: RecentAnswers;
  readonly now: () => number;
}

export interface DnsMeta {
  readonly [key: string]: string | number | boolean | null;
  readonly qtype: string;
  readonly answer: string;
  readonly rcode: string;
  readonly intercepted: boolean;
  readonly blocked: boolean;
  readonly ruleId: string | null;
  readonly cached: boolean;
}

export interface Resolution {
  readonly response: Buffer;
  readonly meta: DnsMeta;
  readonly error?: ExchangeError;
}

type Outcome = 'forwarded' | 'cached' | 'intercepted' | 'blocked' | 'servfail';

const address = (q: Query, type: 'A' | 'AAAA', data: string): Answer[] =>
  [{ type, name: q.question.name, ttl: SYNTH_TTL, class: 'IN', data }];

const FAIL: Record<string, ExchangeError> = {
  loop: { code: ERR.LOOP, message: 'the upstream resolver is this DNS server' },
  timeout: { code: ERR.UPSTREAM_TIMEOUT, message: 'the upstream resolver did not answer' },
  busy: { code: ERR.UPSTREAM_DNS, message: 'too many queries in flight to the upstream resolver' },
  error: { code: ERR.UPSTREAM_DNS, message: 'the upstream resolver could not be asked' },
};

export async function resolveQuery(q: Query, query: Buffer, client: string, deps: ResolveDeps): Promise<Resolution & { outcome: Outcome }> {
  const isIn = q.qclass === 'IN';
  const cover = isIn ? deps.coversName(q.name) : null;
  const base = { qtype: q.qtype, ruleId: cover?.ruleId ?? null, cached: false };
  const done = (outcome: Outcome, response: Buffer, rcode: string, answer: string, error?: ExchangeError) => ({
    outcome, response, ...(error ? { error } : {}),
    meta: { ...base, answer, rcode, intercepted: outcome === 'intercepted', blocked: outcome === 'blocked', cached: outcome === 'cached' },
  });

  if (cover?.block) {
    if (q.qtype === 'A') return done('blocked', synthesize(q, 'NOERROR', address(q, 'A', '0.0.0.0')), 'NOERROR', '0.0.0.0');
    if (q.qtype === 'AAAA') return done('blocked', synthesize(q, 'NOERROR', address(q, 'AAAA', '::')), 'NOERROR', '::');
    return done('blocked', synthesize(q, 'NXDOMAIN'), 'NXDOMAIN', '');
  }
  if (cover) {
    const ip = q.qtype === 'A' ? deps.interceptAddress.v4 : q.qtype === 'AAAA' ? deps.interceptAddress.v6 : undefined;
    if (ip === undefined) return done('intercepted', synthesize(q, 'NOERROR'), 'NOERROR', '');
    deps.recentAnswers?.record(client, { name: q.name.toLowerCase(), ruleId: cover.ruleId, address: ip, at: deps.now() });
    return done('intercepted', synthesize(q, 'NOERROR', address(q, q.qtype as 'A' | 'AAAA', ip)), 'NOERROR', ip);
  }

  const key = DnsCache.key(q.name, q.qtype, q.qclass);
  const hit = deps.cache.get(key, deps.now());
  if (hit) {
    const facts = responseFacts(hit);
    return done('cached', withId(hit, q.id), facts?.rcode ?? 'NOERROR', facts?.answer ?? '');
  }
  const r = await deps.forward(query);
  if (!r.ok) return done('servfail', synthesize(q, 'SERVFAIL'), 'SERVFAIL', '', FAIL[r.reason]);
  const facts = responseFacts(r.response);
  if (!facts) return done('servfail', synthesize(q, 'SERVFAIL'), 'SERVFAIL', '', { code: ERR.UPSTREAM_PROTOCOL, message: 'undecodable upstream answer' });
  deps.cache.set(key, r.response, facts.ttl, deps.now());
  return done('forwarded', withId(r.response, q.id), facts.rcode, facts.answer);
}
