/**
 * Multi-row INSERTs: rows are buffered and written `chunk` at a time with one statement
 * (`VALUES (...),(...),...`). Per-row statement calls were most of the writer's time (each is a
 * bind + step + reset round trip through the native binding); a 32-row statement costs little
 * more than a 1-row one. Statements are prepared once per row count and reused.
 */
import type Database from 'better-sqlite3';

export interface RowBuffer {
  add(...values: unknown[]): void;
  /** Write what is buffered (call before the transaction commits). */
  flush(): void;
  /** Forget buffered rows (after a failed transaction). */
  clear(): void;
}

export function rowBuffer(db: Database.Database, head: string, columns: number, chunk = 32): RowBuffer {
  const stmts = new Map<number, Database.Statement>();
  const tuple = `(${new Array<string>(columns).fill('?').join(',')})`;
  let params: unknown[] = [];
  let rows = 0;
  const stmt = (n: number): Database.Statement => {
    let s = stmts.get(n);
    if (!s) {
      s = db.prepare(`${head} VALUES ${new Array<string>(n).fill(tuple).join(',')}`);
      stmts.set(n, s);
    }
    return s;
  };
  const buffer: RowBuffer = {
    add(...values) {
      for (const v of values) params.push(v);
      if (++rows === chunk) buffer.flush();
    },
    flush() {
      if (rows === 0) return;
      const p = params;
      const n = rows;
      params = [];
      rows = 0;
      stmt(n).run(p);
    },
    clear() {
      params = [];
      rows = 0;
    },
  };
  return buffer;
}
