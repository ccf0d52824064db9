/**
 * The enforcement decision, pure: request head + ruleset + first-party set + mode + the live
 * overlay (rule action overrides, host / host+path blocks, allowed clients, lasting hold decisions)
 * -> which action applies, because of which rule, and the GateDecision the proxy carries out.
 *
 * Order: an allowed client is never touched; a host block beats the packs; otherwise the best
 * matching rule's action (overridden if the overlay says so); a `hold` with a saved decision for
 * the same rule + host (+ client) becomes allow or block without asking again.
 *
 * observe mode never changes traffic: the decision is forwarded with `applied` = `would-<action>`
 * so the exchange's verdict says what enforce mode would have done.
 */
import type { Decision, Peer, RawHeaders } from '../core/exchange.js';
import { parseHostPattern } from '../core/hosts.js';
import { FORWARD, type GateDecision, type RequestHead, type WsMessage, type WsMessageDecision } from '../core/gate.js';
import type { Action, Category, Verdict } from '../core/vocabulary.js';
import { blockAnswer } from './block-response.js';
import { classify } from './classify.js';
import type { CompiledRuleset } from './compile.js';
import { normalizeHost } from './host-index.js';
import type { KnownValueIndex } from './known-values.js';
import { neutralizeAnswer } from './neutralize.js';
import { effectiveStrip, stripBody, stripHeaders, stripJson, stripQuery } from './strip.js';
import type { Rule, RuleMatch, StripSpec } from './types.js';

export type Mode = 'observe' | 'enforce';
export type HoldDecision = 'allow' | 'deny';

/** A block of a host (exact, or `*.suffix`) with an optional path prefix. */
export interface HostBlock {
  /** Shown as the exchange's rule: `block:<host><prefix>`. */
  readonly ruleId: string;
  readonly host: string;
  /** '' = the whole host; otherwise matches the prefix itself and everything below it. */
  readonly pathPrefix: string;
}

/** A hold answered "for an hour" or "always": applies to the same rule + host (+ client). */
export interface LastingDecision {
  readonly ruleId: string;
  readonly host: string;
  /** null: any client. */
  readonly client: string | null;
  readonly decision: HoldDecision;
  /** Epoch ms; null = always. */
  readonly expiresAt: number | null;
}

export interface Overlay {
  /** Rule id -> action, replacing the pack's. */
  readonly actions: ReadonlyMap<string, Action>;
  readonly blocks: readonly HostBlock[];
  /** Client addresses exempt from enforcement. */
  readonly allowedClients: ReadonlySet<string>;
  readonly lasting: readonly LastingDecision[];
}

export const EMPTY_OVERLAY: Overlay = Object.freeze({ actions: new Map(), blocks: [], allowedClients: new Set<string>(), lasting: [] });

export interface DecideContext {
  readonly ruleset: CompiledRuleset;
  readonly firstParty: ReadonlySet<string>;
  readonly mode: Mode;
  readonly overlay: Overlay;
  readonly known?: KnownValueIndex;
  /** Epoch ms, for lasting decisions that expire. */
  readonly now: number;
}

export interface Enforcement {
  readonly action: Action;
  /** The rule (or block) that caused it; null when nothing matched. */
  readonly ruleId: string | null;
  readonly rule: Rule | null;
  readonly match: RuleMatch | null;
  readonly category: Category | null;
  readonly firstParty: boolean;
  readonly source: 'none' | 'pack' | 'override' | 'block' | 'client' | 'decision';
  readonly detail?: string;
}

/** The request facts a decision needs (a RequestHead has them all). */
export type DecideInput = Pick<RequestHead, 'method' | 'host' | 'path'> & { readonly client: Peer };

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same client. */
export function normalizeClient(address: string): string {
  const a = address.trim().toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

export function hostMatches(pattern: string, host: string): boolean {
  const h = normalizeHost(host);
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return h.endsWith(p.slice(1));
  return h === p;
}

export function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  const p = pathOnly(path);
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return p === base || p.startsWith(`${base}/`);
}


/**
 * `HOST[/PATH-PREFIX]` (as `--block` and the dashboard take it): a host name, `*.suffix`, or an
 * IP literal, then optionally a path prefix. Returns the parts, or a one-line problem.
 */
export function parseHostPath(spec: string): { host: string; path: string } | string {
  const s = spec.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return `"${spec}": give HOST[/PATH] without a scheme`;
  const slash = s.indexOf('/');
  let host = (slash === -1 ? s : s.slice(0, slash)).toLowerCase().replace(/\.$/, '');
  const path = slash === -1 ? '' : s.slice(slash);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '' || typeof parseHostPattern(host) === 'string') return `"${spec}": not a host name (example.org, *.example.org)`;
  if (/[\s?#]/.test(path)) return `"${spec}": the path prefix must have no spaces, query or fragment`;
  return { host, path: path === '/' ? '' : path.replace(/\/+$/, '') };
}

export function blockRuleId(host: string, pathPrefix: string): string {
  return `block:${host.toLowerCase()}${pathPrefix}`;
}

function lastingFor(overlay: Overlay, ruleId: string, host: string, client: string, now: number): LastingDecision | undefined {
  const h = normalizeHost(host);
  // The newest matching decision wins (the list is in creation order).
  for (let i = overlay.lasting.length - 1; i >= 0; i--) {
    const d = overlay.lasting[i]!;
    if (d.ruleId !== ruleId || d.host !== h) continue;
    if (d.client !== null && d.client !== client) continue;
    if (d.expiresAt !== null && d.expiresAt <= now) continue;
    return d;
  }
  return undefined;
}

/**
 * An Enforcement as one object literal. Not `{ ...base, action }`: V8 11.3 (Node 20) takes a slow
 * runtime path for a spread followed by more properties (~4 µs here, most of the gate's cost).
 */
function enforcement(
  rule: Rule | null,
  match: RuleMatch | null,
  firstParty: boolean,
  action: Action,
  ruleId: string | null,
  source: Enforcement['source'],
  detail?: string,
): Enforcement {
  const category = rule?.category ?? null;
  return detail === undefined
    ? { rule, match, category, firstParty, action, ruleId, source }
    : { rule, match, category, firstParty, action, ruleId, source, detail };
}

/** Which action applies to this request, and why. */
export function decideAction(input: DecideInput, ctx: DecideContext): Enforcement {
  const { match, firstParty } = classify({ method: input.method, host: input.host, path: pathOnly(input.path), target: input.path }, ctx.ruleset, ctx.firstParty);
  const rule = match?.rule ?? null;
  const overlay = ctx.overlay;
  // The client is normalised only when an allow-list or a saved hold decision can use it.
  let client: string | undefined;
  if (overlay.allowedClients.size > 0) {
    client = normalizeClient(input.client.address);
    if (overlay.allowedClients.has(client)) {
      return enforcement(rule, match, firstParty, 'log', rule?.id ?? null, 'client', `client ${client} is allowed`);
    }
  }
  if (overlay.blocks.length > 0) {
    const block = overlay.blocks.find((b) => hostMatches(b.host, input.host) && pathHasPrefix(input.path, b.pathPrefix));
    if (block) return enforcement(rule, match, firstParty, 'block', block.ruleId, 'block', `blocked host ${block.host}${block.pathPrefix}`);
  }
  if (!rule) return enforcement(null, match, firstParty, 'log', null, 'none');
  const override = overlay.actions.get(rule.id);
  const action = override ?? rule.action;
  const source = override !== undefined && override !== rule.action ? 'override' : 'pack';
  if (action === 'hold') {
    const saved = lastingFor(overlay, rule.id, input.host, client ?? normalizeClient(input.client.address), ctx.now);
    if (saved) {
      const how = `${saved.decision === 'allow' ? 'allowed' : 'denied'} by your saved decision (${saved.expiresAt === null ? 'always' : 'for an hour'})`;
      return enforcement(rule, match, firstParty, saved.decision === 'allow' ? 'log' : 'block', rule.id, 'decision', how);
    }
  }
  return enforcement(rule, match, firstParty, action, rule.id, source);
}

const applied = (verdict: Verdict, ruleId: string | null, detail?: string): Decision => (detail ? { verdict, ruleId, detail } : { verdict, ruleId });

/** What the gate does for an action other than hold (hold is the caller's: it needs the queue). */
export type PlannedDecision = GateDecision | { readonly type: 'hold'; readonly enforcement: Enforcement };

export function planDecision(head: RequestHead, e: Enforcement, ctx: Pick<DecideContext, 'mode' | 'known'>): PlannedDecision {
  if (e.action === 'log') {
    // A saved "allow" or an allowed client is a decision worth recording (and keeps the audit from
    // reporting the rule's own action as done); plain log rules change nothing.
    const decided = e.source === 'decision' || (e.source === 'client' && e.ruleId !== null);
    return decided ? { type: 'forward', applied: applied('allow', e.ruleId, e.detail) } : FORWARD;
  }
  if (ctx.mode === 'observe') return { type: 'forward', applied: applied(`would-${e.action}`, e.ruleId, e.detail) };
  const ruleId = e.ruleId ?? 'unknown';
  switch (e.action) {
    case 'block': {
      const a = blockAnswer(head.path, e.category, ruleId);
      return { type: 'respond', applied: applied('block', ruleId, e.detail), ...a };
    }
    case 'neutralize': {
      const a = neutralizeAnswer(e.rule, pathOnly(head.path));
      return { type: 'respond', applied: applied('neutralize', ruleId, e.detail), ...a };
    }
    case 'strip':
      return planStrip(head, e, ruleId, ctx.known);
    case 'hold':
      return { type: 'hold', enforcement: e };
  }
}

const NO_BODY = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);

function planStrip(head: RequestHead, e: Enforcement, ruleId: string, known: KnownValueIndex | undefined): GateDecision {
  const spec = effectiveStrip(e.rule?.strip, e.firstParty);
  const h = stripHeaders(head.headers, spec.headers);
  const q = stripQuery(head.path, spec.query);
  const parts = [
    h.removed.length > 0 ? `headers ${h.removed.join(', ')}` : '',
    q.removed.length > 0 ? `query ${q.removed.join(', ')}` : '',
    spec.json.length > 0 ? `json ${spec.json.join(', ')}` : '',
    spec.known.length > 0 ? `known entries of ${spec.known.join(', ')}` : '',
  ].filter(Boolean);
  const detail = parts.length > 0 ? `stripped ${parts.join('; ')}` : 'nothing to strip';
  const bodySpec = spec.json.length > 0 || spec.known.length > 0;
  const ws = head.scheme === 'ws' || head.scheme === 'wss';
  const wantsBody = bodySpec && !ws && !NO_BODY.has(head.method.toUpperCase());
  return {
    ...(ws && bodySpec ? { onMessage: (m: WsMessage) => stripMessage(m, spec, ruleId, known) } : {}),
    type: 'forward',
    applied: applied('strip', ruleId, detail),
    headers: h.headers as RawHeaders,
    ...(q.path !== head.path ? { path: q.path } : {}),
    ...(wantsBody ? { rewriteBody: (body: Buffer, headers: RawHeaders) => stripBody(body, headers, spec, known) } : {}),
  };
}

/** `strip` on a WebSocket: each JSON text message the client sends loses the rule's fields. */
export function stripMessage(m: WsMessage, spec: Pick<StripSpec, 'json' | 'known'>, ruleId: string, known: KnownValueIndex | undefined): WsMessageDecision {
  if (m.fromServer || m.binary) return { type: 'forward' };
  let root: unknown;
  try {
    root = JSON.parse(m.data.toString('utf8'));
  } catch {
    return { type: 'forward' };
  }
  const removed = stripJson(root, spec, known);
  if (removed === 0) return { type: 'forward' };
  return {
    type: 'forward',
    data: Buffer.from(JSON.stringify(root), 'utf8'),
    applied: { verdict: 'strip', ruleId, detail: `stripped ${removed} value${removed === 1 ? '' : 's'} from this message` },
  };
}
