/**
 * `leakwatch analyze FILE.har`: the live pipeline's audit over a HAR 1.2 capture (browser devtools,
 * mitmproxy, Charles and leakwatch's own export all write HAR). `--json` prints exactly one object
 * per network entry, in entry order, `index` = position in log.entries; everything else goes to
 * stderr. data: and blob: entries (browsers record them) are skipped and counted.
 *
 * Exit codes are for CI jobs guarding a client's configuration: 0 analysed, 1 a `--fail-on` match
 * (a leak of that kind, or a rule at or above that severity), 2 nothing could be analysed (the file
 * is unreadable, not a HAR, or no entry is a valid network request) or a bad flag.
 */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Audit } from '../core/audit.js';
import { ConfigError } from '../core/errors.js';
import { isKind, KINDS, SEVERITIES, type Kind, type Severity } from '../core/vocabulary.js';
import type { Exchange } from '../core/exchange.js';
import { toExchangeJson, type ExchangeJson } from '../core/exchange-json.js';
import { harToExchanges } from '../core/har.js';
import { escapeForTerminal, terminalSafeJson } from '../core/terminal.js';
import { auditExchange, type AuditContext } from '../rules/audit.js';
import { firstPartySet } from '../rules/classify.js';
import { knownValuesFromFlags } from '../rules/identities.js';
import { loadRuleset } from '../rules/load.js';
import { formatTable } from './table.js';

export interface AnalyzeFlags {
  json?: boolean;
  rules?: string[];
  builtinRules?: boolean;
  firstParty?: string[];
  identity?: string[];
  identities?: string[];
  mode?: string;
  failOn?: string[];
}

export const EXIT = { ok: 0, failOn: 1, nothingAnalysed: 2 } as const;

function readHar(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new ConfigError(`${file}: not JSON (${(err as Error).message})`);
  }
}

function entryCount(file: string, har: unknown): number {
  const entries = (har as { log?: { entries?: unknown } } | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new ConfigError(`${file}: not a HAR file: log.entries is missing`);
  return entries.length;
}

const RANK: Record<Severity, number> = { none: 0, info: 1, low: 2, medium: 3, high: 4 };
const isSeverity = (s: string): s is Severity => (SEVERITIES as readonly string[]).includes(s) && s !== 'none';

/** `--fail-on KIND|SEVERITY`: a leak of that kind, or an exchange at or above that severity. */
export type FailOn = { readonly kind: Kind } | { readonly severity: Severity };

export function parseFailOn(values: readonly string[]): FailOn[] {
  return values.map((raw) => {
    const v = raw.trim().toLowerCase();
    if (isKind(v)) return { kind: v };
    if (isSeverity(v)) return { severity: v };
    throw new ConfigError(
      `--fail-on: unknown kind or severity ${JSON.stringify(raw)} (severities: ${SEVERITIES.filter((x) => x !== 'none').join(', ')}; kinds: ${KINDS.join(', ')})`,
    );
  });
}

function matches(row: ExchangeJson, f: FailOn): boolean {
  if ('kind' in f) return row.leaks.some((l) => l.kind === f.kind);
  return RANK[row.severity] >= RANK[f.severity];
}

/** The entry's own audit, with the findings of its WebSocket messages added. */
function mergeAudits(audits: readonly Audit[]): Audit | undefined {
  const [head, ...rest] = audits;
  if (!head || rest.length === 0) return head;
  const severity = audits.reduce<Severity>((s, a) => (RANK[a.severity] > RANK[s] ? a.severity : s), 'none');
  return { ...head, severity, findings: audits.flatMap((a) => a.findings), notes: audits.flatMap((a) => a.notes) };
}

export async function analyzeCommand(file: string, raw: Record<string, unknown>, out: Writable, err: Writable): Promise<number> {
  const flags = raw as AnalyzeFlags;
  const mode = flags.mode === 'enforce' ? 'enforce' : 'observe';
  if (flags.mode !== undefined && flags.mode !== 'observe' && flags.mode !== 'enforce') {
    throw new ConfigError(`--mode: "${flags.mode}" must be one of observe, enforce`);
  }
  const failOn = parseFailOn(flags.failOn ?? []);
  const ctx: AuditContext = {
    ruleset: loadRuleset({ builtin: flags.builtinRules ?? true, extra: flags.rules ?? [] }),
    firstParty: firstPartySet(flags.firstParty ?? []),
    known: knownValuesFromFlags(flags.identity ?? [], flags.identities ?? []),
    mode,
  };
  const har = readHar(file);
  const total = entryCount(file, har);
  const { exchanges, errors, skipped } = harToExchanges(har);
  const skip = new Set(skipped);
  for (const e of errors) err.write(`leakwatch: ${escapeForTerminal(file)}: ${escapeForTerminal(e)}\n`);

  // One entry may carry WebSocket messages too (one exchange each): they fold into the entry's line.
  const byEntry = new Map<number, Exchange[]>();
  for (const ex of exchanges) {
    const i = Number(ex.meta?.['harIndex'] ?? ex.id);
    // Appended in place: copying the group per message made an entry with n messages cost n².
    const group = byEntry.get(i);
    if (group) group.push(ex);
    else byEntry.set(i, [ex]);
  }
  const summary = (): void => void err.write(`leakwatch: ${file}: ${byEntry.size} of ${total} entries analysed` +
    `${skipped.length > 0 ? `, ${skipped.length} data:/blob: skipped` : ''}${errors.length > 0 ? `, ${errors.length} invalid` : ''}\n`);
  if (byEntry.size === 0) {
    summary();
    err.write(`leakwatch: ${file}: nothing to analyse (no entry is a valid HTTP or WebSocket request)\n`);
    return EXIT.nothingAnalysed;
  }
  const rows: ExchangeJson[] = [];
  const failed = new Map<string, number[]>();
  for (let index = 0; index < total; index++) {
    if (skip.has(index)) continue;
    const group = byEntry.get(index) ?? [];
    const first = group[0];
    const row = toExchangeJson({
      index,
      method: first?.request.method ?? '',
      url: first?.request.url ?? '',
      status: first?.response?.status ?? null,
      audit: mergeAudits(group.map((ex) => auditExchange(ex, ctx))),
    });
    if (first) for (const f of failOn) if (matches(row, f)) failed.set(failLabel(f), [...(failed.get(failLabel(f)) ?? []), index]);
    if (flags.json) out.write(`${terminalSafeJson(JSON.stringify(row))}\n`);
    else rows.push(row);
  }
  if (!flags.json) out.write(formatTable(rows));

  if (skipped.length > 0 || errors.length > 0) summary();
  for (const [label, indexes] of failed) {
    err.write(`leakwatch: ${file}: --fail-on ${label}: found in ${indexes.length} ${indexes.length === 1 ? 'entry' : 'entries'} (index ${indexes.slice(0, 10).join(', ')}${indexes.length > 10 ? ', …' : ''})\n`);
  }
  return failed.size > 0 ? EXIT.failOn : EXIT.ok;
}

const failLabel = (f: FailOn): string => ('kind' in f ? f.kind : f.severity);
