#!/usr/bin/env node
/**
 * The `leakwatch` command. Each subcommand lives in its own module; this file only declares flags
 * and turns errors into one clear line and a non-zero exit (nothing half-started).
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, RulePackError } from '../core/errors.js';
import { LOG_FORMATS } from '../core/log.js';
import { defaultDataDir } from '../core/paths.js';
import { KINDS, SEVERITIES } from '../core/vocabulary.js';
import { VERSION } from './version.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function fail(err: unknown): never {
  if (err instanceof ConfigError || err instanceof RulePackError) {
    process.stderr.write(`leakwatch: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`leakwatch: ${e?.message ?? String(err)}\n`);
  process.exit(1);
}

const program = new Command()
  .name('leakwatch')
  .description('See what your chat apps and servers tell third parties, and stop it.')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`leakwatch: ${str.replace(/^error: /, '').trim()}\n`) });

/** Help text after a subcommand's options: what --identity accepts, then examples. */
const wrap = (text: string, width = 78): string =>
  text.split(' ').reduce<string[]>((lines, word) => {
    const last = lines[lines.length - 1]!;
    if (last.length > 0 && last.length + 1 + word.length > width) lines.push(`  ${word}`);
    else lines[lines.length - 1] = last.length > 0 ? `${last} ${word}` : word;
    return lines;
  }, ['']).join('\n');
const IDENTITY_KINDS = wrap(`--identity kinds: ${KINDS.join(', ')}`);
const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

const dataDirOption = (): Option =>
  new Option('--data-dir <dir>', 'data directory (CA, database, token); env LEAKWATCH_DATA_DIR').default(
    defaultDataDir(),
    '~/.leakwatch',
  );

program
  .command('start')
  .description('start the proxy, the dashboard and the recorder')
  .option('--port <port>', 'proxy port', '8080')
  .option('--host <ip>', 'proxy listen address', '127.0.0.1')
  .option('--dashboard-port <port>', 'dashboard port', '8081')
  .option('--dashboard-host <ip>', 'dashboard listen address', '127.0.0.1')
  .addOption(dataDirOption())
  .option('--resolve <host=ip[:port]>', 'dial HOST at IP[:PORT] instead of DNS (repeatable)', collect)
  .option('--upstream-ca <file>', 'extra trusted root(s) for upstream TLS (repeatable)', collect)
  .option('--passthrough <host>', 'tunnel HOST without interception (repeatable; *.suffix ok)', collect)
  .option('--allow-client <cidr>', 'clients allowed to use the proxy (repeatable)', collect)
  .option('--allow-upstream <cidr>', 'loopback/link-local/private range the proxy may dial (refused by default; repeatable)', collect)
  .option('--dns-port <port>', 'run the DNS server on this port, UDP and TCP (default off)')
  .option('--dns-host <ip>', 'DNS server listen address (default: --host)')
  .option('--dns-upstream <ip[:port]>', 'resolver for names not intercepted, and for leakwatch\'s own upstream lookups')
  .option('--dns-intercept-address <ip>', 'what ruled names resolve to (default: --host unless 0.0.0.0)')
  .option('--transparent-https-port <port>', 'accept TLS without CONNECT, routed by SNI (e.g. 443)')
  .option('--transparent-http-port <port>', 'accept plain HTTP without a proxy, routed by Host (e.g. 80)')
  .option('--stun-port <port>', 'STUN sensor UDP port (repeatable, e.g. 3478 and 19302)', collect)
  .option('--first-party <host>', 'your own homeserver(s) (repeatable)', collect)
  .option('--identity <kind=value>', 'a value of yours or a contact to look for (repeatable; kinds below)', collect)
  .option('--identities <file>', 'file of kind=value lines (repeatable)', collect)
  .option('--rules <path>', 'extra rule pack file or folder (repeatable)', collect)
  .option('--no-builtin-rules', 'do not load the built-in packs')
  .option('--mode <mode>', 'observe | enforce', 'observe')
  .option('--block <host[/path]>', 'block HOST, or HOST/PATH-PREFIX, in enforce mode (repeatable)', collect)
  .option('--action <rule=action>', 'override a rule\'s action: log | block | neutralize | strip | hold (repeatable)', collect)
  .option('--hold-timeout <seconds>', 'deny a held request after this long without an answer', '30')
  .option('--watch-rules', 'reload the rule packs when their files change (SIGHUP always reloads)')
  .option('--session <name>', 'label for this capture session')
  .option('--redact', 'store masked previews and keyed hashes instead of raw values')
  .option('--store-bodies <which>', 'none | leaks | all', 'leaks')
  .option('--retention-days <n>', 'delete recordings older than N days', '30')
  .option('--headers-timeout <seconds>', 'time a client has to send a request head (slowloris bound)', '20')
  .option('--max-connections <n>', 'client connections at once; the oldest idle one makes room', '2048')
  .option('--connect-timeout <seconds>', 'time to open an upstream connection (TCP + TLS) before a 504', '10')
  .option('--idle-timeout <seconds>', 'upstream silence (response head or body) before a 504 or a cut (default 120)')
  .option('--upstream-timeout <seconds>', 'deprecated alias of --idle-timeout')
  .option('--ws-max-payload <bytes>', 'largest WebSocket message relayed; bigger ones close the connection with 1009', String(16 * 1024 * 1024))
  .addOption(new Option('--log-format <format>', 'log lines on stderr (default: plain on a terminal, json otherwise)').choices(LOG_FORMATS))
  .option('--log-file <file>', 'append JSON log lines to FILE instead of stderr')
  .addHelpText('after', `\n${IDENTITY_KINDS}\n${examples(
    'npx leakwatch start',
    'npx leakwatch start --session element-login --identity email=alice@example.org --first-party matrix.example.org',
    'npx leakwatch start --mode enforce --block vector.im --log-file leakwatch.log',
  )}`)
  .action(async (flags: Record<string, unknown>) => {
    // Flags first, from a light module: a wrong value is answered in ~0.2 s, before the engine,
    // the store and the dashboard are even loaded.
    const { validateStartFlags } = await import('./start-options.js');
    const config = validateStartFlags(flags);
    const { startCommand } = await import('./start.js');
    await startCommand(config, { logFormat: flags['logFormat'] as 'plain' | 'json' | undefined, logFile: flags['logFile'] as string | undefined });
  });

program
  .command('ca')
  .description('print the CA certificate path and SHA-256 fingerprint (creates the CA if needed)')
  .addOption(dataDirOption())
  .option('--export <dir>', 'write leakwatch-ca.pem, .der and .crt into DIR')
  .addHelpText('after', examples('npx leakwatch ca', 'npx leakwatch ca --export ~/leakwatch-ca'))
  .action(async (flags: { dataDir: string; export?: string }) => {
    const { caCommand } = await import('./ca.js');
    const { ensureDataDir } = await import('../core/paths.js');
    const out = await caCommand({ dataDir: ensureDataDir(flags.dataDir), ...(flags.export ? { exportDir: flags.export } : {}) });
    process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  });

program
  .command('analyze')
  .description('run the leak pipeline over a HAR 1.2 capture')
  .argument('<file>', 'HAR file')
  .option('--json', 'one JSON object per network entry, one per line')
  .option('--rules <path>', 'extra rule pack file or folder (repeatable)', collect)
  .option('--no-builtin-rules', 'do not load the built-in packs')
  .option('--first-party <host>', 'your own homeserver(s) (repeatable)', collect)
  .option('--identity <kind=value>', 'a value of yours or a contact to look for (repeatable; kinds below)', collect)
  .option('--identities <file>', 'file of kind=value lines (repeatable)', collect)
  .option('--mode <mode>', 'observe | enforce: how rule actions are reported', 'observe')
  .option('--fail-on <kind|severity>', `exit 1 when a leak of this kind, or a rule at or above this severity (${SEVERITIES.filter((x) => x !== 'none').join(', ')}), is found (repeatable)`, collect)
  .addHelpText('after', `\n${IDENTITY_KINDS}\nExit codes: 0 analysed (no --fail-on match), 1 a --fail-on match, 2 nothing could be analysed or bad input.\n${examples(
    'npx leakwatch analyze session.har',
    'npx leakwatch analyze session.har --json --first-party matrix.example.org',
    'npx leakwatch analyze session.har --identity email=alice@example.org --fail-on email --fail-on high',
  )}`)
  .action(async (file: string, flags: Record<string, unknown>) => {
    const { analyzeCommand } = await import('./analyze.js');
    process.exitCode = await analyzeCommand(file, flags, process.stdout, process.stderr);
  });

const rules = program.command('rules').description('rule pack tools');
rules
  .command('check')
  .description('validate rule packs without starting anything')
  .argument('[paths...]', 'pack files or folders (default: the built-in packs)')
  .addHelpText('after', examples('npx leakwatch rules check', 'npx leakwatch rules check my-rules/ extra.yaml'))
  .action(async (paths: string[]) => {
    const { rulesCheckCommand } = await import('./rules-check.js');
    const { ok, output } = rulesCheckCommand(paths);
    (ok ? process.stdout : process.stderr).write(output.endsWith('\n') ? output : `${output}\n`);
    process.exitCode = ok ? 0 : 2;
  });

program
  .command('export')
  .description('write recorded exchanges to stdout')
  .addOption(dataDirOption())
  .requiredOption('--format <format>', 'jsonl | har | csv')
  .option('--since <iso>', 'only exchanges at or after this time')
  .option('--session <id>', 'only this session (id or name)')
  .addHelpText('after', examples('npx leakwatch export --format har > capture.har', 'npx leakwatch export --format jsonl --session element-login --since 2026-01-31T00:00:00Z'))
  .action(async (flags: { dataDir: string; format: string; since?: string; session?: string }) => {
    const { exportCommand } = await import('./export.js');
    await exportCommand({ ...flags, out: process.stdout } as Parameters<typeof exportCommand>[0]);
  });

program
  .command('purge')
  .description('delete every finding of a value (and the bodies that carried it)')
  .addOption(dataDirOption())
  .requiredOption('--value <value>', 'the value to forget')
  .addHelpText('after', examples('npx leakwatch purge --value alice@example.org'))
  .action(async (flags: { dataDir: string; value: string }) => {
    const { purgeCommand } = await import('./purge.js');
    process.stdout.write(`${await purgeCommand(flags)}\n`);
  });

const reportSourceFlags = (c: Command): Command =>
  c
    .addOption(dataDirOption())
    .option('--identity <kind=value>', 'a value of yours shown in clear (others are masked) (repeatable)', collect)
    .option('--identities <file>', 'file of kind=value lines (repeatable)', collect)
    .option('--rules <path>', 'extra rule pack file or folder (repeatable)', collect)
    .option('--no-builtin-rules', 'do not load the built-in packs')
    .option('--first-party <host>', 'your own homeserver(s), for HAR input (repeatable)', collect);

reportSourceFlags(
  program
    .command('report')
    .description('the privacy report of recorded sessions or a HAR file: html, md or json')
    .option('--session <id|name>', 'only this session (repeatable)', collect)
    .option('--since <iso>', 'only exchanges at or after this time')
    .option('--until <iso>', 'only exchanges before this time')
    .option('--format <format>', 'html | md | json (default: from --out, else md)')
    .option('--out <file>', 'write to FILE (0600) instead of stdout')
    .option('--redact', 'mask every value, declared or not')
    .option('--har <file>', 'report on a HAR 1.2 file instead of the store')
    .option('--evidence <n>', 'evidence exchanges per party: 1, 2 or 3', '3')
    .option('--title <text>', 'report title (default: the session names)'),
).action(async (flags: Record<string, unknown>) => {
  const { reportCommand } = await import('./report.js');
  reportCommand(flags as unknown as Parameters<typeof reportCommand>[0], process.stdout, process.stderr);
});

reportSourceFlags(
  program
    .command('diff')
    .description('what session (or HAR) B tells third parties that A did not; exit 1 when B leaks more')
    .argument('<a>', 'session id or name, or a HAR file')
    .argument('<b>', 'session id or name, or a HAR file')
    .option('--format <format>', 'text | md | json', 'text'),
).action(async (a: string, b: string, flags: Record<string, unknown>) => {
  const { diffCommand } = await import('./diff.js');
  process.exitCode = diffCommand(a, b, flags as unknown as Parameters<typeof diffCommand>[2], process.stdout, process.stderr);
});

program.parseAsync(process.argv).catch(fail);
