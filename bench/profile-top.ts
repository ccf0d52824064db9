/**
 * Summarise a .cpuprofile (from `--cpu-prof`): top functions by self time, optionally inclusive.
 *   node dist/bench/profile-top.js FILE [N] [--incl]
 * Percentages are of non-idle time, so a mostly idle run still reads as "where the CPU went".
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const [file, nArg, mode] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.js FILE [N] [--incl]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const n = Number(nArg ?? 40);
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const key = (id: number): string => {
  const cf = (byId.get(id) as Node).callFrame;
  return `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(node_modules|dist)\//, '$1/')}:${cf.lineNumber + 1}`;
};
const hits = new Map<number, number>();
let busy = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  hits.set(id, (hits.get(id) ?? 0) + dt);
  if (key(id).startsWith('(idle)')) return;
  busy += dt;
});
const self = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, t] of hits) {
  if (key(id).startsWith('(idle)')) continue;
  self.set(key(id), (self.get(key(id)) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(cur);
    if (!seen.has(k)) incl.set(k, (incl.get(k) ?? 0) + t);
    seen.add(k);
  }
}
const show = (m: Map<string, number>): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  .map(([k, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`).join('\n');
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s\n--- self\n${show(self)}\n`);
if (mode === '--incl') process.stdout.write(`--- inclusive\n${show(incl)}\n`);
