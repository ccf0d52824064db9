// Types for who.js (plain browser ESM), so TypeScript tests can import it.
export interface OutcomeCounts { sent: number; answered: number; prevented: number; held: number; firstSeen: number; lastSeen: number }
export interface WhoRow {
  key: string;
  party: string | null;
  domain: string;
  hosts: Set<string>;
  categories: Set<string>;
  total: OutcomeCounts;
  cells: Map<string, OutcomeCounts>;
}
export const OUTCOMES: readonly string[];
export function pivot(cells: ReadonlyArray<{ party: string | null; category: string | null; host: string; domain: string; kind: string; outcome: string; count: number; firstSeen: number; lastSeen: number }>): { rows: WhoRow[]; kinds: string[] };
export function WhoView(): unknown;
