/**
 * The schema, as a forward-only ladder (Pi-hole FTL's `if version < N` steps). Each step is one
 * function run in its own transaction; `meta.schema_version` records the last step applied. Never
 * edit a released step: add a new one. Every step is tested from an empty file.
 *
 * Layout (FTL's query log): repeated strings live once in `*_by_id` tables (UNIQUE, filled with
 * INSERT OR IGNORE); `exchanges` and `findings` hold integers. 0 means "none" in id columns, so
 * aggregate keys never contain NULL. Closed vocabularies (kinds, categories, verdicts, severities,
 * exchange types) are tables too: the database, not array positions, owns their codes.
 */
import type Database from 'better-sqlite3';
import { blobHash, unpack } from './blobs.js';

export type Migration = (db: Database.Database) => void;

const STRING_TABLES = [
  'hosts', 'parties', 'rules', 'clients', 'wheres', 'fmethods', 'errors',
  'categories', 'kinds', 'verdicts', 'severities', 'types',
] as const;
export type StringTable = (typeof STRING_TABLES)[number];

/** v1: interned strings, sessions, values, exchanges, findings, details and bodies. */
function v1(db: Database.Database): void {
  for (const t of STRING_TABLES) {
    db.exec(`CREATE TABLE ${t}_by_id (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`);
  }
  db.exec(`
    CREATE TABLE sessions_by_id (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, started_at INTEGER NOT NULL);
    -- One row per distinct leaked value. hash = HMAC-SHA256(install key, raw value); shown = the raw
    -- value, or a masked preview when recorded with --redact (then the raw value is nowhere).
    CREATE TABLE values_by_id (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, shown TEXT NOT NULL,
      redacted INTEGER NOT NULL);
    -- id is the proxy's Exchange.id. url is NULL when scheme://host[:port]path rebuilds it exactly.
    CREATE TABLE exchanges (
      id INTEGER PRIMARY KEY, time INTEGER NOT NULL, duration INTEGER NOT NULL,
      session_id INTEGER NOT NULL, type_id INTEGER NOT NULL, client_id INTEGER NOT NULL,
      method TEXT NOT NULL, scheme TEXT NOT NULL, host_id INTEGER NOT NULL, port INTEGER NOT NULL,
      path TEXT NOT NULL, url TEXT, status INTEGER, error_id INTEGER NOT NULL,
      rule_id INTEGER NOT NULL, party_id INTEGER NOT NULL, category_id INTEGER NOT NULL,
      severity_id INTEGER NOT NULL, verdict_id INTEGER NOT NULL, first_party INTEGER NOT NULL,
      finding_count INTEGER NOT NULL);
    CREATE INDEX exchanges_time ON exchanges(time);
    CREATE INDEX exchanges_session ON exchanges(session_id, id);
    CREATE INDEX exchanges_party ON exchanges(party_id, id);
    CREATE INDEX exchanges_category ON exchanges(category_id, id);
    CREATE INDEX exchanges_host ON exchanges(host_id, id);
    CREATE TABLE findings (id INTEGER PRIMARY KEY, exchange_id INTEGER NOT NULL, kind_id INTEGER NOT NULL,
      value_id INTEGER NOT NULL, where_id INTEGER NOT NULL, method_id INTEGER NOT NULL);
    CREATE INDEX findings_exchange ON findings(exchange_id);
    CREATE INDEX findings_value ON findings(value_id);
    CREATE INDEX findings_kind ON findings(kind_id, exchange_id);
    -- Headers, versions, websocket/tls facts, error message, notes: deflated JSON, out of line.
    CREATE TABLE details (exchange_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
    -- key = exchange_id * 4 + part (1 request, 2 response, 3 websocket data): no extra index.
    -- enc 0 = stored as is, 1 = raw deflate.
    CREATE TABLE bodies (key INTEGER PRIMARY KEY, enc INTEGER NOT NULL, size INTEGER NOT NULL,
      truncated INTEGER NOT NULL, data BLOB NOT NULL);
  `);
}

/** v2: pre-aggregated summary (party x kind) and per-minute timeline, backfilled from raw rows. */
function v2(db: Database.Database): void {
  db.exec(`
    CREATE TABLE summary (session_id INTEGER NOT NULL, party_id INTEGER NOT NULL,
      category_id INTEGER NOT NULL, kind_id INTEGER NOT NULL, count INTEGER NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      PRIMARY KEY (session_id, party_id, category_id, kind_id)) WITHOUT ROWID;
    CREATE TABLE timeline (minute INTEGER NOT NULL, session_id INTEGER NOT NULL, party_id INTEGER NOT NULL,
      flows INTEGER NOT NULL, leaks INTEGER NOT NULL,
      PRIMARY KEY (minute, session_id, party_id)) WITHOUT ROWID;
    INSERT INTO summary SELECT e.session_id, e.party_id, e.category_id, f.kind_id, count(*), min(e.time), max(e.time)
      FROM findings f JOIN exchanges e ON e.id = f.exchange_id GROUP BY 1, 2, 3, 4;
    INSERT INTO timeline SELECT time / 60000, session_id, party_id, count(*), sum(finding_count)
      FROM exchanges GROUP BY 1, 2, 3;
  `);
}

/** v3: views that join the strings back, for humans (sqlite3 CLI) and the exporters. */
function v3(db: Database.Database): void {
  db.exec(`
    CREATE VIEW exchanges_v AS SELECT e.id, e.time, e.duration, e.session_id, s.name AS session,
      t.name AS type, c.name AS client, e.method, e.scheme, h.name AS host, e.port, e.path, e.url,
      e.status, er.name AS error, r.name AS rule, p.name AS party, cat.name AS category,
      sev.name AS severity, v.name AS verdict, e.first_party, e.finding_count
    FROM exchanges e
      LEFT JOIN sessions_by_id s ON s.id = e.session_id LEFT JOIN types_by_id t ON t.id = e.type_id
      LEFT JOIN clients_by_id c ON c.id = e.client_id LEFT JOIN hosts_by_id h ON h.id = e.host_id
      LEFT JOIN errors_by_id er ON er.id = e.error_id LEFT JOIN rules_by_id r ON r.id = e.rule_id
      LEFT JOIN parties_by_id p ON p.id = e.party_id LEFT JOIN categories_by_id cat ON cat.id = e.category_id
      LEFT JOIN severities_by_id sev ON sev.id = e.severity_id LEFT JOIN verdicts_by_id v ON v.id = e.verdict_id;
    CREATE VIEW findings_v AS SELECT f.id, f.exchange_id, k.name AS kind, val.shown AS value,
      val.redacted, lower(hex(val.hash)) AS hash, w.name AS "where", m.name AS method
    FROM findings f JOIN kinds_by_id k ON k.id = f.kind_id JOIN values_by_id val ON val.id = f.value_id
      JOIN wheres_by_id w ON w.id = f.where_id JOIN fmethods_by_id m ON m.id = f.method_id;
    CREATE VIEW summary_v AS SELECT s.session_id, p.name AS party, c.name AS category, k.name AS kind,
      s.count, s.first_seen, s.last_seen
    FROM summary s JOIN kinds_by_id k ON k.id = s.kind_id
      LEFT JOIN parties_by_id p ON p.id = s.party_id LEFT JOIN categories_by_id c ON c.id = s.category_id;
  `);
}

/**
 * v4: enforcement overrides, an overlay on the rule packs: a rule's action, a blocked
 * host (+ path prefix), an allowed client, and lasting hold decisions ("for an hour", "always").
 * Strings, not interned ids: a handful of rows, edited by hand from the dashboard.
 */
function v4(db: Database.Database): void {
  db.exec(`
    CREATE TABLE overrides (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('rule-action', 'block', 'allow-client', 'hold-decision')),
      rule_id TEXT, action TEXT, host TEXT, path TEXT, client TEXT,
      decision TEXT CHECK (decision IS NULL OR decision IN ('allow', 'deny')),
      created_at INTEGER NOT NULL, expires_at INTEGER, note TEXT);
    CREATE INDEX overrides_kind ON overrides(kind, id);
  `);
}

/**
 * v5: bodies are content-addressed. The bytes live once in `blobs` (keyed by the SHA-256 of the
 * stored bytes, before deflate); `bodies` rows point at them. A capture of repeated API responses
 * (the same config, avatar or 100 KB JSON every few seconds) stored and deflated every copy: the
 * recorder's largest cost per big exchange. Orphaned blobs go with the last body that used them
 * (store/body-rows.ts), hence the index on bodies(blob_id). AUTOINCREMENT: a purged blob's id is
 * never handed out again, so a writer cache that missed a purge cannot point a body at other bytes.
 */
function v5(db: Database.Database): void {
  db.exec(`
    CREATE TABLE blobs (id INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB NOT NULL UNIQUE, enc INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE TABLE bodies_v5 (key INTEGER PRIMARY KEY, size INTEGER NOT NULL, truncated INTEGER NOT NULL,
      blob_id INTEGER NOT NULL);
  `);
  const insBlob = db.prepare('INSERT OR IGNORE INTO blobs (hash, enc, data) VALUES (?, ?, ?)');
  const selBlob = db.prepare('SELECT id FROM blobs WHERE hash = ?').pluck();
  const insBody = db.prepare('INSERT INTO bodies_v5 (key, size, truncated, blob_id) VALUES (?, ?, ?, ?)');
  // Keyset pages (a connection cannot write while a statement is still iterating), so a large
  // file migrates in bounded memory.
  const page = db.prepare('SELECT key, enc, size, truncated, data FROM bodies WHERE key > ? ORDER BY key LIMIT 256');
  for (let last = -1; ;) {
    const rows = page.all(last) as Array<{ key: number; enc: number; size: number; truncated: number; data: Buffer }>;
    if (rows.length === 0) break;
    for (const r of rows) {
      // Stored as they were (no re-deflate): only the hash needs the raw bytes.
      const hash = blobHash(unpack(r.enc, r.data));
      insBlob.run(hash, r.enc, r.data);
      insBody.run(r.key, r.size, r.truncated, selBlob.get(hash) as number);
    }
    last = rows[rows.length - 1]!.key;
  }
  db.exec(`
    DROP TABLE bodies;
    ALTER TABLE bodies_v5 RENAME TO bodies;
    CREATE INDEX bodies_blob ON bodies(blob_id);
  `);
}

/**
 * v6: findings are stored clustered by exchange (WITHOUT ROWID, key (exchange_id, n), n = the
 * finding's position in its exchange). Every read of findings is per exchange (a flow's findings,
 * its kinds, the kind filter, export, purge and retention deletes), so the table itself is now
 * the index those used, and findings_exchange goes; findings_kind goes too (only the aggregate
 * fixer used it: it walks exchanges_party instead). Two B-tree inserts fewer per finding, the
 * largest share of the recorder's cost on a big capture. findings_v keeps an `id` (ordered like
 * the old one within an exchange).
 */
function v6(db: Database.Database): void {
  db.exec(`
    DROP VIEW findings_v;
    CREATE TABLE findings_v6 (exchange_id INTEGER NOT NULL, n INTEGER NOT NULL, kind_id INTEGER NOT NULL,
      value_id INTEGER NOT NULL, where_id INTEGER NOT NULL, method_id INTEGER NOT NULL,
      PRIMARY KEY (exchange_id, n)) WITHOUT ROWID;
    INSERT INTO findings_v6 SELECT exchange_id, row_number() OVER (PARTITION BY exchange_id ORDER BY id) - 1,
      kind_id, value_id, where_id, method_id FROM findings;
    DROP TABLE findings;
    ALTER TABLE findings_v6 RENAME TO findings;
    CREATE INDEX findings_value ON findings(value_id);
    CREATE VIEW findings_v AS SELECT f.exchange_id * ${FINDING_ID_SPAN} + f.n AS id, f.exchange_id, k.name AS kind,
      val.shown AS value, val.redacted, lower(hex(val.hash)) AS hash, w.name AS "where", m.name AS method
    FROM findings f JOIN kinds_by_id k ON k.id = f.kind_id JOIN values_by_id val ON val.id = f.value_id
      JOIN wheres_by_id w ON w.id = f.where_id JOIN fmethods_by_id m ON m.id = f.method_id;
  `);
}

/**
 * v7: `exposure`, what each party (and each host) learned, split by outcome: 0 sent (the request
 * carried it to the party), 1 answered (it came back in a response: the party told you, it did not
 * learn it), 2 prevented (blocked or neutralized: it never left), 3 held (asked the user; the
 * exchange's detail says whether it was allowed or denied). The summary table cannot tell these
 * apart, and "who knows what" must not count a blocked request as data the party received.
 * Filled by triggers so every writer keeps it exact. The recorder writes exchanges and findings in
 * separate multi-row chunks, so a finding may arrive before or after its exchange: the finding
 * trigger counts it when the exchange is already there, the exchange trigger counts the findings
 * that came first. Each finding is counted exactly once. Deletes (purge, retention) remove
 * findings while their exchange still exists, so one delete trigger keeps it exact (cells that
 * reach zero stay, and readers skip them: deleting them per finding would scan the table).
 * exchanges_type: the TLS-failure filter and count.
 */
const outcomeSql = (where: string): string => `CASE WHEN v.name IN ('block', 'neutralize') THEN 2 WHEN v.name = 'hold' THEN 3
  WHEN ${where} LIKE 'response%' THEN 1 ELSE 0 END`;
function v7(db: Database.Database): void {
  const cell = (findingAlias: string, exchangeAlias: string) => `SELECT ${exchangeAlias}.session_id, ${exchangeAlias}.party_id,
      ${exchangeAlias}.category_id, ${exchangeAlias}.host_id, ${findingAlias}.kind_id, ${outcomeSql('w.name')}, 1, ${exchangeAlias}.time, ${exchangeAlias}.time`;
  const joins = (f: string, e: string) => `LEFT JOIN verdicts_by_id v ON v.id = ${e}.verdict_id LEFT JOIN wheres_by_id w ON w.id = ${f}.where_id`;
  const upsert = `ON CONFLICT DO UPDATE SET count = count + 1, first_seen = min(first_seen, excluded.first_seen),
      last_seen = max(last_seen, excluded.last_seen)`;
  db.exec(`
    CREATE TABLE exposure (session_id INTEGER NOT NULL, party_id INTEGER NOT NULL, category_id INTEGER NOT NULL,
      host_id INTEGER NOT NULL, kind_id INTEGER NOT NULL, outcome INTEGER NOT NULL, count INTEGER NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      PRIMARY KEY (session_id, party_id, category_id, host_id, kind_id, outcome)) WITHOUT ROWID;
    INSERT INTO exposure ${cell('f', 'e')}
      FROM findings f JOIN exchanges e ON e.id = f.exchange_id ${joins('f', 'e')} WHERE true
      ON CONFLICT DO UPDATE SET count = count + 1, first_seen = min(first_seen, excluded.first_seen),
      last_seen = max(last_seen, excluded.last_seen);
    CREATE TRIGGER exposure_finding AFTER INSERT ON findings BEGIN
      INSERT INTO exposure ${cell('NEW', 'e')} FROM exchanges e ${joins('NEW', 'e')} WHERE e.id = NEW.exchange_id ${upsert};
    END;
    CREATE TRIGGER exposure_exchange AFTER INSERT ON exchanges BEGIN
      INSERT INTO exposure ${cell('f', 'NEW')} FROM findings f ${joins('f', 'NEW')} WHERE f.exchange_id = NEW.id ${upsert};
    END;
    CREATE TRIGGER exposure_gone AFTER DELETE ON findings BEGIN
      UPDATE exposure SET count = count - 1 WHERE (session_id, party_id, category_id, host_id, kind_id, outcome) =
        (SELECT e.session_id, e.party_id, e.category_id, e.host_id, OLD.kind_id, ${outcomeSql('(SELECT name FROM wheres_by_id WHERE id = OLD.where_id)')}
         FROM exchanges e LEFT JOIN verdicts_by_id v ON v.id = e.verdict_id WHERE e.id = OLD.exchange_id);
    END;
    CREATE INDEX exchanges_type ON exchanges(type_id, id);
  `);
}

/**
 * v8: `exchanges_text`, an FTS5 trigram index over the stored path and URL, so a search for text
 * that few exchanges hold finds them without reading every path (a LIKE '%…%' cannot use a B-tree).
 * External content (the text stays in `exchanges` only) and detail=none (no positions: LIKE needs
 * none) keep it small; triggers keep it exact for every writer, retention and purge (purge then
 * merges it with 'optimize', so no segment keeps a purged path's tokens).
 */
function v8(db: Database.Database): void {
  db.exec(`
    CREATE VIRTUAL TABLE exchanges_text USING fts5(path, url, content='exchanges', content_rowid='id',
      tokenize='trigram', detail='none');
    INSERT INTO exchanges_text(exchanges_text) VALUES('rebuild');
    CREATE TRIGGER exchanges_text_insert AFTER INSERT ON exchanges BEGIN
      INSERT INTO exchanges_text(rowid, path, url) VALUES (new.id, new.path, new.url);
    END;
    CREATE TRIGGER exchanges_text_delete AFTER DELETE ON exchanges BEGIN
      INSERT INTO exchanges_text(exchanges_text, rowid, path, url) VALUES ('delete', old.id, old.path, old.url);
    END;
    CREATE TRIGGER exchanges_text_update AFTER UPDATE OF path, url ON exchanges BEGIN
      INSERT INTO exchanges_text(exchanges_text, rowid, path, url) VALUES ('delete', old.id, old.path, old.url);
      INSERT INTO exchanges_text(rowid, path, url) VALUES (new.id, new.path, new.url);
    END;
  `);
}

/** findings_v.id = exchange_id * this + n: unique while an exchange has fewer findings (it does: see write.ts). */
export const FINDING_ID_SPAN = 65536;

/** The ladder: index i holds the step to version i + 1. */
export const MIGRATIONS: readonly Migration[] = [v1, v2, v3, v4, v5, v6, v7, v8];
export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/**
 * Apply the steps above the file's version, up to `target` (tests stop part-way). A file newer
 * than this code is refused rather than guessed at.
 */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): number {
  let version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema v${version} is newer than this leakwatch (v${SCHEMA_VERSION})`);
  }
  const setVersion = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)");
  while (version < target) {
    const step = MIGRATIONS[version]!;
    const next = version + 1;
    db.transaction(() => {
      step(db);
      setVersion.run(String(next));
    })();
    version = schemaVersion(db);
  }
  return version;
}
