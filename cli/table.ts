/**
 * The readable form of `analyze` without --json: one line per exchange that went to a third party or
 * leaked something, then its leaks indented below. Plain text, no colours (pipes and logs stay clean).
 */
import type { ExchangeJson } from '../core/exchange-json.js';

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export function formatTable(rows: readonly ExchangeJson[]): string {
  const lines: string[] = [];
  let flagged = 0;
  let leaks = 0;
  for (const r of rows) {
    if (r.rule === null && r.leaks.length === 0) continue;
    flagged++;
    leaks += r.leaks.length;
    const who = r.party ? `${r.category} · ${r.party}` : 'unclassified';
    lines.push(`#${r.index ?? r.id ?? '?'} ${r.method} ${clip(r.url, 100)}`);
    lines.push(`    → ${who}  [${r.severity}, ${r.verdict}]${r.rule ? `  rule ${r.rule}` : ''}`);
    for (const l of r.leaks) lines.push(`      ${l.kind.padEnd(16)} ${clip(l.value, 60).padEnd(60)} ${l.where} (${l.method})`);
  }
  lines.push(`${rows.length} exchanges, ${flagged} to third parties or leaking, ${leaks} leaks`);
  return `${lines.join('\n')}\n`;
}
