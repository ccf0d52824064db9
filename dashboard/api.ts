/**
 * The JSON API under /api (the UI uses nothing else): reads here; the state-changing routes
 * (overrides, hold decisions) are in enforcement.ts, behind the Origin guard of auth.ts.
 */
import { once } from 'node:events';
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
    type: text(q, 'type'),
    verdict: text(q, 'verdict'),
    q: text(q, 'q'),
  });
}

/** `total` is counted up to this; the UI then says "10,000+". */
const COUNT_CAP = 10_000;
const EXPORT_MAX = 100_000;
const EXPORT_TYPES = { jsonl: 'application/x-ndjson', csv: 'text/csv; charset=utf-8', har: 'application/json' } as const;

export function apiRouter(deps: ApiDeps): Router {
  const r = Router();

  r.get('/flows', async (req, res) => {
    const q = flowQuery(req.query);
    const flows = await deps.data.listFlows(q);
    // The count is asked for once per filter (first page), not on every "load older".
    if (text(req.query, 'count') !== '1') return void res.json({ flows });
    const total = await deps.data.countFlows(q, COUNT_CAP);
    res.json({ flows, total, totalCapped: total >= COUNT_CAP });
  });

  r.get('/export', async (req, res) => {
    const format = text(req.query, 'format') ?? 'jsonl';
    if (!(format in EXPORT_TYPES)) throw new BadRequest('format: jsonl, csv or har');
    const f = format as keyof typeof EXPORT_TYPES;
    const { limit: _page, ...q } = flowQuery(req.query);
    const max = int(req.query, 'max', 1, EXPORT_MAX) ?? EXPORT_MAX;
    res.setHeader('Content-Type', EXPORT_TYPES[f]);
    res.setHeader('Content-Disposition', `attachment; filename="leakwatch.${f === 'jsonl' ? 'jsonl' : f}"`);
    res.setHeader('Cache-Control', 'no-store');
    // One page at a time, yielding to the event loop in between: the proxy shares this process.
    for (const chunk of deps.data.exportFlows(q, f, max)) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await once(res, 'drain');
      else await new Promise((r) => setImmediate(r));
    }
    res.end();
  });

  r.get('/exposure', async (req, res) => {
    res.json({ cells: await deps.data.exposure(defined({ session: text(req.query, 'session') })) });
  });

  r.get('/facets', async (_req, res) => {
    res.json(await deps.data.facets());
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
    // mode: the detail says whether a block applies now (enforce) or only would (observe).
    res.json({ ...detail, ruleInfo: rule, mode: deps.rules().mode ?? null });
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

  r.get('/health', async (_req, res) => {
    const h = deps.health();
    res.json({
      ...h,
      store: await deps.data.storeCounts(),
      flowsPerSecond: h.flowsPerSecond ?? deps.hub.rate(),
      recorder: deps.data.recorderStats(),
      stream: deps.streamStats(),
    });
  });

  if (deps.report) r.get('/report', reportHandler(deps.report));

  r.use((_req, res) => void res.status(404).json({ error: 'no such API route' }));
  return r;
}
