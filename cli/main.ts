#!/usr/bin/env node
/**
 * The `leakwatch` command. Each subcommand lives in its own module; this file only declares flags
 * and turns errors into one clear line and a non-zero exit (nothing half-started).
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, RulePackError } from '../core/errors.js';
import { defaultDataDir } from '../core/paths.js';

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
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`leakwatch: ${str.replace(/^error: /, '').trim()}\n`) });

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
  .option('--dns-port <port>', 'run the DNS server on this port, UDP and TCP (default off)')
  .option('--dns-host <ip>', 'DNS server listen address (default: --host)')
  .option('--dns-upstream <ip[:port]>', 'resolver for names not intercepted, and for leakwatch\'s own upstream lookups')
  .option('--dns-intercept-address <ip>', 'what ruled names resolve to (default: --host unless 0.0.0.0)')
  .option('--transparent-https-port <port>', 'accept TLS without CONNECT, routed by SNI (e.g. 443)')
  .option('--transparent-http-port <port>', 'accept plain HTTP without a proxy, routed by Host (e.g. 80)')
  .option('--stun-port <port>', 'STUN sensor UDP port (repeatable, e.g. 3478 and 19302)', collect)
  .option('--first-party <host>', 'your own homeserver(s) (repeatable)', collect)
  .option('--identity <kind=value>', 'a value of yours or a contact to look for (repeatable)', collect)
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
  .action(async (flags: Record<string, unknown>) => {
    // Flags first, from a light module: a wrong value is answered in ~0.2 s, before the engine,
    // the store and the dashboard are even loaded.
    const { validateStartFlags } = await import('./start-options.js');
    const config = validateStartFlags(flags);
    const { startCommand } = await import('./start.js');
    await startCommand(config);
  });

program
  .command('ca')
  .description('print the CA certificate path and SHA-256 fingerprint (creates the CA if needed)')
  .addOption(dataDirOption())
  .option('--export <dir>', 'write leakwatch-ca.pem, .der and .crt into DIR')
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
  .option('--json', 'one JSON object per entry, one per line')
  .option('--rules <path>', 'extra rule pack file or folder (repeatable)', collect)
  .option('--no-builtin-rules', 'do not load the built-in packs')
  .option('--first-party <host>', 'your own homeserver(s) (repeatable)', collect)
  .option('--identity <kind=value>', 'a value of yours or a contact to look for (repeatable)', collect)
  .option('--identities <file>', 'file of kind=value lines (repeatable)', collect)
  .option('--mode <mode>', 'observe | enforce: how rule actions are reported', 'observe')
  .action(async (file: string, flags: Record<string, unknown>) => {
    const { analyzeCommand } = await import('./analyze.js');
    process.exitCode = await analyzeCommand(file, flags, process.stdout, process.stderr);
  });

const rules = program.command('rules').description('rule pack tools');
rules
  .command('check')
  .description('validate rule packs without starting anything')
  .argument('[paths...]', 'pack files or folders (default: the built-in packs)')
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
  .action(async (flags: { dataDir: string; format: string; since?: string; session?: string }) => {
    const { exportCommand } = await import('./export.js');
    await exportCommand({ ...flags, out: process.stdout } as Parameters<typeof exportCommand>[0]);
  });

program
  .command('purge')
  .description('delete every finding of a value (and the bodies that carried it)')
  .addOption(dataDirOption())
  .requiredOption('--value <value>', 'the value to forget')
  .action(async (flags: { dataDir: string; value: string }) => {
    const { purgeCommand } = await import('./purge.js');
    process.stdout.write(`${await purgeCommand(flags)}\n`);
  });

program.parseAsync(process.argv).catch(fail);
