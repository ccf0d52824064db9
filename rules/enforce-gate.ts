/**
 * The request gate of `leakwatch start`: decide.ts's decision, carried out. Synchronous for every
 * action except `hold`, which asks the hold queue and returns its Promise (the proxy sends nothing
 * upstream until it settles). The state (ruleset, overlay, mode) is read per request, so rule
 * reloads and dashboard overrides apply at once without a restart.
 */
import { EMPTY_BODY, type Exchange } from '../core/exchange.js';
import { announcedRequest, type GateDecision, type RequestGate, type RequestHead } from '../core/gate.js';
import type { HoldOutcome, HoldQueue, HoldRequest } from '../core/hold-queue.js';
import { blockAnswer } from './block-response.js';
import { decideAction, normalizeClient, planDecision, type DecideContext, type Enforcement, type LastingDecision } from './decide.js';
import { extractFindings } from './extract.js';
import { normalizeHost } from './host-index.js';
import { buildKnownValueIndex } from './known-values.js';

export interface EnforcementGateOptions {
  /** The live state, read per request. `now` is filled in by the gate. */
  state: () => Omit<DecideContext, 'now'>;
  holds: HoldQueue;
  /** A person answered "for an hour" or "always": save it (the overlay then carries it). */
  onLasting: (d: LastingDecision) => void;
  now?: () => number;
}

const HOUR_MS = 60 * 60 * 1000;
const NO_KNOWN = buildKnownValueIndex([]);

/**
 * What the held request would reveal, for the hold panel: the head's findings (query, headers,
 * path placeholders) and, when the proxy buffered it, the body's (contact hashes resolved to the
 * user's declared identities, tokens): the person decides about all of it.
 */
function heldFindings(head: RequestHead, e: Enforcement, ctx: Omit<DecideContext, 'now'>, body: Buffer | undefined): HoldRequest['findings'] {
  const now = Date.now();
  const ex: Exchange = {
    id: 0,
    kind: 'http',
    listener: 'gate',
    startedAt: now,
    endedAt: now,
    client: head.client,
    request: { method: head.method, url: head.url, scheme: head.scheme, host: head.host, port: head.port, path: head.path, httpVersion: '1.1', headers: head.headers, body: body ? { bytes: body, size: body.length, truncated: false } : EMPTY_BODY },
  };
  const { findings } = extractFindings(ex, e.match, { firstParty: e.firstParty, known: ctx.known ?? NO_KNOWN });
  return findings.slice(0, 50).map((f) => ({ kind: f.kind, value: f.value, where: f.where }));
}

export function holdRequestOf(head: RequestHead, e: Enforcement, ctx: Omit<DecideContext, 'now'>, body?: Buffer): HoldRequest {
  return {
    ruleId: e.ruleId ?? 'unknown',
    method: head.method,
    url: head.url,
    host: normalizeHost(head.host),
    client: normalizeClient(head.client.address),
    party: e.rule?.party ?? null,
    category: e.category,
    severity: e.rule?.severity ?? null,
    why: e.rule?.why.trim() ?? null,
    findings: heldFindings(head, e, ctx, body),
  };
}

function afterHold(head: RequestHead, e: Enforcement, o: HoldOutcome, timeoutMs: number): GateDecision {
  const ruleId = e.ruleId ?? 'unknown';
  const scope = o.scope === 'once' ? 'once' : o.scope === 'hour' ? 'for an hour' : 'always';
  if (o.decision === 'allow') return { type: 'forward', applied: { verdict: 'hold', ruleId, detail: `held, then allowed by you (${scope})` } };
  const detail =
    o.by === 'timeout'
      ? `held, then denied: no answer within ${Math.round(timeoutMs / 1000)} s`
      : o.by === 'user'
        ? `held, then denied by you (${scope})`
        : `held, then denied (${o.by})`;
  return { type: 'respond', applied: { verdict: 'hold', ruleId, detail }, ...blockAnswer(head.path, e.category, ruleId) };
}

/**
 * A CORS preflight is judged by the rule of the request it announces: a blocked host or path
 * must not see the preflight either (it carries the client's address, User-Agent and Origin).
 * When that request will not be forwarded as is (block, neutralize, hold), leakwatch answers the
 * preflight itself with 204 (the proxy adds the CORS allowance), so the browser goes on to send
 * the request and the page then gets leakwatch's own answer instead of a CORS error. Otherwise
 * the preflight travels with what the rule decided (header strip, would-block in observe mode)
 * but no body rewrite: a preflight has no body.
 */
function preflightDecision(announced: RequestHead, ctx: DecideContext): GateDecision {
  const e = decideAction(announced, ctx);
  const plan = planDecision(announced, e, ctx);
  if (plan.type === 'forward') {
    const { rewriteBody: _body, onMessage: _message, ...rest } = plan;
    return rest;
  }
  const applied = plan.type === 'hold' ? { verdict: 'hold' as const, ruleId: e.ruleId ?? 'unknown', detail: 'preflight answered by leakwatch; the request it announces is held' } : plan.applied;
  return { type: 'respond', applied, status: 204, headers: [['Cache-Control', 'no-store']], body: Buffer.alloc(0) };
}

export function createEnforcementGate(opts: EnforcementGateOptions): RequestGate {
  const now = opts.now ?? Date.now;
  return {
    decide(head) {
      const state = opts.state();
      // Built field by field: `{ ...state, now }` is a slow path in Node 20's V8 (see decide.ts).
      const { ruleset, firstParty, mode, overlay, known } = state;
      const ctx: DecideContext =
        known === undefined ? { ruleset, firstParty, mode, overlay, now: now() } : { ruleset, firstParty, mode, overlay, known, now: now() };
      const announced = announcedRequest(head);
      if (announced) return preflightDecision(announced, ctx);
      const e = decideAction(head, ctx);
      const plan = planDecision(head, e, ctx);
      if (plan.type !== 'hold') return plan;
      const timeoutMs = opts.holds.timeoutMs;
      const ask = (body?: Buffer): Promise<GateDecision> => {
        const req = holdRequestOf(head, e, state, body);
        return opts.holds.hold(req).then((o) => decided(req, o));
      };
      return head.readBody ? head.readBody().then(ask) : ask();
      function decided(req: HoldRequest, o: HoldOutcome): GateDecision {
        if (o.by === 'user' && o.scope !== 'once' && o.via === undefined) {
          opts.onLasting({
            ruleId: req.ruleId,
            host: req.host,
            client: req.client,
            decision: o.decision,
            expiresAt: o.scope === 'hour' ? now() + HOUR_MS : null,
          });
        }
        return afterHold(head, e, o, timeoutMs);
      }
    },
  };
}
