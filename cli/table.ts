/**
 * The readable form of `analyze` without --json: one line per exchange that went to a third party or
 * leaked something, then its leaks indented below. Plain text, no colours (pipes and logs stay clean);
 * captured text has its control characters escaped (core/terminal.ts).
 */
import type { ExchangeJson } from '../core/exchange-json.js';
import { escapeForTerminal as esc } from '../core/terminal.js';

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export function formatTable(rows: readonly ExchangeJson[]): string {
  const lines: string[] = [];
  let flagged = 0;
  let leaks = 0;
  for (const r of rows) {
    if (r.rule === null && r.leaks.length === 0) continue;
    flagged++;
    leaks += r.leaks.length;
    const who = r.party ? `${esc(String(r.category))} · ${esc(r.party)}` : 'unclassified';
    lines.push(`#${r.index ?? r.id ?? '?'} ${esc(r.method)} ${clip(esc(r.url), 100)}`);
    lines.push(`    → ${who}  [${r.severity}, ${r.verdict}]${r.rule ? `  rule ${esc(r.rule)}` : ''}`);
    for (const l of r.leaks) lines.push(`      ${esc(l.kind).padEnd(16)} ${clip(esc(l.value), 60).padEnd(60)} ${esc(l.where)} (${esc(l.method)})`);
  }
  lines.push(`${rows.length} exchanges, ${flagged} to third parties or leaking, ${leaks} leaks`);
  return `${lines.join('\n')}\n`;
}
