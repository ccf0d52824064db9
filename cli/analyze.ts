/**
 * `leakwatch analyze FILE.har`: the live pipeline's audit over a HAR 1.2 capture (browser devtools,
 * mitmproxy, Charles and leakwatch's own export all write HAR). `--json` prints exactly one object
 * per entry, in entry order, `index` = position in log.entries; everything else goes to stderr.
 * Exit 0 whether or not leaks were found; non-zero only when the input cannot be read or parsed.
 */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Audit } from '../core/audit.js';
import { ConfigError } from '../core/errors.js';
import type { Severity } from '../core/vocabulary.js';
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
}

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

function entryCount(har: unknown): number {
  const entries = (har as { log?: { entries?: unknown } } | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new ConfigError('not a HAR file: log.entries is missing');
  return entries.length;
}

const RANK: Record<Severity, number> = { none: 0, info: 1, low: 2, medium: 3, high: 4 };

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
  const ctx: AuditContext = {
    ruleset: loadRuleset({ builtin: flags.builtinRules ?? true, extra: flags.rules ?? [] }),
    firstParty: firstPartySet(flags.firstParty ?? []),
    known: knownValuesFromFlags(flags.identity ?? [], flags.identities ?? []),
    mode,
  };
  const har = readHar(file);
  const total = entryCount(har);
  const { exchanges, errors } = harToExchanges(har);
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
  const rows: ExchangeJson[] = [];
  for (let index = 0; index < total; index++) {
    const group = byEntry.get(index) ?? [];
    const first = group[0];
    const row = toExchangeJson({
      index,
      method: first?.request.method ?? '',
      url: first?.request.url ?? '',
      status: first?.response?.status ?? null,
      audit: mergeAudits(group.map((ex) => auditExchange(ex, ctx))),
    });
    if (flags.json) out.write(`${terminalSafeJson(JSON.stringify(row))}\n`);
    else rows.push(row);
  }
  if (!flags.json) out.write(formatTable(rows));
  return 0;
}
