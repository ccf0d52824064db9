/**
 * The report as one self-contained HTML file: inline CSS, no script, no image, no font, no link
 * to anything outside the file (only #anchors), so it opens offline, makes no request that would
 * tell anyone it was read, and prints to PDF from any browser. Every captured string is escaped.
 */
import type { Evidence, KindCount, Party, Report } from './model.js';
import { codeSpans, contactFacts, COUNT_MEANING, methodFacts, partyFacts, partyTitle, SECTIONS, STUN_MEANING, summarySentence, TLS_MEANING, when } from './text.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root{color-scheme:light;--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--mark:#fff1a8;--high:#b42318;--medium:#b54708;--low:#1d6fb8}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);max-width:60rem;margin:2rem auto;padding:0 1.25rem}
h1{font-size:1.7rem;margin:0 0 .25rem}h2{font-size:1.3rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.1rem;margin:1.6rem 0 .4rem}
.muted{color:var(--muted)}
nav ol{padding-left:1.3rem}nav li{margin:.1rem 0}
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0 .8rem}dt{color:var(--muted)}dd{margin:0}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
mark{background:var(--mark);padding:0 .1rem}
.sev{font-weight:600;text-transform:uppercase;font-size:.8rem}.sev-high{color:var(--high)}.sev-medium{color:var(--medium)}.sev-low{color:var(--low)}
.party{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .6rem;margin:1rem 0}
.stop{border-left:4px solid #1a7f37;background:#f0fff4;padding:.4rem .8rem;margin:.5rem 0}
.party table{width:auto;min-width:50%}
.ev{margin:.3rem 0 .8rem}.ev ul{margin:.2rem 0}
@media print{body{max-width:none;margin:0;font-size:12px}.party,table,.ev{break-inside:avoid}a{color:inherit;text-decoration:none}nav{break-after:page}}
`;

/** Rule text: its `code` spans as <code>, the rest escaped. */
const rule = (s: string): string => codeSpans(s).map((p) => (p.code ? `<code>${esc(p.text)}</code>` : esc(p.text))).join('');

const facts = (rows: ReadonlyArray<readonly [string, string]>): string => `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
const sev = (s: string): string => `<span class="sev sev-${esc(s)}">${esc(s)}</span>`;

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: ReadonlySet<number> = new Set()): string {
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

function kindTable(kinds: readonly KindCount[]): string {
  return table(['data', 'sent', 'answered', 'prevented'], kinds.map((k) => [esc(k.kind), String(k.sent), String(k.answered), String(k.prevented)]), new Set([1, 2, 3]));
}

/** The text with every occurrence of the shown values wrapped in <mark> (escaped piecewise). */
export function highlight(text: string, values: readonly string[]): string {
  const vs = [...new Set(values.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  if (vs.length === 0) return esc(text);
  let out = '';
  let i = 0;
  while (i < text.length) {
    let hit: string | undefined;
    let at = text.length;
    for (const v of vs) {
      const j = text.indexOf(v, i);
      if (j !== -1 && (j < at || (j === at && v.length > (hit?.length ?? 0)))) (at = j), (hit = v);
    }
    if (hit === undefined) break;
    out += esc(text.slice(i, at)) + `<mark>${esc(hit)}</mark>`;
    i = at + hit.length;
  }
  return out + esc(text.slice(i));
}

function evidence(e: Evidence): string {
  const url = highlight(`${e.method} ${e.url}`, e.findings.map((f) => f.value));
  const items = e.findings
    .map((f) => `<li>${esc(f.kind)}: <mark><code>${esc(f.value)}</code></mark>${f.masked ? ' <span class="muted">(masked)</span>' : ''} in <code>${esc(f.where)}</code></li>`)
    .join('');
  return `<li class="ev"><code>${url}</code><br><span class="muted">${esc(`${e.status ?? 'no response'}, ${e.verdict}, ${when(e.time)}, from ${e.client || '—'}`)}</span><ul>${items}</ul></li>`;
}

function party(p: Party): string {
  const parts = [`<section class="party" id="${esc(p.anchor)}"><h3>${esc(partyTitle(p))} ${sev(p.severity)}</h3>`, facts(partyFacts(p))];
  parts.push(p.kinds.length ? `<p>What it learned:</p>${kindTable(p.kinds)}` : '<p>No personal data found in these exchanges (the party still learned your IP address and that you use it).</p>');
  for (const r of p.rules) {
    parts.push(`<p>Rule <code>${esc(r.id)}</code></p>`);
    if (r.why) parts.push(`<p><strong>Why it matters:</strong> ${rule(r.why)}</p>`);
    if (r.cite) parts.push(`<p><strong>Source:</strong> ${rule(r.cite)}</p>`);
    parts.push(`<p class="stop"><strong>What stops it:</strong> ${r.remediation ? rule(r.remediation) : 'this rule is not in the loaded packs'}</p>`);
  }
  if (p.rules.length === 0) parts.push('<p class="stop"><strong>What stops it:</strong> no rule describes this host; block it with <code>--block HOST</code> (enforce mode) or find the setting that contacts it.</p>');
  if (p.evidence.length) parts.push(`<p>Evidence:</p><ol>${p.evidence.map(evidence).join('')}</ol>`);
  return parts.join('\n') + '</section>';
}

const contact = (c: Report['dnsOnly'][number], prefix: string): string =>
  `<li><strong>${esc(partyTitle(c))}:</strong> ${esc(contactFacts(c))}.${c.remediation ? ` ${esc(prefix)}${rule(c.remediation)}` : ''}</li>`;

export function renderHtml(r: Report): string {
  const s = SECTIONS;
  const toc = [
    `<li><a href="#${s.summary.id}">${s.summary.title}</a></li>`,
    `<li><a href="#${s.parties.id}">${s.parties.title}</a><ol>${r.parties.map((p) => `<li><a href="#${esc(p.anchor)}">${esc(partyTitle(p))}</a></li>`).join('')}</ol></li>`,
    ...[s.dns, s.stun, s.tls, s.method].map((x) => `<li><a href="#${x.id}">${x.title}</a></li>`),
  ].join('');
  const worst = r.summary.worst.length
    ? `<p>Worst findings first:</p>${table(['severity', 'party', 'data', 'sent', 'prevented'], r.summary.worst.map((w) => [sev(w.severity), `<a href="#${esc(w.anchor)}">${esc(partyTitle(w))}</a>`, esc(w.kind), String(w.sent), String(w.prevented)]), new Set([3, 4]))}`
    : '';
  const body = [
    `<header><h1>Privacy report: ${esc(r.title)}</h1><p class="muted">Generated ${esc(when(r.generatedAt))} by leakwatch ${esc(r.method.leakwatchVersion)}</p></header>`,
    `<nav aria-label="Contents"><h2>Contents</h2><ol>${toc}</ol></nav>`,
    `<main>`,
    `<section id="${s.summary.id}"><h2>${s.summary.title}</h2><p>${esc(summarySentence(r))}</p>${worst}<p class="muted">${rule(COUNT_MEANING)}</p></section>`,
    `<section id="${s.parties.id}"><h2>${s.parties.title}</h2>${r.parties.length ? r.parties.map(party).join('\n') : '<p>None.</p>'}</section>`,
    `<section id="${s.dns.id}"><h2>${s.dns.title}</h2>${r.dnsOnly.length ? `<ul>${r.dnsOnly.map((c) => contact(c, '')).join('')}</ul>` : '<p>None.</p>'}</section>`,
    `<section id="${s.stun.id}"><h2>${s.stun.title}</h2>${r.stunOnly.length ? `<p>${rule(STUN_MEANING)}</p><ul>${r.stunOnly.map((c) => contact(c, 'What stops it: ')).join('')}</ul>` : '<p>None.</p>'}</section>`,
    `<section id="${s.tls.id}"><h2>${s.tls.title}</h2>${
      r.tlsFailures.length
        ? `<p>${rule(TLS_MEANING)}</p>${table(['host', 'failures', 'clients', 'errors', 'first seen', 'last seen'], r.tlsFailures.map((t) => [esc(t.host), String(t.count), esc(t.clients.join(', ')), esc(t.errors.join(', ') || '—'), esc(when(t.firstSeen)), esc(when(t.lastSeen))]), new Set([1]))}`
        : '<p>None: every client that connected accepted leakwatch\'s certificate.</p>'
    }</section>`,
    `<section id="${s.method.id}"><h2>${s.method.title}</h2>${facts(methodFacts(r))}</section>`,
    `</main>`,
  ].join('\n');
  // The CSP makes "no request" a property of the file, not only of this renderer.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(`Privacy report: ${r.title}`)}</title>
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`;
}
