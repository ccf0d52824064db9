/**
 * Records (the store's report aggregates) -> the report model. Pure: the loader (report/load.ts)
 * does the reading, in two steps: `partyKeys` says which parties exist, the loader fetches their
 * evidence and User-Agent samples, `buildReport` puts everything together.
 *
 * A party is one (rule's party name, registrable domain) pair: vector.im and scalar.vector.im are
 * one domain but two parties when two rules name them differently. Parties seen only through DNS
 * lookups or STUN requests get their own short sections; TLS failures theirs.
 */
import { getDomain } from 'tldts';
import { SEVERITIES, type Severity } from '../core/vocabulary.js';
import type { ClientRow, ErrorRow, GroupRow, KindRow, ScopeTotals } from '../store/report-queries.js';
import { maskValue } from '../store/redact.js';
import type { FlowDetail } from '../store/types.js';
import type { Rule } from '../rules/types.js';
import {
  REPORT_SCHEMA,
  type Contact,
  type Evidence,
  type KindCount,
  type Party,
  type Report,
  type ReportMethod,
  type RuleInfo,
  type TlsFailure,
  type WorstFinding,
} from './model.js';
import { userAgentFamily } from './user-agent.js';

export interface ReportRecords {
  readonly totals: ScopeTotals;
  readonly groups: readonly GroupRow[];
  readonly kinds: readonly KindRow[];
  readonly clients: readonly ClientRow[];
  readonly tlsFailures: readonly ErrorRow[];
  /** Per party key (see partyKeys): its evidence exchanges and sampled User-Agent headers. */
  readonly perParty: ReadonlyMap<string, { readonly evidence: readonly FlowDetail[]; readonly userAgents: readonly string[] }>;
}

export interface ReportOptions {
  readonly title: string;
  readonly now: number;
  /** Values the user declared (`--identity`), lower-case: shown in clear unless `redact`. */
  readonly declared: ReadonlySet<string>;
  readonly redact: boolean;
  /** The loaded rules by id, for why / cite / remediation. */
  readonly rules: ReadonlyMap<string, Rule>;
  readonly method: Omit<ReportMethod, 'window' | 'mode' | 'exchanges' | 'findings' | 'redacted'>;
}

const RANK = (s: string): number => Math.max(0, SEVERITIES.indexOf(s as Severity));
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** eTLD+1 of a host; the host itself when it has none (IP literals, single labels, 'localhost'). */
export function registrableDomain(host: string): string {
  return getDomain(host) ?? host;
}

export interface PartyKey {
  readonly key: string;
  readonly party: string | null;
  readonly domain: string;
  readonly hosts: readonly string[];
}

const keyOf = (party: string | null, host: string): string => `${party ?? ''}\u0000${registrableDomain(host)}`;

/** The parties that get a full section (they saw HTTP or WebSocket traffic), with their hosts. */
export function partyKeys(groups: readonly GroupRow[]): PartyKey[] {
  const out = new Map<string, { party: string | null; domain: string; hosts: Set<string>; full: boolean }>();
  for (const g of groups) {
    if (g.type === 'tls-failure') continue;
    const key = keyOf(g.party, g.host);
    let p = out.get(key);
    if (!p) out.set(key, (p = { party: g.party, domain: registrableDomain(g.host), hosts: new Set(), full: false }));
    p.hosts.add(g.host);
    if (g.type === 'http' || g.type === 'websocket') p.full = true;
  }
  return [...out.entries()].filter(([, p]) => p.full).map(([key, p]) => ({ key, party: p.party, domain: p.domain, hosts: [...p.hosts].sort() }));
}

/** Masked unless the user declared the value and did not ask for redaction. */
export function showValue(kind: string, value: string, storedMasked: boolean, o: Pick<ReportOptions, 'declared' | 'redact'>): { value: string; masked: boolean } {
  if (storedMasked) return { value, masked: true };
  if (!o.redact && o.declared.has(value.toLowerCase())) return { value, masked: false };
  return { value: maskValue(kind, value), masked: true };
}

/** The URL with each leaked value replaced by its shown form (raw and percent-encoded spellings). */
export function maskUrl(url: string, replacements: ReadonlyArray<readonly [raw: string, shown: string]>): string {
  let out = url;
  // Longest first, so a value inside another is not replaced half-way.
  for (const [raw, shown] of [...replacements].sort((a, b) => b[0].length - a[0].length)) {
    if (raw.length < 3 || raw === shown) continue;
    for (const form of new Set([raw, encodeURIComponent(raw), encodeURIComponent(raw).replace(/%20/g, '+')])) {
      out = out.split(form).join(shown);
    }
  }
  return out;
}

/**
 * Path segments that are data, not field names (an identity-server answer is keyed by the contact's
 * hash; a map keyed by device or room id): long opaque runs are masked like values.
 */
export function maskOpaque(where: string): string {
  return where.replace(/[A-Za-z0-9_\-+/=]{20,}/g, (m) => (/\d/.test(m) && /[A-Za-z]/.test(m) ? maskValue('token', m) : m));
}

function evidenceOf(f: FlowDetail, o: ReportOptions): Evidence {
  const shown = f.findings.map((x) => showValue(x.kind, x.value, x.redacted, o));
  const pairs = f.findings.map((x, i) => [x.value, shown[i]!.value] as const).filter((_, i) => shown[i]!.masked);
  // A value can sit in another finding's path too (an identity lookup answer is keyed by the hash).
  const findings = f.findings.map((x, i) => ({ kind: x.kind, ...shown[i]!, where: maskOpaque(maskUrl(x.where, pairs)), method: x.method }));
  return {
    id: f.id,
    time: new Date(f.time).toISOString(),
    method: f.method,
    url: maskUrl(f.url, pairs),
    status: f.status,
    verdict: f.verdict,
    client: f.client,
    findings,
  };
}

type MutableCount = { -readonly [K in keyof KindCount]: KindCount[K] };

function addKind(map: Map<string, MutableCount>, r: KindRow): void {
  let c = map.get(r.kind);
  if (!c) map.set(r.kind, (c = { kind: r.kind, sent: 0, answered: 0, prevented: 0, total: 0 }));
  if (r.bucket !== 'failed') c[r.bucket] += r.count;
  c.total += r.count;
}

const sortKinds = (m: Map<string, MutableCount>): KindCount[] =>
  [...m.values()].sort((a, b) => b.sent - a.sent || b.total - a.total || a.kind.localeCompare(b.kind));

function anchorFor(base: string, used: Set<string>): string {
  const slug = base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'party';
  let a = slug;
  for (let i = 2; used.has(a); i++) a = `${slug}-${i}`;
  used.add(a);
  return a;
}

function ruleInfo(id: string, rules: ReadonlyMap<string, Rule>): RuleInfo {
  const r = rules.get(id);
  return { id, why: r?.why.trim() ?? '', cite: r?.cite.trim() ?? '', remediation: r?.remediation.trim() ?? '' };
}

function modeOf(verdicts: Readonly<Record<string, number>>): ReportMethod['mode'] {
  const has = (vs: string[]): boolean => vs.some((v) => (verdicts[v] ?? 0) > 0);
  const enforce = has(['block', 'neutralize', 'strip', 'hold']);
  const observe = has(['would-block', 'would-neutralize', 'would-strip', 'would-hold']);
  return enforce && observe ? 'mixed' : enforce ? 'enforce' : observe ? 'observe' : 'unknown';
}

interface Acc {
  party: string | null;
  domain: string;
  hosts: Set<string>;
  types: Set<string>;
  categories: Set<string>;
  rules: Set<string>;
  severity: string;
  exchanges: number;
  reached: number;
  first: number;
  last: number;
  kinds: Map<string, MutableCount>;
  kindSeverity: Map<string, string>;
  clients: Map<string, number>;
}

const DNS_MEANING =
  'Only looked up: the name was resolved (by leakwatch\'s DNS server or your resolver), and no request to it went through the proxy. The resolver, not the party, learned that this device wanted it.';

export function buildReport(rec: ReportRecords, o: ReportOptions): Report {
  const accs = new Map<string, Acc>();
  const acc = (party: string | null, host: string): Acc => {
    const key = keyOf(party, host);
    let a = accs.get(key);
    if (!a) {
      a = {
        party, domain: registrableDomain(host), hosts: new Set(), types: new Set(), categories: new Set(), rules: new Set(),
        severity: 'none', exchanges: 0, reached: 0, first: Infinity, last: -Infinity, kinds: new Map(), kindSeverity: new Map(), clients: new Map(),
      };
      accs.set(key, a);
    }
    return a;
  };
  for (const g of rec.groups) {
    if (g.type === 'tls-failure') continue;
    const a = acc(g.party, g.host);
    a.hosts.add(g.host);
    a.types.add(g.type);
    if (g.category) a.categories.add(g.category);
    if (g.rule) a.rules.add(g.rule);
    if (RANK(g.severity) > RANK(a.severity)) a.severity = g.severity;
    a.exchanges += g.exchanges;
    a.reached += g.reached;
    a.first = Math.min(a.first, g.firstSeen);
    a.last = Math.max(a.last, g.lastSeen);
  }
  for (const k of rec.kinds) {
    const a = accs.get(keyOf(k.party, k.host));
    if (!a) continue; // findings of TLS failures: none are recorded, but never invent a party for them
    addKind(a.kinds, k);
    if (RANK(k.severity) > RANK(a.kindSeverity.get(k.kind) ?? 'none')) a.kindSeverity.set(k.kind, k.severity);
  }
  for (const c of rec.clients) {
    const a = accs.get(keyOf(c.party, c.host));
    if (a) a.clients.set(c.client, (a.clients.get(c.client) ?? 0) + c.exchanges);
  }

  const used = new Set<string>();
  const parties: Party[] = [];
  const dnsOnly: Contact[] = [];
  const stunOnly: Contact[] = [];
  const summaryKinds = new Map<string, MutableCount>();
  const worst: Array<WorstFinding & { rank: number }> = [];
  for (const [key, a] of accs) {
    for (const k of a.kinds.values()) {
      for (const b of ['sent', 'answered', 'prevented'] as const) addKind(summaryKinds, { party: null, host: '', kind: k.kind, severity: 'none', bucket: b, count: k[b] });
      const s = summaryKinds.get(k.kind)!;
      s.total += k.total - k.sent - k.answered - k.prevented;
    }
    const clients = [...a.clients.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
    const rules = [...a.rules].sort().map((id) => ruleInfo(id, o.rules));
    const full = a.types.has('http') || a.types.has('websocket');
    if (!full) {
      const contact: Contact = {
        domain: a.domain,
        name: a.party,
        hosts: [...a.hosts].sort(),
        count: a.exchanges,
        kinds: sortKinds(a.kinds),
        clients: clients.map(([c]) => c),
        firstSeen: iso(a.first)!,
        lastSeen: iso(a.last)!,
        remediation: rules.map((r) => r.remediation).filter(Boolean).join(' ') || (a.types.has('stun') ? '' : DNS_MEANING),
      };
      (a.types.has('stun') ? stunOnly : dnsOnly).push(contact);
      continue;
    }
    const per = rec.perParty.get(key);
    const families = new Map<string, number>();
    for (const ua of per?.userAgents ?? []) families.set(userAgentFamily(ua), (families.get(userAgentFamily(ua)) ?? 0) + 1);
    const anchor = anchorFor(`${a.party ?? 'no-rule'}-${a.domain}`, used);
    const kinds = sortKinds(a.kinds);
    parties.push({
      anchor,
      domain: a.domain,
      name: a.party,
      categories: [...a.categories].sort(),
      severity: a.severity,
      hosts: [...a.hosts].sort(),
      exchanges: a.exchanges,
      reached: a.reached,
      kinds,
      firstSeen: iso(a.first)!,
      lastSeen: iso(a.last)!,
      clients: clients.map(([address, exchanges]) => ({ address, exchanges })),
      userAgents: [...families.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([family, exchanges]) => ({ family, exchanges })),
      rules,
      evidence: (per?.evidence ?? []).map((f) => evidenceOf(f, o)),
    });
    for (const k of kinds) {
      const severity = a.kindSeverity.get(k.kind) ?? 'none';
      worst.push({ anchor, domain: a.domain, name: a.party, kind: k.kind, severity, sent: k.sent, prevented: k.prevented, rank: RANK(severity) });
    }
  }
  const sevSent = (p: Party): number => p.kinds.reduce((n, k) => n + k.sent, 0);
  parties.sort((x, y) => RANK(y.severity) - RANK(x.severity) || sevSent(y) - sevSent(x) || x.domain.localeCompare(y.domain));
  const byDomain = (x: Contact, y: Contact): number => x.domain.localeCompare(y.domain) || (x.name ?? '').localeCompare(y.name ?? '');
  dnsOnly.sort(byDomain);
  stunOnly.sort(byDomain);

  const tls = new Map<string, { host: string; name: string | null; count: number; clients: Set<string>; errors: Set<string>; first: number; last: number }>();
  for (const r of rec.tlsFailures) {
    let t = tls.get(r.host);
    if (!t) tls.set(r.host, (t = { host: r.host, name: r.party, count: 0, clients: new Set(), errors: new Set(), first: Infinity, last: -Infinity }));
    t.count += r.count;
    t.clients.add(r.client);
    if (r.error) t.errors.add(r.error);
    t.first = Math.min(t.first, r.firstSeen);
    t.last = Math.max(t.last, r.lastSeen);
  }
  const tlsFailures: TlsFailure[] = [...tls.values()]
    .sort((x, y) => y.count - x.count || x.host.localeCompare(y.host))
    .map((t) => ({ host: t.host, name: t.name, count: t.count, clients: [...t.clients].sort(), errors: [...t.errors].sort(), firstSeen: iso(t.first)!, lastSeen: iso(t.last)! }));

  return {
    schema: REPORT_SCHEMA,
    generatedAt: new Date(o.now).toISOString(),
    title: o.title,
    summary: {
      parties: parties.length,
      kinds: sortKinds(summaryKinds),
      worst: worst
        .filter((w) => w.sent > 0 || w.prevented > 0)
        .sort((x, y) => y.rank - x.rank || y.sent - x.sent || x.domain.localeCompare(y.domain) || x.kind.localeCompare(y.kind))
        .slice(0, 10)
        .map(({ rank: _rank, ...w }) => w),
    },
    parties,
    dnsOnly,
    stunOnly,
    tlsFailures,
    method: {
      ...o.method,
      window: { from: iso(rec.totals.firstSeen), to: iso(rec.totals.lastSeen) },
      mode: modeOf(rec.totals.verdicts),
      exchanges: rec.totals.exchanges,
      findings: rec.totals.findings,
      redacted: o.redact,
    },
  };
}

/** What a TLS failure means, for the report's readers. */
export const TLS_MEANING =
  'The client refused leakwatch\'s certificate before sending anything: it pins its certificates or does not trust the leakwatch CA. Its requests to these hosts are not in this report; install the CA on that device (`leakwatch ca --export`), or use `--passthrough HOST` to let the app through unseen.';
