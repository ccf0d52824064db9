/**
 * `leakwatch rules check [PATH...]`: validate rule packs without starting anything. Lists each
 * valid pack with its rule count and every error as `file:line:col: field: message`. With no
 * paths, checks the built-in packs. The CLI entry prints `output` and exits non-zero when !ok.
 */
import { RulePackError } from '../core/errors.js';
import { compileRuleset } from '../rules/compile.js';
import { builtinPackPaths, collectPacks } from '../rules/load.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function rulesCheckCommand(paths: string[]): { ok: boolean; output: string } {
  const targets = paths.length > 0 ? paths : builtinPackPaths();
  if (targets.length === 0) return { ok: true, output: 'no rule packs to check' };
  const { packs, errors } = collectPacks(targets);
  if (errors.length === 0) {
    try {
      compileRuleset(packs); // validated packs always compile; this keeps `check` honest
    } catch (err: unknown) {
      if (!(err instanceof RulePackError)) throw err;
      errors.push(err);
    }
  }
  const lines: string[] = [];
  const width = Math.max(0, ...packs.map((p) => p.pack.length));
  for (const p of packs) lines.push(`ok  ${p.pack.padEnd(width)}  ${plural(p.rules.length, 'rule').padEnd(9)}  ${p.file}`);
  for (const e of errors) lines.push(e.message);
  const rules = packs.reduce((n, p) => n + p.rules.length, 0);
  const problems = errors.reduce((n, e) => n + e.message.split('\n').length, 0);
  lines.push(
    errors.length === 0
      ? `${plural(packs.length, 'pack')}, ${plural(rules, 'rule')}: ok`
      : `${plural(problems, 'problem')} (${plural(packs.length, 'valid pack')}, ${plural(rules, 'rule')})`,
  );
  return { ok: errors.length === 0, output: lines.join('\n') };
}
