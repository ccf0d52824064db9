/**
 * The extractor path language of rules/README.md ("Extractors"): `a.b`, `a[0]`, `a[*]`, `a.*`,
 * `a.@keys`, plus `a["m.key"]` for keys with dots. Results carry concrete paths (`addresses[1]`)
 * because findings name exactly where a value sat. Iterative and bounded: never throws, never recurses
 * on attacker-controlled depth.
 */

export type Seg =
  | { readonly t: 'key'; readonly k: string }
  | { readonly t: 'index'; readonly i: number }
  | { readonly t: 'any' }
  | { readonly t: 'keys' };

export interface PathValue {
  readonly path: string;
  readonly value: unknown;
}

export interface Leaf {
  readonly path: string;
  /** The object key (or array index as a string) holding the value; '' at the root. */
  readonly key: string;
  readonly value: string | number;
  /** The containing object or array (for sibling context such as `medium`). */
  readonly parent: unknown;
}

const cache = new Map<string, readonly Seg[]>();
const SEG = /\.?(?:\[(\*|\d+|"(?:[^"\\]|\\.)*")\]|(@keys)\b|(\*)|([^.[\]]+))/y;

/** Parses an extractor path; unparseable tails are dropped (the schema validates paths up front). */
export function parsePath(path: string): readonly Seg[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const segs: Seg[] = [];
  SEG.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (SEG.lastIndex < path.length && (m = SEG.exec(path)) !== null) {
    const [, br, keys, star, name] = m;
    if (br === '*' || star) segs.push({ t: 'any' });
    else if (br !== undefined && br.startsWith('"')) segs.push({ t: 'key', k: safeJson(br) });
    else if (br !== undefined) segs.push({ t: 'index', i: Number(br) });
    else if (keys) segs.push({ t: 'keys' });
    else if (name !== undefined) segs.push({ t: 'key', k: name });
  }
  if (cache.size < 4096) cache.set(path, segs);
  return segs;
}

function safeJson(s: string): string {
  try {
    return String(JSON.parse(s));
  } catch {
    return s.slice(1, -1);
  }
}

const PLAIN_KEY = /^[A-Za-z_$@][\w$@-]*$/;

/** Appends a key to a concrete path: `a.b`, `a["m.key"]`, `a[3]`. */
export function joinKey(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (PLAIN_KEY.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Evaluates an extractor path; `@keys` yields each key as the value at that key's own path. */
export function evalPath(root: unknown, path: string | readonly Seg[]): PathValue[] {
  const segs = typeof path === 'string' ? parsePath(path) : path;
  let cur: PathValue[] = [{ path: '', value: root }];
  for (const s of segs) {
    const nxt: PathValue[] = [];
    for (const { path: p, value: v } of cur) {
      if (s.t === 'key') {
        if (isObj(v) && Object.hasOwn(v, s.k)) nxt.push({ path: joinKey(p, s.k), value: v[s.k] });
      } else if (s.t === 'index') {
        if (Array.isArray(v) && s.i < v.length) nxt.push({ path: joinKey(p, s.i), value: v[s.i] });
      } else if (s.t === 'any') {
        if (Array.isArray(v)) v.forEach((x, i) => nxt.push({ path: joinKey(p, i), value: x }));
        else if (isObj(v)) for (const k of Object.keys(v)) nxt.push({ path: joinKey(p, k), value: v[k] });
      } else if (isObj(v)) {
        for (const k of Object.keys(v)) nxt.push({ path: joinKey(p, k), value: k });
      }
      if (nxt.length > 100_000) break;
    }
    cur = nxt;
  }
  return cur;
}

/**
 * Every string and finite-number leaf with its concrete path, depth-first in document order.
 * Bounded by `max` leaves and `maxDepth` so a hostile body cannot stall the pipeline.
 */
export function walkLeaves(root: unknown, max = 50_000, maxDepth = 64): Leaf[] {
  const out: Leaf[] = [];
  const stack: Array<{ v: unknown; path: string; key: string; parent: unknown; d: number }> = [
    { v: root, path: '', key: '', parent: undefined, d: 0 },
  ];
  while (stack.length > 0 && out.length < max) {
    const { v, path, key, parent, d } = stack.pop()!;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) {
      out.push({ path, key, value: v, parent });
    } else if (d < maxDepth && Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: joinKey(path, i), key: String(i), parent: v, d: d + 1 });
    } else if (d < maxDepth && isObj(v)) {
      const ks = Object.keys(v);
      for (let i = ks.length - 1; i >= 0; i--) {
        const k = ks[i]!;
        stack.push({ v: v[k], path: joinKey(path, k), key: k, parent: v, d: d + 1 });
      }
    }
  }
  return out;
}
