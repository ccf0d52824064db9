/**
 * The words both document renderers (HTML, Markdown) use, so the two say the same thing: section
 * titles, anchors, and the sentences built from the model. Plain strings; each renderer escapes.
 */
import type { Contact, KindCount, Party, Report } from './model.js';
import { TLS_MEANING } from './build.js';

export const SECTIONS = {
  summary: { id: 'summary', title: 'Summary' },
  parties: { id: 'third-parties', title: 'Third parties' },
  dns: { id: 'dns-only', title: 'DNS-only contacts' },
  stun: { id: 'stun-only', title: 'STUN-only contacts' },
  tls: { id: 'tls-failures', title: 'TLS failures' },
  method: { id: 'method', title: 'Method' },
} as const;

export const STUN_MEANING =
  'A STUN server answers "what is my public address?": it learns your IP address (and so roughly where you are) each time a call starts, without any request going through the proxy.';
export { TLS_MEANING };

/** "2026-12-03 20:04:50 UTC" */
export const when = (iso: string | null): string => (iso === null ? '—' : `${iso.slice(0, 19).replace('T', ' ')} UTC`);

export const partyTitle = (p: { name: string | null; domain: string }): string => `${p.name ?? 'no rule'} — ${p.domain}`;

export const plural = (n: number, word: string): string =>
  `${n} ${n === 1 ? word : word.endsWith('party') ? word.slice(0, -1) + 'ies' : word + 's'}`;

/**
 * Rule texts (why, cite, remediation) mark settings as `code`; the renderers keep those spans.
 * Only rule packs' text goes through this, never captured data.
 */
export function codeSpans(text: string): Array<{ readonly code: boolean; readonly text: string }> {
  return text.split(/(`[^`\n]+`)/).filter((t) => t !== '').map((t) => (/^`[^`]+`$/.test(t) ? { code: true, text: t.slice(1, -1) } : { code: false, text: t }));
}

/** "3 sent, 1 answered, 2 prevented" (zeros left out; "none" when all are zero). */
export function kindCounts(k: KindCount): string {
  const parts = [k.sent ? `${k.sent} sent` : '', k.answered ? `${k.answered} answered` : '', k.prevented ? `${k.prevented} prevented` : ''].filter(Boolean);
  return parts.join(', ') || 'none delivered';
}

export function summarySentence(r: Report): string {
  const left = r.summary.kinds.filter((k) => k.sent > 0);
  const prevented = r.summary.kinds.filter((k) => k.prevented > 0);
  const kinds = left.length ? `${plural(left.length, 'kind')} of personal data left this machine: ${left.map((k) => `${k.kind} (${k.sent})`).join(', ')}.` : 'No personal data was found leaving this machine.';
  const stopped = prevented.length ? ` leakwatch prevented ${prevented.map((k) => `${k.kind} (${k.prevented})`).join(', ')}.` : '';
  const extra = [
    r.dnsOnly.length ? plural(r.dnsOnly.length, 'DNS-only contact') : '',
    r.stunOnly.length ? plural(r.stunOnly.length, 'STUN-only contact') : '',
    r.tlsFailures.length ? `${plural(r.tlsFailures.length, 'host')} with TLS failures` : '',
  ].filter(Boolean);
  return `${plural(r.summary.parties, 'third party')} contacted${extra.length ? ` (plus ${extra.join(', ')})` : ''}. ${kinds}${stopped}`;
}

export function partyFacts(p: Party): Array<[string, string]> {
  return [
    ['Severity', p.severity],
    ['Category', p.categories.join(', ') || '—'],
    ['Hosts', p.hosts.join(', ')],
    ['Exchanges', `${p.exchanges} (${p.reached} reached it)`],
    ['First seen', when(p.firstSeen)],
    ['Last seen', when(p.lastSeen)],
    ['Clients', p.clients.filter((c) => c.address).map((c) => `${c.address} (${c.exchanges})`).join(', ') || '—'],
    ['User agents', p.userAgents.map((u) => `${u.family} (${u.exchanges})`).join(', ') || '—'],
  ];
}

export function contactFacts(c: Contact): string {
  const kinds = c.kinds.length ? `; learns ${c.kinds.map((k) => `${k.kind} (${kindCounts(k)})`).join(', ')}` : '';
  return `${plural(c.count, 'contact')} to ${c.hosts.join(', ')} from ${c.clients.filter(Boolean).join(', ') || '—'}, ${when(c.firstSeen)} to ${when(c.lastSeen)}${kinds}`;
}

export function methodFacts(r: Report): Array<[string, string]> {
  const m = r.method;
  const packs = m.packs.map((p) => `${p.pack} (format v${p.version}${p.sha256 ? `, sha256 ${p.sha256}` : ''})`).join(', ') || 'none';
  const source = m.source.type === 'har' ? `HAR file ${m.source.file}` : `session${m.source.sessions.length === 1 ? '' : 's'} ${m.source.sessions.join(', ') || '(all)'}`;
  return [
    ['leakwatch', m.leakwatchVersion],
    ['Rule packs', packs],
    ['Source', source],
    ['Capture window', `${when(m.window.from)} to ${when(m.window.to)}`],
    ['Mode', m.mode === 'unknown' ? 'unknown (no rule acted on any exchange)' : m.mode],
    ['Recorded', `${plural(m.exchanges, 'exchange')}, ${plural(m.findings, 'finding')}`],
    ['Values', m.redacted ? 'all masked (--redact)' : 'masked unless declared with --identity'],
    ['Evidence', `up to ${m.evidencePerParty} exchanges per party (most findings first); User-Agent families from up to ${m.userAgentSample} exchanges per party`],
    ['Generated', when(r.generatedAt)],
  ];
}

export const COUNT_MEANING =
  'sent: the party received it; answered: it came back in the party\'s response; prevented: leakwatch stopped it (enforce mode). In observe mode, would-block and friends were still sent.';
