// Types for the unit tests (the browser ignores this file).
export function needles(values: readonly string[]): string[];
export function segments(text: string, list: readonly string[]): Array<{ text: string; hit: boolean }>;
export function Highlighted(props: { text: string; values: readonly string[] }): unknown;
export function wireValues(leaks: ReadonlyArray<{ where: string; value: string }> | null | undefined, prefix: string, text: string | null | undefined): string[];
