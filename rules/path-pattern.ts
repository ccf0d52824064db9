/**
 * Path patterns of rule packs (rules/README.md, "Paths"): parsed once when a pack is loaded, then
 * matched against the raw request path by walking segment arrays, so no regex is built or run per
 * request.
 *
 * - A literal segment matches the raw (not percent-decoded) segment exactly, case included: the
 *   pack author writes what clients send on the wire.
 * - `{name}` matches one non-empty segment; `{*name}` matches the rest (one or more segments,
 *   may contain `/`) and must be last. Placeholders are whole segments.
 * - Captured values are percent-decoded; a value that does not decode is kept raw, because a
 *   malformed request is still traffic to report, not an error.
 * - A trailing `/` is significant: `/a/` is the segments ["a", ""].
 */

export type Segment =
  | { readonly type: 'literal'; readonly text: string }
  | { readonly type: 'param'; readonly name: string }
  | { readonly type: 'rest'; readonly name: string };

export interface PathPattern {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** How many literal segments: more literals = more specific (used for match priority). */
  readonly literals: number;
  /** Placeholder names in order. */
  readonly names: readonly string[];
}

export type PathPatternResult =
  | { readonly ok: true; readonly pattern: PathPattern }
  | { readonly ok: false; readonly error: string };

const PLACEHOLDER = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Parse a pattern; the error string is a stable, user-facing message (used by rules/schema.ts). */
export function parsePathPattern(source: string): PathPatternResult {
  const fail = (error: string): PathPatternResult => ({ ok: false, error });
  if (!source.startsWith('/')) return fail('must start with "/"');
  if (/[?#]/.test(source)) return fail('must not contain a query or fragment ("?" or "#"): paths match without the query');
  if (/\s/.test(source)) return fail('must not contain spaces');
  const raw = source.slice(1).split('/');
  const segments: Segment[] = [];
  const names: string[] = [];
  let literals = 0;
  for (let i = 0; i < raw.length; i++) {
    const text = raw[i]!;
    const isLast = i === raw.length - 1;
    if (text === '' && !isLast) return fail('must not contain an empty segment ("//")');
    if (!text.includes('{') && !text.includes('}')) {
      segments.push({ type: 'literal', text });
      literals++;
      continue;
    }
    const m = PLACEHOLDER.exec(text);
    if (!m) {
      return fail(
        `bad placeholder segment "${text}": a placeholder is a whole segment, {name} or {*name}, ` +
          'with a name of letters, digits and _',
      );
    }
    const name = m[2]!;
    if (names.includes(name)) return fail(`placeholder {${name}} appears twice`);
    names.push(name);
    if (m[1] === '*') {
      if (!isLast) return fail(`{*${name}} must be the last segment`);
      segments.push({ type: 'rest', name });
    } else {
      segments.push({ type: 'param', name });
    }
  }
  return { ok: true, pattern: { source, segments, literals, names } };
}

/**
 * The segments of a request path, query and fragment removed: "/a/b?x" -> ["a", "b"].
 * null when the path does not start with "/" (e.g. "*" of OPTIONS): only any-path rules apply.
 * Split once per request and shared by every pattern.
 */
export function splitPath(path: string): readonly string[] | null {
  if (!path.startsWith('/')) return null;
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const h = path.indexOf('#');
  if (h >= 0 && h < end) end = h;
  return path.slice(1, end).split('/');
}

function decode(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** Match split path segments; returns the decoded placeholder values, or null. */
export function matchPath(pattern: PathPattern, parts: readonly string[]): Readonly<Record<string, string>> | null {
  const segs = pattern.segments;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg.type === 'rest') {
      if (i >= parts.length) return null;
      const rest = i === parts.length - 1 ? parts[i]! : parts.slice(i).join('/');
      if (rest === '') return null;
      (params ??= {})[seg.name] = decode(rest);
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.type === 'literal') {
      if (part !== seg.text) return null;
    } else {
      if (part === '') return null;
      (params ??= {})[seg.name] = decode(part);
    }
  }
  if (parts.length !== segs.length) return null;
  return params ?? NO_PARAMS;
}
