// Types for detail.js (plain browser ESM), so TypeScript tests can import it.
export function prettyBody(text: string | null | undefined, contentType?: string | null): string | null;
export function curlOf(
  f: { method: string; url: string },
  request?: { headers?: ReadonlyArray<readonly [string, string]>; body?: { text?: string | null } | null } | null,
): string;
export function DetailView(props: { id: string }): unknown;
