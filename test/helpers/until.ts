/**
 * The one way a test waits for something: poll `fn` until it returns a truthy value, and fail
 * with what was awaited when it does not come in time. Never a fixed sleep: a fixed sleep is
 * either too short on a loaded machine (a flaky failure) or too long everywhere (a slow suite).
 */
export interface UntilOptions {
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** Default 25. */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

export async function until<T>(fn: () => T | Promise<T>, opts: UntilOptions | number = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, intervalMs = 25, what = 'a condition' } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
