/**
 * Enforcement routes, under /api behind the token and, being POST/DELETE, the Origin
 * guard of auth.ts:
 *   GET    /api/holds                 { holds: HeldItem[], timeoutMs }
 *   POST   /api/holds/:id             { decision: allow|deny, scope: once|hour|always } -> { settled: [ids] }
 *   GET    /api/overrides             { overrides: OverrideView[] }
 *   POST   /api/overrides             one of the AddOverride shapes below -> 201 { override }
 *   DELETE /api/overrides/:id         204, 404 when unknown, 409 when it came from the command line
 * The dashboard knows enforcement only through `EnforcementApi` (implemented by `leakwatch start`).
 */
import express, { Router } from 'express';
import type { HeldItem, HoldEvent, HoldScope } from '../core/hold-queue.js';
import { parseHostPath } from '../rules/decide.js';
import { BadRequest } from './params.js';

export type AddOverride =
  | { readonly kind: 'rule-action'; readonly ruleId: string; readonly action: string }
  | { readonly kind: 'block'; readonly host: string; readonly path: string }
  | { readonly kind: 'allow-client'; readonly client: string }
  | { readonly kind: 'hold-decision'; readonly ruleId: string; readonly host: string; readonly client: string | null; readonly decision: 'allow' | 'deny'; readonly scope: 'hour' | 'always' };

export interface OverrideView {
  /** Numbers for saved overrides, `cli-N` for command-line ones. */
  readonly id: string;
  readonly kind: AddOverride['kind'];
  readonly ruleId: string | null;
  readonly action: string | null;
  readonly host: string | null;
  readonly path: string | null;
  readonly client: string | null;
  readonly decision: string | null;
  readonly createdAt: string | null;
  readonly expiresAt: string | null;
  readonly source: 'dashboard' | 'cli';
  readonly removable: boolean;
  /** One line for people: "element.analytics.posthog: block". */
  readonly summary: string;
}

export interface EnforcementApi {
  listHolds(): HeldItem[];
  holdTimeoutMs(): number;
  /** Settled hold ids ([] when `id` is no longer pending). */
  decideHold(id: number, decision: 'allow' | 'deny', scope: HoldScope): number[];
  subscribeHolds(fn: (e: HoldEvent) => void): () => void;
  listOverrides(): OverrideView[];
  /** Throws Error with a user-facing message for a semantic problem (unknown rule id). */
  addOverride(o: AddOverride): OverrideView;
  /** 'removed', 'unknown' or 'fixed' (a command-line override). */
  removeOverride(id: string): 'removed' | 'unknown' | 'fixed';
}

/** For a dashboard started without enforcement (tests, embedders): nothing held, nothing to override. */
export const NO_ENFORCEMENT: EnforcementApi = {
  listHolds: () => [],
  holdTimeoutMs: () => 0,
  decideHold: () => [],
  subscribeHolds: () => () => undefined,
  listOverrides: () => [],
  addOverride: () => {
    throw new Error('enforcement is not running in this process');
  },
  removeOverride: () => 'unknown',
};

const str = (body: Record<string, unknown>, name: string, max = 256): string => {
  const v = body[name];
  if (typeof v !== 'string' || v.trim() === '') throw new BadRequest(`${name}: required (a string)`);
  if (v.length > max) throw new BadRequest(`${name}: longer than ${max} characters`);
  return v.trim();
};
const oneOf = <T extends string>(body: Record<string, unknown>, name: string, allowed: readonly T[]): T => {
  const v = body[name];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new BadRequest(`${name}: must be one of ${allowed.join(', ')}`);
  return v as T;
};

/** `host` plus optional `path` (a prefix starting with /), or `host` given as `HOST/PATH`. */
export function parseBlockTarget(hostIn: string, pathIn?: string): { host: string; path: string } {
  const path = pathIn?.trim() ?? '';
  if (path !== '' && hostIn.includes('/')) throw new BadRequest('host: give the path either in host or in path, not both');
  if (path !== '' && !path.startsWith('/')) throw new BadRequest(`path: "${path}" must start with /`);
  const r = parseHostPath(`${hostIn.trim()}${path}`);
  if (typeof r === 'string') throw new BadRequest(`host: ${r}`);
  return r;
}

export function parseAddOverride(raw: unknown): AddOverride {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadRequest('body: a JSON object is required');
  const b = raw as Record<string, unknown>;
  const kind = oneOf(b, 'kind', ['rule-action', 'block', 'allow-client', 'hold-decision'] as const);
  switch (kind) {
    case 'rule-action':
      return { kind, ruleId: str(b, 'ruleId'), action: oneOf(b, 'action', ['log', 'block', 'neutralize', 'strip', 'hold'] as const) };
    case 'block':
      return { kind, ...parseBlockTarget(str(b, 'host'), typeof b['path'] === 'string' ? b['path'] : undefined) };
    case 'allow-client': {
      const client = str(b, 'client', 64);
      if (!/^[0-9a-f:.]+$/i.test(client)) throw new BadRequest('client: an IP address');
      return { kind, client };
    }
    case 'hold-decision': {
      const client = b['client'] === undefined || b['client'] === null ? null : str(b, 'client', 64);
      return { kind, ruleId: str(b, 'ruleId'), host: parseBlockTarget(str(b, 'host')).host, client, decision: oneOf(b, 'decision', ['allow', 'deny'] as const), scope: oneOf(b, 'scope', ['hour', 'always'] as const) };
    }
  }
}

export function enforcementRouter(api: EnforcementApi): Router {
  const r = Router();
  const json = express.json({ limit: '16kb', strict: true });

  r.get('/holds', (_req, res) => {
    res.json({ holds: api.listHolds(), timeoutMs: api.holdTimeoutMs() });
  });

  r.post('/holds/:id', json, (req, res) => {
    const id = req.params['id'] ?? '';
    if (!/^\d{1,12}$/.test(id)) throw new BadRequest('id: not a hold id');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const decision = oneOf(body, 'decision', ['allow', 'deny'] as const);
    const scope = oneOf(body, 'scope', ['once', 'hour', 'always'] as const);
    const settled = api.decideHold(Number(id), decision, scope);
    if (settled.length === 0) return void res.status(404).json({ error: 'no such pending hold (answered already, or timed out)' });
    res.json({ settled });
  });

  r.get('/overrides', (_req, res) => {
    res.json({ overrides: api.listOverrides() });
  });

  r.post('/overrides', json, (req, res) => {
    const o = parseAddOverride(req.body);
    let view: OverrideView;
    try {
      view = api.addOverride(o);
    } catch (err: unknown) {
      throw new BadRequest((err as Error).message);
    }
    res.status(201).json({ override: view });
  });

  r.delete('/overrides/:id', (req, res) => {
    const id = req.params['id'] ?? '';
    if (!/^(?:\d{1,12}|cli-\d{1,6})$/.test(id)) throw new BadRequest('id: not an override id');
    const result = api.removeOverride(id);
    if (result === 'unknown') return void res.status(404).json({ error: 'no such override' });
    if (result === 'fixed') return void res.status(409).json({ error: 'set on the command line; restart without the flag to remove it' });
    res.status(204).end();
  });

  return r;
}
