/**
 * Enforcement as `leakwatch start` runs it: the live state the request gate reads per request
 * (ruleset, mode, the overlay of command-line flags and saved overrides), the hold queue, and the
 * dashboard's EnforcementApi over them. Overrides are saved in SQLite (store/overrides.ts) and
 * applied at once; `setRuleset` swaps in reloaded packs without a restart.
 */
import type { Logger } from '../core/log.js';
import type { RequestGate } from '../core/gate.js';
import { HoldQueue } from '../core/hold-queue.js';
import { isAction, type Action } from '../core/vocabulary.js';
import type { AddOverride, EnforcementApi, OverrideView } from '../dashboard/enforcement.js';
import type { CompiledRuleset } from '../rules/compile.js';
import { blockRuleId, normalizeClient, type HostBlock, type LastingDecision, type Mode, type Overlay } from '../rules/decide.js';
import { createEnforcementGate } from '../rules/enforce-gate.js';
import type { KnownValueIndex } from '../rules/known-values.js';
import type { Rule } from '../rules/types.js';
import type { OverrideRecord, OverrideStore } from '../store/overrides.js';

export interface EnforcementOptions {
  readonly mode: Mode;
  readonly firstParty: ReadonlySet<string>;
  readonly known: KnownValueIndex;
  /** `--block`, parsed: host and path prefix ('' = whole host). */
  readonly blocks: ReadonlyArray<{ readonly host: string; readonly path: string }>;
  /** `--action`, parsed and checked against the ruleset. */
  readonly actions: ReadonlyArray<{ readonly ruleId: string; readonly action: Action }>;
  readonly holdTimeoutMs: number;
  readonly overrides: OverrideStore;
  readonly log: Logger;
}

export interface Enforcement {
  readonly gate: RequestGate;
  readonly holds: HoldQueue;
  readonly api: EnforcementApi;
  /** The effective action of a rule, for the audit stage and the Rules view. */
  actionOf(rule: Rule): Action;
  ruleset(): CompiledRuleset;
  setRuleset(rs: CompiledRuleset): void;
  close(): void;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function summaryOf(o: Pick<OverrideView, 'kind' | 'ruleId' | 'action' | 'host' | 'path' | 'client' | 'decision'>, expiresAt: number | null): string {
  switch (o.kind) {
    case 'rule-action':
      return `${o.ruleId}: ${o.action}`;
    case 'block':
      return `block ${o.host}${o.path ?? ''}`;
    case 'allow-client':
      return `allow client ${o.client} (never enforced)`;
    case 'hold-decision':
      return `${o.decision} ${o.ruleId} to ${o.host}${o.client ? ` from ${o.client}` : ''} ${expiresAt === null ? 'always' : `until ${new Date(expiresAt).toISOString()}`}`;
  }
}

function viewOf(r: OverrideRecord): OverrideView {
  const base = { kind: r.kind, ruleId: r.ruleId, action: r.action, host: r.host, path: r.path, client: r.client, decision: r.decision };
  return { id: String(r.id), ...base, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt), source: 'dashboard', removable: true, summary: summaryOf(base, r.expiresAt) };
}

export function createEnforcement(initial: CompiledRuleset, opts: EnforcementOptions): Enforcement {
  let ruleset = initial;
  const holds = new HoldQueue({ timeoutMs: opts.holdTimeoutMs });
  const cliBlocks: HostBlock[] = opts.blocks.map((b) => ({ ruleId: blockRuleId(b.host, b.path), host: b.host, pathPrefix: b.path }));
  const cliViews: OverrideView[] = [
    ...opts.actions.map((a) => ({ kind: 'rule-action' as const, ruleId: a.ruleId, action: a.action, host: null, path: null, client: null, decision: null })),
    ...opts.blocks.map((b) => ({ kind: 'block' as const, ruleId: null, action: null, host: b.host, path: b.path, client: null, decision: null })),
  ].map((o, i) => ({ id: `cli-${i + 1}`, ...o, createdAt: null, expiresAt: null, source: 'cli' as const, removable: false, summary: summaryOf(o, null) }));

  let records: OverrideRecord[] = [];
  let overlay: Overlay;
  let nextExpiry = Infinity;
  const rebuild = (): void => {
    const now = Date.now();
    records = opts.overrides.list(now);
    const actions = new Map<string, Action>();
    for (const a of opts.actions) actions.set(a.ruleId, a.action);
    const blocks = [...cliBlocks];
    const allowedClients = new Set<string>();
    const lasting: LastingDecision[] = [];
    nextExpiry = Infinity;
    for (const r of records) {
      if (r.expiresAt !== null) nextExpiry = Math.min(nextExpiry, r.expiresAt);
      if (r.kind === 'rule-action' && r.ruleId && r.action && isAction(r.action)) actions.set(r.ruleId, r.action);
      else if (r.kind === 'block' && r.host) blocks.push({ ruleId: blockRuleId(r.host, r.path ?? ''), host: r.host, pathPrefix: r.path ?? '' });
      else if (r.kind === 'allow-client' && r.client) allowedClients.add(normalizeClient(r.client));
      else if (r.kind === 'hold-decision' && r.ruleId && r.host && r.decision) {
        lasting.push({ ruleId: r.ruleId, host: r.host, client: r.client, decision: r.decision, expiresAt: r.expiresAt });
      }
    }
    overlay = { actions, blocks, allowedClients, lasting };
  };
  rebuild();
  const current = (): Overlay => {
    if (Date.now() >= nextExpiry) rebuild();
    return overlay;
  };

  const knownRule = (id: string): boolean => ruleset.rules.some((r) => r.id === id);
  const add = (o: AddOverride): OverrideView => {
    if ((o.kind === 'rule-action' || o.kind === 'hold-decision') && !knownRule(o.ruleId)) throw new Error(`ruleId: no rule "${o.ruleId}" in the loaded packs`);
    const expiresAt = o.kind === 'hold-decision' && o.scope === 'hour' ? Date.now() + 3_600_000 : null;
    const rec = opts.overrides.add({
      kind: o.kind,
      ruleId: 'ruleId' in o ? o.ruleId : null,
      action: o.kind === 'rule-action' ? o.action : null,
      host: 'host' in o ? o.host : null,
      path: o.kind === 'block' ? o.path : null,
      client: 'client' in o ? (o.client === null ? null : normalizeClient(o.client)) : null,
      decision: o.kind === 'hold-decision' ? o.decision : null,
      expiresAt,
    });
    rebuild();
    opts.log.info({ override: rec.id, kind: rec.kind }, 'enforcement: override added');
    return viewOf(rec);
  };

  const gate = createEnforcementGate({
    state: () => ({ ruleset, firstParty: opts.firstParty, mode: opts.mode, overlay: current(), known: opts.known }),
    holds,
    onLasting: (d) => {
      try {
        add({ kind: 'hold-decision', ruleId: d.ruleId, host: d.host, client: d.client, decision: d.decision, scope: d.expiresAt === null ? 'always' : 'hour' });
      } catch (err: unknown) {
        opts.log.error({ err: (err as Error).message }, 'enforcement: could not save a hold decision');
      }
    },
  });

  const api: EnforcementApi = {
    listHolds: () => holds.list(),
    holdTimeoutMs: () => holds.timeoutMs,
    decideHold: (id, decision, scope) => holds.resolve(id, decision, scope).map((h) => h.id),
    subscribeHolds: (fn) => holds.subscribe(fn),
    listOverrides: () => [...cliViews, ...(current(), records).map(viewOf)],
    addOverride: add,
    removeOverride(id) {
      if (id.startsWith('cli-')) return cliViews.some((v) => v.id === id) ? 'fixed' : 'unknown';
      const ok = opts.overrides.remove(Number(id));
      if (ok) rebuild();
      return ok ? 'removed' : 'unknown';
    },
  };

  return {
    gate,
    holds,
    api,
    actionOf: (rule) => current().actions.get(rule.id) ?? rule.action,
    ruleset: () => ruleset,
    setRuleset(rs) {
      ruleset = rs;
    },
    close: () => holds.close(),
  };
}
