// Types for colors.js (plain browser ESM), so TypeScript tests can import it.
export const OTHER_COLOR: string;
export function partyColor(name: string | null | undefined): string;
export function hhmm(ms: number): string;
