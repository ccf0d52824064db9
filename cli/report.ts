/**
 * `leakwatch report`: the privacy report of recorded sessions (or of a HAR file) as HTML, Markdown
 * or JSON. The file is written 0600: it describes personal data even when masked.
 */
import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigError } from '../core/errors.js';
import { loadReportPacks, openReportStore, reportFromStore, resolveSessions, storeFromHar, type ReportSettings } from '../report/load.js';
import type { Report } from '../report/model.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render.js';
import type { Store } from '../store/db.js';
import { parseSince } from './export.js';


export interface ReportFlags {
  dataDir: string;
  session?: string[];
  since?: string;
  until?: string;
  format?: string;
  out?: string;
  redact?: boolean;
  har?: string;
  identity?: string[];
  identities?: string[];
  rules?: string[];
  builtinRules?: boolean;
  firstParty?: string[];
  evidence?: string;
  title?: string;
}

function formatOf(flags: ReportFlags): ReportFormat {
  if (flags.format !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(flags.format)) throw new ConfigError(`--format: "${flags.format}" is not one of ${REPORT_FORMATS.join(', ')}`);
    return flags.format as ReportFormat;
  }
  const ext = flags.out ? extname(flags.out).toLowerCase() : '';
  return ext === '.html' || ext === '.htm' ? 'html' : ext === '.json' ? 'json' : 'md';
}

function settingsOf(flags: ReportFlags): ReportSettings {
  let evidence: number | undefined;
  if (flags.evidence !== undefined) {
    evidence = Number(flags.evidence);
    if (!/^\d+$/.test(flags.evidence) || evidence < 1 || evidence > 3) throw new ConfigError(`--evidence: "${flags.evidence}" must be 1, 2 or 3`);
  }
  return {
    identity: flags.identity ?? [],
    identities: flags.identities ?? [],
    redact: flags.redact ?? false,
    rules: flags.rules ?? [],
    builtinRules: flags.builtinRules ?? true,
    ...(evidence !== undefined ? { evidence } : {}),
  };
}

/**
 * Build the report a flag set describes (a store's sessions and window, or a HAR file). Shared
 * with `leakwatch diff`, whose two sides are each such a source.
 */
export function buildReportFrom(source: { har: string } | { dataDir: string; sessions: readonly string[]; since?: number; until?: number }, flags: ReportFlags, note: (line: string) => void): Report {
  const s = settingsOf(flags);
  const packs = loadReportPacks(s);
  let store: Store;
  if ('har' in source) {
    store = storeFromHar(source.har, { ...s, firstParty: flags.firstParty ?? [] }, packs);
    try {
      return reportFromStore(store, {}, s, packs, { type: 'har', file: basename(source.har) }, flags.title ?? basename(source.har));
    } finally {
      store.close();
    }
  }
  store = openReportStore(source.dataDir, note);
  try {
    const sessions = resolveSessions(store, source.sessions);
    const scope = {
      ...(sessions.length ? { sessions: sessions.map((x) => x.id) } : {}),
      ...(source.since !== undefined ? { since: source.since } : {}),
      ...(source.until !== undefined ? { until: source.until } : {}),
    };
    const names = sessions.map((x) => x.name);
    return reportFromStore(store, scope, s, packs, { type: 'store', sessions: names }, flags.title ?? (names.length ? names.join(', ') : 'all sessions'));
  } finally {
    store.close();
  }
}

function parseUntil(value: string): number {
  try {
    return parseSince(value);
  } catch (e: unknown) {
    throw new ConfigError((e as Error).message.replace(/^--since/, '--until'));
  }
}

/** Writes the report to --out (0600) or to `out`. Returns the file written, if any. */
export function reportCommand(flags: ReportFlags, out: Writable, err: Writable): string | null {
  const format = formatOf(flags);
  const note = (line: string): void => void err.write(`${line}\n`);
  if (flags.har !== undefined && (flags.session?.length || flags.since !== undefined || flags.until !== undefined)) {
    throw new ConfigError('--har: a HAR file is reported whole; --session, --since and --until apply to recorded sessions');
  }
  const since = flags.since !== undefined ? parseSince(flags.since) : undefined;
  const until = flags.until !== undefined ? parseUntil(flags.until) : undefined;
  if (since !== undefined && until !== undefined && until <= since) throw new ConfigError('--until must be later than --since');
  const report = buildReportFrom(
    flags.har !== undefined
      ? { har: flags.har }
      : { dataDir: flags.dataDir, sessions: flags.session ?? [], ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) },
    flags,
    note,
  );
  const text = renderReport(report, format);
  if (flags.out === undefined) {
    out.write(text);
    return null;
  }
  try {
    writeFileSync(flags.out, text, { mode: 0o600 });
  } catch (e: unknown) {
    throw new ConfigError(`--out ${flags.out}: ${(e as Error).message}`);
  }
  note(`leakwatch: wrote the ${format} report (${report.summary.parties} parties) to ${flags.out}`);
  return flags.out;
}
