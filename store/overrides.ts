/**
 * Enforcement overrides in SQLite (`overrides`, migration v4): the overlay on the rule packs that
 * the dashboard edits. Expired hold decisions are dropped on read. Only store/ touches SQLite; the
 * rest sees these plain records.
 */
import type { Store } from './db.js';

export type OverrideKind = 'rule-action' | 'block' | 'allow-client' | 'hold-decision';

export interface OverrideRecord {
  readonly id: number;
  readonly kind: OverrideKind;
  readonly ruleId: string | null;
  readonly action: string | null;
  readonly host: string | null;
  readonly path: string | null;
  readonly client: string | null;
  readonly decision: 'allow' | 'deny' | null;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly note: string | null;
}

export type NewOverride = Omit<Partial<OverrideRecord>, 'id' | 'createdAt'> & { readonly kind: OverrideKind };

interface Row {
  id: number;
  kind: OverrideKind;
  rule_id: string | null;
  action: string | null;
  host: string | null;
  path: string | null;
  client: string | null;
  decision: 'allow' | 'deny' | null;
  created_at: number;
  expires_at: number | null;
  note: string | null;
}

const toRecord = (r: Row): OverrideRecord => ({
  id: r.id,
  kind: r.kind,
  ruleId: r.rule_id,
  action: r.action,
  host: r.host,
  path: r.path,
  client: r.client,
  decision: r.decision,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  note: r.note,
});

export interface OverrideStore {
  /** Every override still in force, oldest first. */
  list(now?: number): OverrideRecord[];
  add(o: NewOverride, now?: number): OverrideRecord;
  remove(id: number): boolean;
}

export function createOverrideStore(store: Store): OverrideStore {
  const db = store.db;
  const sel = db.prepare('SELECT * FROM overrides WHERE expires_at IS NULL OR expires_at > ? ORDER BY id');
  const ins = db.prepare(`INSERT INTO overrides (kind, rule_id, action, host, path, client, decision, created_at, expires_at, note)
    VALUES (@kind, @ruleId, @action, @host, @path, @client, @decision, @createdAt, @expiresAt, @note)`);
  const one = db.prepare('SELECT * FROM overrides WHERE id = ?');
  const del = db.prepare('DELETE FROM overrides WHERE id = ?');
  const purgeExpired = db.prepare('DELETE FROM overrides WHERE expires_at IS NOT NULL AND expires_at <= ?');
  // One action per rule, one row per (kind, host, path, client): adding again replaces.
  const delSame = db.prepare(`DELETE FROM overrides WHERE kind = @kind AND
    ((kind = 'rule-action' AND rule_id = @ruleId) OR
     (kind = 'block' AND host = @host AND coalesce(path, '') = coalesce(@path, '')) OR
     (kind = 'allow-client' AND client = @client) OR
     (kind = 'hold-decision' AND rule_id = @ruleId AND host = @host AND coalesce(client, '') = coalesce(@client, '')))`);
  return {
    list(now = Date.now()) {
      return (sel.all(now) as Row[]).map(toRecord);
    },
    add(o, now = Date.now()) {
      const params = {
        kind: o.kind,
        ruleId: o.ruleId ?? null,
        action: o.action ?? null,
        host: o.host ?? null,
        path: o.path ?? null,
        client: o.client ?? null,
        decision: o.decision ?? null,
        createdAt: now,
        expiresAt: o.expiresAt ?? null,
        note: o.note ?? null,
      };
      const id = db.transaction(() => {
        purgeExpired.run(now);
        delSame.run(params);
        return Number(ins.run(params).lastInsertRowid);
      })();
      return toRecord(one.get(id) as Row);
    },
    remove(id) {
      return del.run(id).changes > 0;
    },
  };
}
