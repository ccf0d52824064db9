/**
 * Where a report's records come from: a store (sessions, time window) or a HAR file (run through
 * the same audit as the live proxy, into a throw-away in-memory store, so both paths share every
 * query and the builder). I/O lives here; report/build.ts stays pure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { VERSION } from '../cli/version.js';
import { ConfigError } from '../core/errors.js';
import { harToExchanges } from '../core/har.js';
import { auditExchange } from '../rules/audit.js';
import { firstPartySet } from '../rules/classify.js';
import { knownValuesFromFlags } from '../rules/identities.js';
import { builtinPackPaths, loadPacks } from '../rules/load.js';
import { compileRuleset } from '../rules/compile.js';
import type { Rule, RulePack } from '../rules/types.js';
import { dbPath, openStore, type Store } from '../store/db.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { createReportQueries, type ReportScope } from '../store/report-queries.js';
import { createWriter } from '../store/write.js';
import { buildReport, partyKeys } from './build.js';
import type { Report, ReportMethod } from './model.js';
import { renderReport, type ReportFormat } from './render.js';

export const DEFAULT_EVIDENCE = 3;
export const UA_SAMPLE = 200;

export interface ReportSettings {
  /** `--identity kind=value` and `--identities FILE`: values shown in clear (unless redact). */
  readonly identity?: readonly string[];
  readonly identities?: readonly string[];
  readonly redact?: boolean;
  readonly rules?: readonly string[];
  readonly builtinRules?: boolean;
  /** Evidence exchanges per party (1 to 3 in the documents; any n ≥ 0 here). */
  readonly evidence?: number;
  readonly now?: number;
}

export interface LoadedPacks {
  readonly packs: readonly RulePack[];
  readonly rules: ReadonlyMap<string, Rule>;
}

export function loadReportPacks(s: Pick<ReportSettings, 'rules' | 'builtinRules'>): LoadedPacks {
  const packs = loadPacks([...(s.builtinRules === false ? [] : builtinPackPaths()), ...(s.rules ?? [])]);
  const rules = new Map<string, Rule>();
  for (const p of packs) for (const r of p.rules) rules.set(r.id, r);
  return { packs, rules };
}

function packFacts(packs: readonly RulePack[]): ReportMethod['packs'] {
  return packs.map((p) => {
    let sha256 = '';
    try {
      sha256 = createHash('sha256').update(readFileSync(p.file)).digest('hex').slice(0, 16);
    } catch {
      // a pack given as text (tests): no file to fingerprint
    }
    return { pack: p.pack, version: p.version, file: basename(p.file), sha256 };
  });
}

function declaredValues(s: ReportSettings): Set<string> {
  const index = knownValuesFromFlags(s.identity ?? [], s.identities ?? []);
  return new Set(index.identities.map((i) => i.value.toLowerCase()));
}

/** The report over an open store. Throws ConfigError when the scope holds nothing. */
export function reportFromStore(
  store: Store,
  scope: ReportScope,
  s: ReportSettings,
  packs: LoadedPacks,
  source: ReportMethod['source'],
  title: string,
): Report {
  const q = createReportQueries(store);
  const totals = q.totals(scope);
  if (totals.exchanges === 0) {
    const what = source.type === 'store' && source.sessions.length > 0 ? `session ${source.sessions.map((x) => `"${x}"`).join(', ')}` : 'the store';
    throw new ConfigError(`nothing to report: ${what} has no recorded exchanges${scope.since !== undefined || scope.until !== undefined ? ' in that time window' : ''}`);
  }
  const groups = q.groups(scope);
  const n = Math.max(0, Math.floor(s.evidence ?? DEFAULT_EVIDENCE));
  const perParty = new Map<string, { evidence: ReturnType<typeof q.evidence>; userAgents: string[] }>();
  for (const p of partyKeys(groups)) {
    perParty.set(p.key, { evidence: q.evidence(scope, p.party, p.hosts, n), userAgents: q.userAgents(scope, p.party, p.hosts, UA_SAMPLE) });
  }
  return buildReport(
    { totals, groups, kinds: q.kinds(scope), clients: q.clients(scope), tlsFailures: q.tlsFailures(scope), perParty },
    {
      title,
      now: s.now ?? Date.now(),
      declared: declaredValues(s),
      redact: s.redact ?? false,
      rules: packs.rules,
      method: { leakwatchVersion: VERSION, packs: packFacts(packs.packs), source, evidencePerParty: n, userAgentSample: UA_SAMPLE },
    },
  );
}

/**
 * Open a data dir's store for reading a report. A file of an older schema is migrated (the
 * ladder is forward-only and keeps every row), and the caller is told; a newer one is refused.
 */
export function openReportStore(dataDir: string, note: (line: string) => void = () => {}): Store {
  const file = dbPath(dataDir);
  if (!existsSync(file)) throw new ConfigError(`no recordings: ${file} does not exist (start leakwatch first, or pass --data-dir)`);
  let version: number;
  try {
    const probe = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const meta = probe.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
      version = meta ? Number((probe.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value ?? 0) : 0;
    } finally {
      probe.close();
    }
  } catch (err: unknown) {
    throw new ConfigError(`${file}: not a leakwatch database (${(err as Error).message})`);
  }
  if (version > SCHEMA_VERSION) {
    throw new ConfigError(`${file}: database schema v${version} is newer than this leakwatch (v${SCHEMA_VERSION}); upgrade leakwatch to read it`);
  }
  if (version === 0) throw new ConfigError(`${file}: not a leakwatch database (no schema version)`);
  try {
    const store = openStore(file);
    // The report's GROUP BYs sort up to a row per finding: on disk, not in memory (a million
    // findings would otherwise cost ~100 MB of sorter memory), so the report stays small.
    store.db.pragma('temp_store = FILE');
    if (version < SCHEMA_VERSION) note(`leakwatch: ${file}: migrated the database from schema v${version} to v${SCHEMA_VERSION}`);
    return store;
  } catch (err: unknown) {
    throw new ConfigError(`${file}: cannot open the database (${(err as Error).message})`);
  }
}

/** Session references (name or id) to ids; an unknown one is a ConfigError naming it. */
export function resolveSessions(store: Store, refs: readonly string[]): Array<{ id: number; name: string }> {
  const q = createReportQueries(store);
  return refs.map((ref) => {
    const s = q.session(ref);
    if (!s) {
      const known = q.sessions().slice(0, 10).map((x) => x.name);
      throw new ConfigError(`unknown session "${ref}"${known.length ? ` (known: ${known.join(', ')})` : ' (the store has no sessions)'}`);
    }
    return { id: s.id, name: s.name };
  });
}

/** A HAR file read into a throw-away in-memory store, through the live proxy's audit. */
export function storeFromHar(file: string, s: ReportSettings & { readonly firstParty?: readonly string[] }, packs: LoadedPacks): Store {
  let har: unknown;
  try {
    har = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err: unknown) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`--har ${file}: ${e.code ? e.message : `not JSON (${e.message})`}`);
  }
  const entries = (har as { log?: { entries?: unknown } } | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new ConfigError(`--har ${file}: not a HAR file (log.entries is missing)`);
  const { exchanges } = harToExchanges(har);
  if (exchanges.length === 0) throw new ConfigError(`--har ${file}: nothing to report (the HAR has no usable entries)`);
  const ctx = {
    ruleset: compileRuleset(packs.packs),
    firstParty: firstPartySet(s.firstParty ?? []),
    known: knownValuesFromFlags(s.identity ?? [], s.identities ?? []),
    mode: 'observe' as const,
  };
  const store = openStore(':memory:');
  try {
    const session = store.openSession(basename(file));
    const write = createWriter(store, { sessionId: session.id, storeBodies: 'leaks', redact: false, redactKey: randomBytes(32) });
    // HAR exchange ids are positions in the file: unique, as the store's keys need.
    for (let i = 0; i < exchanges.length; i += 500) {
      write(exchanges.slice(i, i + 500).map((ex) => ({ exchange: { ...ex, id: ex.id + 1 }, audit: auditExchange(ex, ctx) })));
    }
    return store;
  } catch (err: unknown) {
    store.close();
    throw err;
  }
}

/** A report of one session (or of everything) in one format, for the dashboard. */
export type ReportSource = (q: ReportQuery) => Promise<string>;
export interface ReportQuery {
  readonly session?: string;
  readonly format: ReportFormat;
}

/**
 * One report over a store file, on its own connection. Rule packs are read per report, so an
 * edited pack shows up without a restart. Synchronous: callers on the proxy's thread go through
 * createReportSource, which runs this in a worker.
 */
export function renderStoreReport(file: string, q: ReportQuery, s: ReportSettings): string {
  const store = openStore(file);
  try {
    store.db.pragma('temp_store = FILE'); // see openReportStore
    const sessions = q.session !== undefined ? resolveSessions(store, [q.session]) : [];
    const names = sessions.map((x) => x.name);
    const report = reportFromStore(
      store,
      sessions.length ? { sessions: sessions.map((x) => x.id) } : {},
      s,
      loadReportPacks(s),
      { type: 'store', sessions: names },
      names.length ? names.join(', ') : 'all sessions',
    );
    return renderReport(report, q.format);
  } finally {
    store.close();
  }
}

/** The worker script: beside this file in the build, or the build's copy when running from sources. */
function workerScript(): URL | null {
  const beside = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/report/worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/**
 * The running proxy's report source: a report of a million findings takes seconds of SQLite, so
 * each one runs in a worker thread with its own connection and never holds the proxy's event
 * loop. Errors come back as they were thrown: a ConfigError (unknown or empty session) stays one.
 */
export function createReportSource(file: string, s: ReportSettings): ReportSource {
  return (q) => {
    const script = workerScript();
    if (!script) return Promise.resolve().then(() => renderStoreReport(file, q, s));
    return new Promise((resolve, reject) => {
      const worker = new Worker(script, { workerData: { file, q, s } satisfies ReportJob });
      worker.once('message', (m: ReportReply) => {
        if ('body' in m) resolve(m.body);
        else reject(m.config ? new ConfigError(m.error) : new Error(m.error));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`report worker exited with code ${code}`)));
    });
  };
}

export interface ReportJob {
  readonly file: string;
  readonly q: ReportQuery;
  readonly s: ReportSettings;
}
export type ReportReply = { readonly body: string } | { readonly error: string; readonly config: boolean };
