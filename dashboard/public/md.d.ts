// Types for md.js (plain browser ESM), so TypeScript tests can import it.
export function mdSpans(text: unknown): Array<{ text: string; code: boolean }>;
export function Md(props: { text: unknown }): unknown;
