import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_NICE } from '../../store/recorder-worker.js';
import { exchange, item, recorder, tempStore } from './fixtures.js';

/** Nice value of each thread of this process (field 19 of /proc/self/task/TID/stat). */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The command name may contain spaces: fields are counted after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return out;
}

describe.skipIf(!existsSync('/proc/self/task'))('recorder worker priority', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t?.cleanup());

  it('lowers the writer thread only: the main thread keeps its nice value', async () => {
    t = tempStore();
    const before = niceByThread();
    const mainNice = before.get(process.pid)!;
    const r = recorder(t.store);
    r.stage.run(item(exchange(1)));
    await r.flush(); // the worker is up and has written
    const after = niceByThread();
    // Every thread that existed before (the main thread, libuv's pool, V8's helpers) is unchanged.
    for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid), `thread ${tid}`).toBe(nice);
    expect(after.get(process.pid)).toBe(mainNice);
    // The nice value is absolute, and an unprivileged process cannot lower it: from a run already
    // above WORKER_NICE the call is refused and recording carries on at the inherited value.
    const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === WORKER_NICE);
    if (mainNice < WORKER_NICE) expect(lowered.length).toBe(1);
    await r.close();
  });
});
