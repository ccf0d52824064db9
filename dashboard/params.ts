/** Query-string parsing for the API: bounded, typed, and strict (bad input is a 400, not a guess). */

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

type Query = Record<string, unknown>;

const MAX_TEXT = 256;

export function text(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name}: give it once`);
  if (v.length > MAX_TEXT) throw new BadRequest(`${name}: longer than ${MAX_TEXT} characters`);
  return v;
}

export function int(q: Query, name: string, min: number, max: number): number | undefined {
  const v = text(q, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new BadRequest(`${name}: not an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new BadRequest(`${name}: must be between ${min} and ${max}`);
  return n;
}

/** Epoch milliseconds or an ISO-8601 date. */
export function time(q: Query, name: string): number | undefined {
  const v = text(q, name);
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new BadRequest(`${name}: not a time (epoch ms or ISO-8601)`);
  return n;
}

/** Copies only the defined values, for exactOptionalPropertyTypes-friendly option objects. */
export function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
