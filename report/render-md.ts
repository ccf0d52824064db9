/**
 * The report as Markdown (GitHub/GitLab flavoured), for issue trackers. Same content and order as
 * the HTML. Every captured string is escaped: a host or URL must not become a link or a table cell.
 */
import type { Evidence, KindCount, Party, Report } from './model.js';
import { codeSpans, contactFacts, COUNT_MEANING, methodFacts, partyFacts, partyTitle, SECTIONS, STUN_MEANING, summarySentence, TLS_MEANING, when } from './text.js';

/** Escape Markdown and HTML specials in running text and table cells. */
export function mdText(s: string): string {
  return s
    .replace(/[\\`*_[\]|~]/g, (c) => '\\' + c)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

/** A code span that survives backticks inside it. */
export function mdCode(s: string): string {
  const flat = s.replace(/\r?\n/g, ' ');
  const runs = flat.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Rule text: its `code` spans kept, the rest escaped. */
const mdRule = (s: string): string => codeSpans(s).map((p) => (p.code ? mdCode(p.text) : mdText(p.text))).join('');

const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)];
}

function kindTable(kinds: readonly KindCount[]): string[] {
  return table(['data', 'sent', 'answered', 'prevented'], kinds.map((k) => [mdText(k.kind), String(k.sent), String(k.answered), String(k.prevented)]));
}

function evidence(e: Evidence, i: number): string[] {
  const head = `${i + 1}. ${mdCode(`${e.method} ${e.url}`)} → ${e.status ?? 'no response'}, ${mdText(e.verdict)}, ${when(e.time)}, from ${mdText(e.client || '—')}`;
  return [head, ...e.findings.map((f) => `    - ${mdText(f.kind)} **${mdCode(f.value)}**${f.masked ? ' (masked)' : ''} in ${mdCode(f.where)}`)];
}

function party(p: Party): string[] {
  const out = [`### <a id="${p.anchor}"></a>${mdText(partyTitle(p))}`, ''];
  out.push(...partyFacts(p).map(([k, v]) => `- **${k}:** ${mdText(v)}`), '');
  if (p.kinds.length) out.push('What it learned:', '', ...kindTable(p.kinds), '');
  else out.push('No personal data found in these exchanges (the party still learned your IP address and that you use it).', '');
  for (const r of p.rules) {
    out.push(`Rule ${mdCode(r.id)}:`, '');
    if (r.why) out.push(`- **Why it matters:** ${mdRule(r.why)}`);
    if (r.cite) out.push(`- **Source:** ${mdRule(r.cite)}`);
    out.push(`- **What stops it:** ${r.remediation ? mdRule(r.remediation) : 'this rule is not in the loaded packs'}`, '');
  }
  if (p.rules.length === 0) out.push('- **What stops it:** no rule describes this host; block it with `--block HOST` (enforce mode) or find the setting that contacts it.', '');
  if (p.evidence.length) out.push('Evidence:', '', ...p.evidence.flatMap(evidence), '');
  return out;
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [`# Privacy report: ${mdText(r.title)}`, ''];
  out.push('Contents:', '');
  out.push(`- [${SECTIONS.summary.title}](#${SECTIONS.summary.id})`, `- [${SECTIONS.parties.title}](#${SECTIONS.parties.id})`);
  for (const p of r.parties) out.push(`  - [${mdText(partyTitle(p))}](#${p.anchor})`);
  for (const s of [SECTIONS.dns, SECTIONS.stun, SECTIONS.tls, SECTIONS.method]) out.push(`- [${s.title}](#${s.id})`);
  out.push('');

  out.push(`## <a id="${SECTIONS.summary.id}"></a>${SECTIONS.summary.title}`, '', mdText(summarySentence(r)), '');
  if (r.summary.worst.length) {
    out.push('Worst findings first:', '');
    out.push(...table(['severity', 'party', 'data', 'sent', 'prevented'], r.summary.worst.map((w) => [w.severity, `[${mdText(partyTitle(w))}](#${w.anchor})`, mdText(w.kind), String(w.sent), String(w.prevented)])), '');
  }
  out.push(mdRule(COUNT_MEANING), '');

  out.push(`## <a id="${SECTIONS.parties.id}"></a>${SECTIONS.parties.title}`, '');
  if (r.parties.length === 0) out.push('None.', '');
  for (const p of r.parties) out.push(...party(p));

  out.push(`## <a id="${SECTIONS.dns.id}"></a>${SECTIONS.dns.title}`, '');
  if (r.dnsOnly.length === 0) out.push('None.', '');
  for (const c of r.dnsOnly) out.push(`- **${mdText(partyTitle(c))}:** ${mdText(contactFacts(c))}.${c.remediation ? ` ${mdRule(c.remediation)}` : ''}`);
  if (r.dnsOnly.length) out.push('');

  out.push(`## <a id="${SECTIONS.stun.id}"></a>${SECTIONS.stun.title}`, '');
  if (r.stunOnly.length === 0) out.push('None.', '');
  else out.push(mdRule(STUN_MEANING), '');
  for (const c of r.stunOnly) out.push(`- **${mdText(partyTitle(c))}:** ${mdText(contactFacts(c))}.${c.remediation ? ` What stops it: ${mdRule(c.remediation)}` : ''}`);
  if (r.stunOnly.length) out.push('');

  out.push(`## <a id="${SECTIONS.tls.id}"></a>${SECTIONS.tls.title}`, '');
  if (r.tlsFailures.length === 0) out.push('None: every client that connected accepted leakwatch\'s certificate.', '');
  else {
    out.push(mdRule(TLS_MEANING), '');
    out.push(...table(['host', 'failures', 'clients', 'errors', 'first seen', 'last seen'], r.tlsFailures.map((t) => [mdText(t.host), String(t.count), mdText(t.clients.join(', ')), mdText(t.errors.join(', ') || '—'), when(t.firstSeen), when(t.lastSeen)])), '');
  }

  out.push(`## <a id="${SECTIONS.method.id}"></a>${SECTIONS.method.title}`, '');
  out.push(...methodFacts(r).map(([k, v]) => `- **${k}:** ${mdText(v)}`), '');
  return out.join('\n');
}
