/** The readable table on stdout (markdown, so it can be pasted into the README as is). */
import type { Report } from './report.js';
import type { ComboSummary } from './stats.js';

const f = (v: unknown, d = 0): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const sign = (v: unknown, d = 2): string => (typeof v === 'number' && Number.isFinite(v) ? (v >= 0 ? '+' : '') + v.toFixed(d) : '–');

export function printReport(rep: Report): void {
  const out: string[] = [];
  const p = (s = ''): void => void out.push(s);
  const c = rep.config;
  p(`## leakwatch bench — ${rep.mode} mode, ${rep.date}`);
  p(`${rep.machine.cpus} CPUs (${rep.machine.cpu ?? '?'}), Node ${rep.machine.node}; ${c.rounds} round(s) interleaved, ` +
    `${c.warmup_ms} ms warm-up + ${c.window_ms} ms window per run; medians over rounds; ratios paired per round.`);
  for (const [t, why] of Object.entries(rep.skipped)) p(`**${t} skipped:** ${why}`);
  const names = Object.keys(rep.targets);
  for (const combo of ['small_c50', 'big_c50', 'small_c1', 'big_c1']) {
    const [body, conc] = combo.split('_c');
    p();
    p(`### ${body === 'small' ? '318 B JSON' : '100 KB'} body, ${conc} connection(s)`);
    p('| target | req/s | min–max | p50 ms | p99 ms | proxy CPU µs/req | RSS MB | ÷ direct req/s | +p50 ms | +p99 ms | errors |');
    p('|---|---|---|---|---|---|---|---|---|---|---|');
    const row = rep.ratios.by_combo[combo] ?? {};
    for (const t of names) {
      const s = rep.targets[t]?.[combo] as ComboSummary | null | undefined;
      if (!s) continue;
      const dir = t === 'direct';
      p(`| ${t} | ${f(s.rps)} | ${f(s.rps_min)}–${f(s.rps_max)} | ${f(s.p50_ms, 2)} | ${f(s.p99_ms, 2)} | ${f(s.cpu_us_per_req)} | ` +
        `${f(s.rss_mb)} | ${dir ? '1.000' : f(row[`${t}_vs_direct_rps`], 3)} | ${dir ? '' : sign(row[`${t}_added_p50_ms`])} | ` +
        `${dir ? '' : sign(row[`${t}_added_p99_ms`])} | ${s.errors}${s.first_error ? ` (${s.first_error.slice(0, 60)})` : ''} |`);
    }
  }
  p();
  p('### leakwatch ÷ others (paired per round, median)');
  p('| load | ÷ mitmdump req/s | ÷ mitmdump CPU/req | ÷ hmp req/s | ÷ hmp CPU/req | ÷ direct req/s |');
  p('|---|---|---|---|---|---|');
  for (const [combo, row] of Object.entries(rep.ratios.by_combo)) {
    p(`| ${combo} | ${f(row.leakwatch_vs_mitmdump_rps, 2)} | ${f(row.leakwatch_vs_mitmdump_cpu_per_req, 2)} | ` +
      `${f(row.leakwatch_vs_hmp_rps, 2)} | ${f(row.leakwatch_vs_hmp_cpu_per_req, 2)} | ${f(row.leakwatch_vs_direct_rps, 3)} |`);
  }
  p();
  p('### First request to a never-seen host (new connection each)');
  p('| target | sequential p50 ms | burst of 20: wall ms | burst: slowest ms | errors |');
  p('|---|---|---|---|---|');
  for (const t of names) {
    const x = rep.targets[t] as Record<string, unknown>;
    p(`| ${t} | ${f(x.new_host_ms_p50, 1)} | ${f(x.new_host_burst20_ms)} | ${f(x.new_host_burst_slowest_ms)} | ${f(x.new_host_errors)} |`);
  }
  p();
  const rd = rep.rss_detail;
  p(`### Memory: fresh leakwatch, small body at 50 connections${rep.rss_requests.note ? ` (${rep.rss_requests.note})` : ''}`);
  p(rd ? rd.checkpoints.map((x) => `${x.requests} req: ${f(x.rss_mb)} MB`).join(' → ') : '(not measured)');
  const lwExtra = (rep.targets.leakwatch as Record<string, unknown> | undefined)?.extra as Record<string, unknown> | undefined;
  for (const [label, ex] of [['during rounds', lwExtra], ['memory run', rd?.extra]] as const) {
    if (!ex) continue;
    const ws = ex.ws as Record<string, unknown> | undefined;
    const m = ex.metrics as Record<string, unknown> | string | undefined;
    const mm = typeof m === 'object' && m ? m : {};
    p(`leakwatch ${label}: stream client got ${f(ws?.messages)} frames / ${f(ws?.items)} flow items (gaps ${f(ws?.gaps)}); ` +
      `flows ${f(mm.flows_total)}, findings ${f(typeof m === "object" && m ? (mm.findings_by_kind_total ?? 0) : null)}, recorder written ${f(mm.recorder_written_total)}, ` +
      `dropped ${f(mm.recorder_dropped_total)}, queued ${f(mm.recorder_queue_depth)}${typeof m === 'string' ? ` (${m})` : ''}`);
  }
  p();
  p(`### Store (${rep.store.findings} synthetic findings${rep.store.label ? '; ' + rep.store.label : ''})`);
  p(`ingest ${f(rep.store.ingest_total_rows_per_s)} rows/s = ${f(rep.store.ingest_rows_per_s)} exchanges/s + ` +
    `${f(rep.store.ingest_findings_per_s)} findings/s (${f(rep.store.ingest_rows_per_cpu_s)} exchanges per CPU-second); ` +
    `summary ${f(rep.store.summary_query_ms, 2)} ms (cold ${f(rep.store.summary_query_cold_ms, 2)}); ` +
    `timeline ${f(rep.store.timeline_query_ms, 2)} ms; flow list by kind ${f(rep.store.list_flows_ms, 2)} ms` +
    (rep.store.note ? `\n${rep.store.note}` : ''));
  p();
  p('### Issue 8 targets (leakwatch)');
  p('| target | value | limit | met |');
  p('|---|---|---|---|');
  for (const ch of rep.checks) p(`| ${ch.what} | ${f(ch.value, 2)} | ${ch.limit} | ${ch.ok === null ? '–' : ch.ok ? 'yes' : '**no**'} |`);
  p();
  p('Host mapping (no /etc/hosts edits): ' + Object.entries(rep.host_mapping).map(([t, m]) => `${t}: ${m}`).join('; '));
  process.stdout.write(out.join('\n') + '\n');
}
