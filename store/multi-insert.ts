/**
 * Multi-row INSERTs: rows are buffered and written `chunk` at a time with one statement
 * (`VALUES (...),(...),...`). Per-row statement calls were most of the writer's time (each is a
 * bind + step + reset round trip through the native binding); a 32-row statement costs little
 * more than a 1-row one. Statements are prepared once per row count and reused.
 *
 * Callers push a row's values straight onto `params` and then call `end()`: a rest-argument
 * `add(...values)` allocated an array per row, garbage the writer made 4-5 times per exchange.
 */
import type Database from 'better-sqlite3';

export interface RowBuffer {
  /** Push one row's values here (exactly `columns` of them), then call end(). */
  readonly params: unknown[];
  /** The row pushed onto params is complete (writes a chunk when one is full). */
  end(): void;
  /** Convenience for cold paths: push and end in one call. */
  add(...values: unknown[]): void;
  /** Write what is buffered (call before the transaction commits). */
  flush(): void;
  /** Forget buffered rows (after a failed transaction). */
  clear(): void;
}

export function rowBuffer(db: Database.Database, head: string, columns: number, chunk = 32): RowBuffer {
  const stmts = new Map<number, Database.Statement>();
  const tuple = `(${new Array<string>(columns).fill('?').join(',')})`;
  // One array, reused: better-sqlite3 binds the values during run(), so it can be emptied after.
  const params: unknown[] = [];
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
    params,
    end() {
      if (++rows === chunk) buffer.flush();
    },
    add(...values) {
      for (const v of values) params.push(v);
      buffer.end();
    },
    flush() {
      if (rows === 0) return;
      const n = rows;
      rows = 0;
      try {
        stmt(n).run(params);
      } finally {
        params.length = 0;
      }
    },
    clear() {
      params.length = 0;
      rows = 0;
    },
  };
  return buffer;
}
