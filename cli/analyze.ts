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
import type { Exchange } from '../core/exchange.js';
import { toExchangeJson, type ExchangeJson } from '../core/exchange-json.js';
import { harToExchanges } from '../core/har.js';
import { auditExchange, type AuditContext } from '../rules/audit.js';
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

export async function analyzeCommand(file: string, raw: Record<string, unknown>, out: Writable, err: Writable): Promise<number> {
  const flags = raw as AnalyzeFlags;
  const mode = flags.mode === 'enforce' ? 'enforce' : 'observe';
  if (flags.mode !== undefined && flags.mode !== 'observe' && flags.mode !== 'enforce') {
    throw new ConfigError(`--mode: "${flags.mode}" must be one of observe, enforce`);
  }
  const ctx: AuditContext = {
    ruleset: loadRuleset({ builtin: flags.builtinRules ?? true, extra: flags.rules ?? [] }),
    firstParty: new Set((flags.firstParty ?? []).map((h) => h.toLowerCase())),
    known: knownValuesFromFlags(flags.identity ?? [], flags.identities ?? []),
    mode,
  };
  const har = readHar(file);
  const total = entryCount(har);
  const { exchanges, errors } = harToExchanges(har);
  for (const e of errors) err.write(`leakwatch: ${file}: ${e}\n`);

  const byIndex = new Map<number, Exchange>(exchanges.map((ex) => [ex.id, ex]));
  const rows: ExchangeJson[] = [];
  for (let index = 0; index < total; index++) {
    const ex = byIndex.get(index);
    const audit: Audit | undefined = ex ? auditExchange(ex, ctx) : undefined;
    const row = toExchangeJson({
      index,
      method: ex?.request.method ?? '',
      url: ex?.request.url ?? '',
      status: ex?.response?.status ?? null,
      audit,
    });
    if (flags.json) out.write(`${JSON.stringify(row)}\n`);
    else rows.push(row);
  }
  if (!flags.json) out.write(formatTable(rows));
  return 0;
}
