/**
 * The JSON API under /api (the UI uses nothing else). Read-only for now; issue 6's overrides and
 * hold decisions will be POST routes here, already covered by the Origin guard in auth.ts.
 */
import express, { Router, type Request } from 'express';
import type { DataSource, FlowQuery } from './data-source.js';
import type { StreamHub } from './hub.js';
import { BadRequest, defined, int, text, time } from './params.js';
import type { DashboardOptions, HealthView, RulesView } from './types.js';
import type { ReportSource } from '../report/load.js';
import { reportHandler } from './report-route.js';

export interface ApiDeps {
  data: DataSource;
  hub: StreamHub;
  rules: () => RulesView;
  health: () => HealthView;
  streamStats: () => Record<string, number>;
  /** The privacy report (report/); absent: GET /api/report is a 404. */
  report?: ReportSource;
  purge?: DashboardOptions['purge'];
}

const MINUTE = 60_000;
const MAX_BUCKETS = 2000;

export function flowQuery(q: Request['query']): FlowQuery {
  return defined({
    limit: int(q, 'limit', 1, 1000) ?? 100,
    before: int(q, 'before', 0, Number.MAX_SAFE_INTEGER),
    since: time(q, 'since'),
    until: time(q, 'until'),
    session: text(q, 'session'),
    party: text(q, 'party'),
    category: text(q, 'category'),
    kind: text(q, 'kind'),
    host: text(q, 'host')?.toLowerCase(),
    q: text(q, 'q'),
  });
}

export function apiRouter(deps: ApiDeps): Router {
  const r = Router();

  r.get('/flows', async (req, res) => {
    res.json({ flows: await deps.data.listFlows(flowQuery(req.query)) });
  });

  // `leakwatch purge` calls this when leakwatch runs: the process erases the value from its store
  // and from the stream's memory, so a `?since=0` replay cannot bring it back.
  r.post('/purge', express.json({ limit: '16kb', strict: true }), (req, res) => {
    const purge = deps.purge;
    if (!purge) return void res.status(404).json({ error: 'purge is not available here' });
    const value = (req.body as { value?: unknown } | undefined)?.value;
    if (typeof value !== 'string' || value === '') throw new BadRequest('value: a non-empty string is required');
    const { report, carries } = purge(value);
    const forgotten = deps.hub.forget((f) => carries(JSON.stringify(f)));
    res.json({ ...report, streamItems: forgotten });
  });

  r.get('/flows/:id', async (req, res) => {
    const id = req.params['id'] ?? '';
    if (!/^\d{1,15}$/.test(id)) throw new BadRequest('id: not a flow id');
    const detail = await deps.data.getFlow(Number(id));
    if (!detail) return void res.status(404).json({ error: 'no such flow' });
    const ruleId = detail.flow.rule;
    const rule = ruleId ? (deps.rules().rules.find((x) => x.id === ruleId) ?? null) : null;
    res.json({ ...detail, ruleInfo: rule });
  });

  r.get('/summary', async (req, res) => {
    res.json({ cells: await deps.data.summary(defined({ session: text(req.query, 'session') })) });
  });

  r.get('/timeline', async (req, res) => {
    const until = time(req.query, 'until') ?? Date.now();
    const since = time(req.query, 'since') ?? until - 60 * MINUTE;
    const bucketMs = int(req.query, 'bucketMs', MINUTE, 24 * 60 * MINUTE) ?? MINUTE;
    if (since >= until) throw new BadRequest('since: must be before until');
    if ((until - since) / bucketMs > MAX_BUCKETS) throw new BadRequest(`too many buckets (max ${MAX_BUCKETS})`);
    const session = text(req.query, 'session');
    const buckets = await deps.data.timeline(defined({ since, until, bucketMs, session }));
    res.json({ since, until, bucketMs, buckets });
  });

  r.get('/sessions', async (_req, res) => {
    res.json({ sessions: await deps.data.sessions() });
  });

  r.get('/rules', (_req, res) => {
    const view = deps.rules();
    const hits = deps.hub.counters.ruleHits;
    res.json({ ...view, rules: view.rules.map((x) => ({ ...x, hitsSinceStart: hits.get(x.id) ?? 0 })) });
  });

  r.get('/health', (_req, res) => {
    const h = deps.health();
    res.json({
      ...h,
      flowsPerSecond: h.flowsPerSecond ?? deps.hub.rate(),
      recorder: deps.data.recorderStats(),
      stream: deps.streamStats(),
    });
  });

  if (deps.report) r.get('/report', reportHandler(deps.report));

  r.use((_req, res) => void res.status(404).json({ error: 'no such API route' }));
  return r;
}
