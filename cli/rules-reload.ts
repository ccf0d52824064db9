/**
 * Reloading rule packs while running (SIGHUP, `--watch-rules`): load and compile the packs again;
 * on success the new ruleset replaces the old one at once (the gate and the audit stage read it
 * per request); on failure the old rules keep running and the error is logged and shown in the
 * dashboard's Rules view (`rejected`) until a later reload succeeds.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RulePackError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { CompiledRuleset } from '../rules/compile.js';
import { builtinPackPaths, expandPackPaths, loadRuleset } from '../rules/load.js';

export interface Rejected {
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly field?: string;
}

export interface RulesReloader {
  /** Loads the packs again; true when the new rules are in force. */
  reload(reason: string): boolean;
  /** Problems of the last reload (empty once one succeeded). */
  rejected(): readonly Rejected[];
  close(): void;
}

export interface RulesReloaderOptions {
  readonly builtin: boolean;
  readonly extra: readonly string[];
  readonly onChange: (rs: CompiledRuleset) => void;
  readonly log: Logger;
  /** Watch the packs' files and folders and reload when they change. */
  readonly watch: boolean;
  readonly debounceMs?: number;
}

function rejectedOf(err: unknown): Rejected[] {
  if (err instanceof RulePackError) {
    return err.message.split('\n').map((message, i) =>
      i === 0 ? { message, file: err.file, line: err.line, col: err.col, field: err.field } : { message },
    );
  }
  return [{ message: (err as Error)?.message ?? String(err) }];
}

/** Folders to watch: each pack file's folder (editors save by rename) and each folder given. */
function watchTargets(builtin: boolean, extra: readonly string[]): string[] {
  const dirs = new Set<string>();
  const files = [...(builtin ? builtinPackPaths() : [])];
  for (const p of extra) {
    try {
      files.push(...expandPackPaths([p]));
      dirs.add(resolve(p));
    } catch {
      dirs.add(dirname(resolve(p)));
    }
  }
  for (const f of files) dirs.add(dirname(resolve(f)));
  return [...dirs];
}

export function createRulesReloader(opts: RulesReloaderOptions): RulesReloader {
  let rejected: Rejected[] = [];
  const reload = (reason: string): boolean => {
    try {
      const rs = loadRuleset({ builtin: opts.builtin, extra: opts.extra });
      opts.onChange(rs);
      rejected = [];
      opts.log.info({ reason, rules: rs.rules.length, packs: rs.packs.length }, 'rules reloaded');
      return true;
    } catch (err: unknown) {
      rejected = rejectedOf(err);
      opts.log.error({ reason, err: (err as Error).message }, 'rules reload failed; the previous rules stay in force');
      return false;
    }
  };

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  if (opts.watch) {
    const kick = (file: string | null): void => {
      if (file !== null && !/\.ya?ml$/i.test(file)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => reload(`file changed${file ? `: ${file}` : ''}`), opts.debounceMs ?? 150);
      timer.unref();
    };
    for (const dir of watchTargets(opts.builtin, opts.extra)) {
      try {
        const w = watch(dir, { persistent: false }, (_event, file) => kick(file === null ? null : String(file)));
        w.on('error', (err) => opts.log.warn({ dir, err: err.message }, 'rules watch failed'));
        watchers.push(w);
      } catch (err: unknown) {
        opts.log.warn({ dir, err: (err as Error).message }, 'cannot watch rules folder');
      }
    }
  }

  return {
    reload,
    rejected: () => rejected,
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers.length = 0;
    },
  };
}
