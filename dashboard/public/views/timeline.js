// Timeline: requests and leaks per minute by party, two small uPlot charts (no chart framework).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import uPlot from 'uplot';
import { getJSON } from '../api.js';
import { hhmm, partyColor } from '../colors.js';
import { currentSession, subscribeSession } from '../live-state.js';

const RANGES = [['1h', 60], ['6h', 360], ['24h', 1440]];
const TOP = 8;

/** Buckets -> uPlot data: one x row (seconds) and one row per party (top N, rest as "other"). */
export function toSeries(resp, field) {
  const xs = [];
  for (let t = Math.floor(resp.since / resp.bucketMs) * resp.bucketMs; t < resp.until; t += resp.bucketMs) xs.push(t);
  const totals = new Map();
  for (const b of resp.buckets) totals.set(b.party ?? '(no rule)', (totals.get(b.party ?? '(no rule)') ?? 0) + b[field]);
  const ranked = [...totals.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([p]) => p);
  const names = ranked.slice(0, TOP);
  if (ranked.length > TOP) names.push('other');
  const index = new Map(xs.map((t, i) => [t, i]));
  const rows = names.map(() => new Array(xs.length).fill(0));
  for (const b of resp.buckets) {
    const i = index.get(Math.floor(b.t / resp.bucketMs) * resp.bucketMs);
    if (i === undefined) continue;
    const p = b.party ?? '(no rule)';
    const s = names.indexOf(p) >= 0 ? names.indexOf(p) : names.indexOf('other');
    if (s >= 0) rows[s][i] += b[field];
  }
  return { names, data: [xs.map((t) => t / 1000), ...rows] };
}

function Chart({ title, series }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current || !series.names.length) return undefined;
    const opts = {
      title,
      width: Math.max(320, ref.current.clientWidth),
      height: 240,
      series: [
        { value: (_u, v) => (v === null || v === undefined ? '--' : `${new Date(v * 1000).toLocaleDateString()} ${hhmm(v * 1000)}`) },
        ...series.names.map((n) => ({ label: n, stroke: partyColor(n === '(no rule)' ? null : n), width: 2, points: { show: false } })),
      ],
      // 24-hour clock on the time axis.
      axes: [{ values: (_u, splits) => splits.map((s) => hhmm(s * 1000)) }, { label: 'per bucket' }],
    };
    const plot = new uPlot(opts, series.data, ref.current);
    return () => plot.destroy();
  }, [series]);
  if (!series.names.length) return html`<div class="panel"><h3>${title}</h3><p class="muted">Nothing in this range.</p></div>`;
  return html`<div class="panel chart" ref=${ref}></div>`;
}

export function TimelineView() {
  const [minutes, setMinutes] = useState(60);
  const [resp, setResp] = useState(null);
  const [error, setError] = useState(null);
  const [session, setSession] = useState(currentSession());
  useEffect(() => subscribeSession(setSession), []);
  useEffect(() => {
    const load = () => {
      const until = Date.now();
      const bucketMs = minutes > 360 ? 10 * 60000 : 60000;
      getJSON('/api/timeline', { since: until - minutes * 60000, until, bucketMs, session }).then((r) => (setResp(r), setError(null)), (e) => setError(e.message));
    };
    load();
    const t = setInterval(load, 15000);
    return () => clearInterval(t);
  }, [minutes, session]);
  return html`<section class="timeline">
    <div class="toolbar"><h2>Timeline</h2>
      ${RANGES.map(([label, m]) => html`<button type="button" class=${m === minutes ? 'on' : ''} onClick=${() => setMinutes(m)}>${label}</button>`)}
      ${resp ? html`<span class="muted">buckets of ${resp.bucketMs / 60000} min</span>` : null}</div>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${resp ? html`<${Chart} title="Requests by party" series=${toSeries(resp, 'requests')} />
      <${Chart} title="Leaks by party" series=${toSeries(resp, 'leaks')} />` : html`<p class="muted">Loading…</p>`}
  </section>`;
}
