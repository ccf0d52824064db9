/**
 * Two reports -> what changed, per party: new parties, gone parties, data kinds a party newly
 * learns or no longer learns, and changed counts. "Learns" = sent (the party received it);
 * answered and prevented findings are not something the party learned from this device.
 * `leaks` is true when B tells anyone something A did not: a party A never reached, or a kind a
 * party did not learn in A. A CI job guards a client's configuration with it (exit 1).
 * Pure; DNS-only and STUN-only contacts count as parties too (a STUN server learns your address).
 */
import type { Contact, KindCount, Party, Report } from './model.js';

export const DIFF_SCHEMA = 'leakwatch-diff/1';

export interface KindChange {
  readonly kind: string;
  readonly before: number;
  readonly after: number;
}

export interface PartyDiff {
  readonly domain: string;
  readonly name: string | null;
  /** new: only in B; gone: only in A; changed: in both, with differences. */
  readonly change: 'new' | 'gone' | 'changed';
  /** Kinds the party learns in B and did not in A. */
  readonly learns: readonly string[];
  /** Kinds the party learned in A and does not in B. */
  readonly stopsLearning: readonly string[];
  /** Sent counts that changed (kinds in both, or new/gone ones, 0 on the missing side). */
  readonly counts: readonly KindChange[];
  readonly exchanges: { readonly before: number; readonly after: number };
}

export interface ReportDiff {
  readonly schema: typeof DIFF_SCHEMA;
  readonly a: string;
  readonly b: string;
  readonly parties: readonly PartyDiff[];
  /** B leaks something A did not. */
  readonly leaks: boolean;
}

interface Side {
  readonly domain: string;
  readonly name: string | null;
  readonly reached: number;
  readonly sent: ReadonlyMap<string, number>;
}

const sentOf = (kinds: readonly KindCount[]): Map<string, number> => new Map(kinds.filter((k) => k.sent > 0).map((k) => [k.kind, k.sent]));
const keyOf = (x: { domain: string; name: string | null }): string => `${x.name ?? ''}\u0000${x.domain}`;

function sides(r: Report): Map<string, Side> {
  const out = new Map<string, Side>();
  const put = (x: Party | Contact, reached: number): void => {
    const prev = out.get(keyOf(x));
    const sent = sentOf(x.kinds);
    if (prev) for (const [k, n] of prev.sent) sent.set(k, (sent.get(k) ?? 0) + n);
    out.set(keyOf(x), { domain: x.domain, name: x.name, reached: reached + (prev?.reached ?? 0), sent });
  };
  for (const p of r.parties) put(p, p.reached);
  for (const c of [...r.dnsOnly, ...r.stunOnly]) put(c, c.count);
  return out;
}

export function diffReports(a: Report, b: Report, labels: { a: string; b: string }): ReportDiff {
  const A = sides(a);
  const B = sides(b);
  const parties: PartyDiff[] = [];
  for (const key of new Set([...A.keys(), ...B.keys()])) {
    const x = A.get(key);
    const y = B.get(key);
    const before = x?.sent ?? new Map<string, number>();
    const after = y?.sent ?? new Map<string, number>();
    const learns = [...after.keys()].filter((k) => !before.has(k)).sort();
    const stopsLearning = [...before.keys()].filter((k) => !after.has(k)).sort();
    const counts = [...new Set([...before.keys(), ...after.keys()])]
      .sort()
      .map((kind) => ({ kind, before: before.get(kind) ?? 0, after: after.get(kind) ?? 0 }))
      .filter((c) => c.before !== c.after);
    // A party present on one side only because it was blocked (reached 0) is not "contacted".
    const inA = (x?.reached ?? 0) > 0;
    const inB = (y?.reached ?? 0) > 0;
    const change = inB && !inA ? 'new' : inA && !inB ? 'gone' : 'changed';
    if (change === 'changed' && learns.length === 0 && stopsLearning.length === 0 && counts.length === 0) continue;
    if (!inA && !inB && learns.length === 0 && stopsLearning.length === 0) continue;
    const s = (y ?? x)!;
    parties.push({ domain: s.domain, name: s.name, change, learns, stopsLearning, counts, exchanges: { before: x?.reached ?? 0, after: y?.reached ?? 0 } });
  }
  const order = { new: 0, changed: 1, gone: 2 } as const;
  parties.sort((p, q) => order[p.change] - order[q.change] || p.domain.localeCompare(q.domain) || (p.name ?? '').localeCompare(q.name ?? ''));
  const leaks = parties.some((p) => p.change === 'new' || p.learns.length > 0);
  return { schema: DIFF_SCHEMA, a: labels.a, b: labels.b, parties, leaks };
}

const title = (p: PartyDiff): string => `${p.name ?? 'no rule'} — ${p.domain}`;

function lines(d: ReportDiff): Array<{ head: string; items: string[] }> {
  return d.parties.map((p) => {
    const items: string[] = [];
    if (p.learns.length) items.push(`newly learns: ${p.learns.join(', ')}`);
    if (p.stopsLearning.length) items.push(`no longer learns: ${p.stopsLearning.join(', ')}`);
    const changed = p.counts.filter((c) => c.before > 0 && c.after > 0);
    if (changed.length) items.push(`counts: ${changed.map((c) => `${c.kind} ${c.before} → ${c.after}`).join(', ')}`);
    items.push(`exchanges that reached it: ${p.exchanges.before} → ${p.exchanges.after}`);
    return { head: `${p.change === 'new' ? 'NEW' : p.change === 'gone' ? 'GONE' : 'CHANGED'} ${title(p)}`, items };
  });
}

const verdictLine = (d: ReportDiff): string =>
  d.leaks ? `${d.b} leaks something ${d.a} did not.` : d.parties.length ? `${d.b} leaks nothing ${d.a} did not.` : `No difference between ${d.a} and ${d.b}.`;

export function renderDiffText(d: ReportDiff): string {
  const out = [`leakwatch diff ${d.a} -> ${d.b}`, ''];
  for (const l of lines(d)) out.push(l.head, ...l.items.map((i) => `  ${i}`), '');
  out.push(verdictLine(d), '');
  return out.join('\n');
}

export function renderDiffMarkdown(d: ReportDiff, esc: (s: string) => string): string {
  const out = [`## leakwatch diff: ${esc(d.a)} → ${esc(d.b)}`, ''];
  for (const l of lines(d)) out.push(`- **${esc(l.head)}**`, ...l.items.map((i) => `  - ${esc(i)}`));
  out.push('', `**${esc(verdictLine(d))}**`, '');
  return out.join('\n');
}
