/**
 * Keeping summary and timeline in step when rows are deleted (purge, retention). Counts are
 * subtracted exactly; rows that reach zero are removed; first/last seen of the touched summary
 * cells are re-read from the remaining rows (the oldest/newest remaining exchange by id, which is
 * start order: exchanges_party gives the cell's exchanges in id order, and findings are clustered
 * by exchange, so each step is one key probe).
 */
import type Database from 'better-sqlite3';

/** A deleted finding with the keys of its exchange. */
export interface GoneFinding {
  readonly session_id: number;
  readonly party_id: number;
  readonly category_id: number;
  readonly kind_id: number;
  readonly time: number;
}

/** Deleted flows per timeline cell: a finding count, and whether the exchange itself went. */
export interface GoneFlow {
  readonly time: number;
  readonly session_id: number;
  readonly party_id: number;
  readonly flows: number;
  readonly leaks: number;
}

export function createAggregateFixer(db: Database.Database) {
  const subSummary = db.prepare(`UPDATE summary SET count = count - ? WHERE session_id = ? AND party_id = ?
    AND category_id = ? AND kind_id = ?`);
  const delSummary = db.prepare('DELETE FROM summary WHERE session_id = ? AND party_id = ? AND category_id = ? AND kind_id = ? AND count <= 0');
  const edge = (dir: 'ASC' | 'DESC') => db.prepare(`SELECT e.time FROM exchanges e INDEXED BY exchanges_party
    WHERE e.party_id = ? AND e.session_id = ? AND e.category_id = ?
      AND EXISTS (SELECT 1 FROM findings f WHERE f.exchange_id = e.id AND f.kind_id = ?)
    ORDER BY e.id ${dir} LIMIT 1`).pluck();
  const first = edge('ASC');
  const last = edge('DESC');
  const setSeen = db.prepare(`UPDATE summary SET first_seen = ?, last_seen = ? WHERE session_id = ? AND party_id = ?
    AND category_id = ? AND kind_id = ?`);
  const subTimeline = db.prepare(`UPDATE timeline SET flows = flows - ?, leaks = leaks - ?
    WHERE minute = ? AND session_id = ? AND party_id = ?`);
  const delTimeline = db.prepare('DELETE FROM timeline WHERE minute = ? AND session_id = ? AND party_id = ? AND flows <= 0');

  return {
    /** Call after the findings (and exchanges) are deleted, inside the same transaction. */
    findingsGone(rows: readonly GoneFinding[]): void {
      const cells = new Map<string, [number, number, number, number, number]>();
      for (const r of rows) {
        const k = `${r.session_id},${r.party_id},${r.category_id},${r.kind_id}`;
        const c = cells.get(k);
        if (c) c[4]++;
        else cells.set(k, [r.session_id, r.party_id, r.category_id, r.kind_id, 1]);
      }
      for (const [s, p, c, k, n] of cells.values()) {
        subSummary.run(n, s, p, c, k);
        if (delSummary.run(s, p, c, k).changes > 0) continue;
        const f = first.get(p, s, c, k) as number | undefined;
        const l = last.get(p, s, c, k) as number | undefined;
        if (f !== undefined && l !== undefined) setSeen.run(f, l, s, p, c, k);
      }
    },
    flowsGone(rows: readonly GoneFlow[]): void {
      const cells = new Map<string, [number, number, number, number, number]>();
      for (const r of rows) {
        const minute = Math.floor(r.time / 60000);
        const k = `${minute},${r.session_id},${r.party_id}`;
        const c = cells.get(k);
        if (c) { c[3] += r.flows; c[4] += r.leaks; }
        else cells.set(k, [minute, r.session_id, r.party_id, r.flows, r.leaks]);
      }
      for (const [m, s, p, flows, leaks] of cells.values()) {
        subTimeline.run(flows, leaks, m, s, p);
        delTimeline.run(m, s, p);
      }
    },
  };
}
