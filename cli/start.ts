/**
 * `leakwatch start`: wires the data flow together. Everything that can fail on bad input (flags,
 * rule packs, identities, the data dir, the CA) is done before anything listens, and a listener that
 * cannot bind closes what was already started: one clear line, non-zero exit, nothing half-started.
 *
 *   proxy -> pipeline [audit -> record -> stream] ; store <- dashboard API
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadOrCreateCa } from '../certs/ca.js';
import { createLeafIssuer } from '../certs/leaf.js';
import { ConfigError } from '../core/errors.js';
import { createCliLogger, type LogFormat, type Logger } from '../core/log.js';
import { defaultDataDir, ensureDataDir } from '../core/paths.js';
import { createPipeline, type Stage } from '../core/pipeline.js';
import type { EnforcementApi } from '../dashboard/enforcement.js';
import { loadOrCreateDashboardToken, rulesViewFromRuleset, startDashboard, storeDataSource, createStreamStage } from '../dashboard/index.js';
import { createClientPolicy, isListenerName } from '../proxy/client-policy.js';
import { startProxyEngine } from '../proxy/engine.js';
import { buildResolveMap } from '../proxy/resolve-spec.js';
import { createAuditStage, type AuditContext } from '../rules/audit.js';
import { firstPartySet } from '../rules/classify.js';
import { knownValuesFromFlags } from '../rules/identities.js';
import { loadRuleset } from '../rules/load.js';
import { dbPath, openStore } from '../store/db.js';
import { createOverrideStore, type OverrideRecord } from '../store/overrides.js';
import { createQueries } from '../store/queries.js';
import { createRecorder } from '../store/recorder.js';
import { purgeMatcher } from '../store/purge.js';
import { createHoldRedactor, createItemRedactor, loadOrCreateRedactKey } from '../store/redact.js';
import { startRetention } from '../store/retention.js';
import { createEnforcement } from './enforcement.js';
import { listenError, startInterception, type Listeners } from './start-interception.js';
import { announceRunning } from './purge-remote.js';
import { createRulesReloader } from './rules-reload.js';
import { checkActionRules, isLoopback, type StartConfig } from './start-options.js';
import { VERSION } from './version.js';
import { createReportSource } from '../report/load.js';

export interface Running {
  readonly config: StartConfig;
  readonly proxyUrl: string;
  readonly dashboardUrl: string;
  readonly token: string;
  readonly sessionId: number;
  /** The session's label: --session NAME, or the start time. */
  readonly sessionName: string;
  /** Dashboard overrides saved in earlier runs, in force from the start. */
  readonly savedOverrides: readonly OverrideRecord[];
  readonly caPath: string;
  readonly caFingerprint: string;
  /** Load the rule packs again (SIGHUP); false when they are broken (the old rules stay). */
  reloadRules(reason?: string): boolean;
  /** Bound ports of the DNS, transparent and STUN listeners (absent / empty: not started). */
  readonly listeners: Listeners;
  /** Graceful stop: in-flight exchanges get up to graceMs, then everything is flushed. */
  close(graceMs?: number): Promise<void>;
}

function readUpstreamCas(files: readonly string[]): string[] {
  return files.map((f) => {
    try {
      const pem = readFileSync(f, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
      return pem;
    } catch (err: unknown) {
      throw new ConfigError(`--upstream-ca ${f}: ${(err as Error).message}`);
    }
  });
}

function checkWritable(dir: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch {
    throw new ConfigError(`--data-dir ${dir}: not writable`);
  }
  // A regular file passes the access check and failed later with a raw ENOTDIR from the CA code.
  if (!statSync(dir).isDirectory()) throw new ConfigError(`--data-dir ${dir}: not a directory`);
}

/** Binds and releases host:port (nothing for port 0), so a busy port fails before anything is created. */
async function probeListen(what: string, host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  }).catch((err: unknown) => {
    throw listenError(what, host, port, err);
  });
}

/** ensureDataDir, with its errors (a parent that is a file, EROFS, EACCES) named as the flag's. */
function openDataDir(dir: string): string {
  try {
    return ensureDataDir(dir);
  } catch (err: unknown) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`--data-dir ${dir}: cannot create it (${e.code === 'ENOTDIR' ? 'a parent is not a directory' : (e.code ?? e.message)})`);
  }
}

/** Under --redact the dashboard sees held requests as the store would keep them. */
function redactedHolds(api: EnforcementApi, redact: ReturnType<typeof createHoldRedactor>): EnforcementApi {
  return {
    ...api,
    listHolds: () => api.listHolds().map(redact),
    subscribeHolds: (fn) => api.subscribeHolds((e) => fn(e.type === 'hold' ? { ...e, hold: redact(e.hold) } : e)),
  };
}

export async function startLeakwatch(config: StartConfig, log: Logger): Promise<Running> {
  // Pure configuration first: nothing is opened or bound yet.
  const resolve = buildResolveMap(config.resolve);
  const upstreamCaPems = readUpstreamCas(config.upstreamCa);
  // One client policy for every listener (proxy, transparent, DNS, STUN, dashboard beyond loopback).
  const clients = createClientPolicy(config.allowClient, { log });
  const ruleset = loadRuleset({ builtin: config.builtinRules, extra: config.rules });
  checkActionRules(config.actions, new Set(ruleset.rules.map((r) => r.id)));
  const known = knownValuesFromFlags(config.identity, config.identities);
  const declared = known.identities.map((i) => i.value);
  // actionOf: rule actions with --action and dashboard overrides applied (enforcement is created below).
  const auditContext: AuditContext = { ruleset, firstParty: firstPartySet(config.firstParty), known, mode: config.mode, actionOf: (rule) => enforcement.actionOf(rule) };

  // A busy proxy or dashboard port is found before the data dir, CA, token and database exist
  // (the listeners below still report it if the port is taken in between).
  await probeListen('--port', config.host, config.port);
  await probeListen('--dashboard-port', config.dashboardHost, config.dashboardPort);
  const dataDir = openDataDir(config.dataDir);
  checkWritable(dataDir);
  const ca = await loadOrCreateCa(dataDir);
  const issuer = await createLeafIssuer(ca);
  const redactKey = loadOrCreateRedactKey(dataDir);
  const token = loadOrCreateDashboardToken(dataDir);

  const store = openStore(dbPath(dataDir), { redactKey });
  const session = store.openSession(config.session);
  const recorder = createRecorder(store, {
    sessionId: session.id,
    storeBodies: config.storeBodies,
    redact: config.redact,
    redactKey,
    declared,
    bodyCap: config.captureLimit,
    log,
  });
  const retention = startRetention(store, { days: config.retentionDays, log });
  const overrides = createOverrideStore(store);
  // Enforcement: the gate reads the live ruleset and the overlay of flags + saved overrides.
  const enforcement = createEnforcement(ruleset, {
    mode: config.mode,
    firstParty: auditContext.firstParty,
    known,
    blocks: config.blocks,
    actions: config.actions,
    holdTimeoutMs: config.holdTimeoutMs,
    overrides,
    log,
  });
  const rulesReload = createRulesReloader({
    builtin: config.builtinRules,
    extra: config.rules,
    onChange: (rs) => enforcement.setRuleset(rs),
    log,
    watch: config.watchRules,
  });
  const queries = createQueries(store);
  let nextId = store.maxExchangeId() + 1;
  const startedAt = Date.now();
  const closers: Array<() => Promise<void> | void> = [
    () => store.close(),
    () => recorder.close(),
    () => retention.stop(),
    () => enforcement.close(),
    () => rulesReload.close(),
  ];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err: unknown) {
        log.error({ err: (err as Error).message }, 'close failed');
      }
    }
  };

  try {
    let pipelineRef: { pending: number } = { pending: 0 };
    // Filled in as the listeners start; read at each /api/health and /metrics request.
    const counters: { engine?: () => Record<string, number>; listeners?: Listeners } = {};
    const dashboard = await startDashboard({
      host: config.dashboardHost,
      port: config.dashboardPort,
      token,
      data: storeDataSource(queries, recorder),
      ca: { certPem: ca.certPem, certDer: ca.certDer, fingerprintSha256: ca.fingerprintSha256 },
      proxy: { host: config.host, port: config.port },
      rules: () => rulesViewFromRuleset(enforcement.ruleset(), { mode: config.mode, actionOf: enforcement.actionOf, rejected: rulesReload.rejected() }),
      enforcement: config.redact ? redactedHolds(enforcement.api, createHoldRedactor(declared)) : enforcement.api,
      report: createReportSource(store.file, { identity: config.identity, identities: config.identities, redact: config.redact, rules: config.rules, builtinRules: config.builtinRules }),
      // Beyond loopback: HTTPS from our CA, and the same client policy as every other listener.
      ...(isLoopback(config.dashboardHost)
        ? {}
        : { tls: { issue: (host: string) => issuer.issue(host) }, allowClient: (address: string) => clients.allows(address, 'dashboard') }),
      // Read what carries the value before purging: the peppers behind its hashes may go with it.
      purge: (value) => {
        const matcher = purgeMatcher(store, value);
        return { report: { ...store.purgeValue(value, matcher) }, carries: matcher.carries };
      },
      health: () => ({
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        queueDepth: pipelineRef.pending + recorder.stats().queued,
        dropped: recorder.stats().dropped,
        listeners: {
          ...(counters.engine ? { engine: counters.engine() } : {}),
          ...(counters.listeners?.dnsStats ? { dns: { ...counters.listeners.dnsStats() } } : {}),
          ...(counters.listeners?.stunStats ? { stun: { ...counters.listeners.stunStats() } } : {}),
          refusedClients: clients.refusals(),
        },
      }),
      // Live items carry the session they are recorded under.
      stream: { session: session.name },
      log,
    }).catch((err: unknown) => {
      throw listenError('--dashboard-port', config.dashboardHost, config.dashboardPort, err);
    });
    closers.push(() => dashboard.close());
    closers.push(announceRunning(dataDir, { url: dashboard.url, caPath: ca.certPath }));

    // Under --redact the live stream carries what the store keeps, never the raw values.
    const stream = createStreamStage(dashboard.hub);
    const redactItem = config.redact ? createItemRedactor(declared) : null;
    const streamStage: Stage = redactItem ? { name: stream.name, run: (item) => stream.run(redactItem(item)) } : stream;
    const pipeline = createPipeline(
      [createAuditStage(() => ({ ...auditContext, ruleset: enforcement.ruleset(), actionOf: enforcement.actionOf })), recorder.stage, streamStage],
      ({ exchangeId, stage, err }) => log.error({ exchangeId, stage, err: (err as Error)?.stack ?? String(err) }, 'pipeline stage failed'),
    );
    pipelineRef = pipeline;
    closers.push(() => pipeline.drain());

    const ownPorts: number[] = [];
    const proxy = await startProxyEngine({
      host: config.host,
      port: config.port,
      ca,
      issuer,
      resolve,
      upstreamCaPems,
      passthrough: config.passthrough,
      allowUpstream: config.allowUpstream,
      ...(clients.restricted ? { allowClient: (address: string, listener?: string) => clients.allows(address, isListenerName(listener) ? listener : 'proxy') } : {}),
      // the engine adds its own listen port; ownPorts: transparent listeners and the DNS server
      forbiddenTargets: () => [{ port: dashboard.port }, ...ownPorts.map((port) => ({ port }))],
      captureLimit: config.captureLimit,
      gate: enforcement.gate,
      headersTimeoutMs: config.headersTimeoutMs,
      maxConnections: config.maxConnections,
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      wsMaxPayload: config.wsMaxPayload,
      nextId: () => nextId++,
      onExchange: (ex) => pipeline.submit(ex),
      ...(config.dnsUpstream ? { upstreamDns: config.dnsUpstream } : {}),
      log,
    }).catch((err: unknown) => {
      throw listenError('--port', config.host, config.port, err);
    });
    let proxyClosed = false;
    const closeProxy = async (graceMs: number): Promise<void> => {
      if (proxyClosed) return;
      proxyClosed = true;
      await proxy.close(graceMs);
    };
    closers.push(() => closeProxy(0));
    counters.engine = () => proxy.stats();
    const listeners = await startInterception(config, { ruleset: enforcement.ruleset, actionOf: enforcement.actionOf }, proxy, ownPorts, closers, {
      nextId: () => nextId++,
      onExchange: (ex) => pipeline.submit(ex),
      log,
    }, clients);
    counters.listeners = listeners;

    const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    return {
      config,
      proxyUrl: `http://${shown.includes(':') ? `[${shown}]` : shown}:${proxy.port}`,
      dashboardUrl: dashboard.url,
      token,
      sessionId: session.id,
      sessionName: session.name,
      savedOverrides: overrides.list(),
      caPath: ca.certPath,
      caFingerprint: ca.fingerprintSha256,
      reloadRules: (reason = 'reload') => rulesReload.reload(reason),
      listeners,
      async close(graceMs = 5000) {
        enforcement.close(); // pending holds are denied, so in-flight exchanges can finish
        await closeProxy(graceMs);
        await closeAll();
      },
    };
  } catch (err: unknown) {
    await closeAll();
    throw err;
  }
}

function interceptionLine(l: Listeners): string {
  const parts = [
    ...(l.dns !== undefined ? [`DNS :${l.dns} (UDP+TCP)`] : []),
    ...(l.transparentHttps !== undefined ? [`transparent HTTPS :${l.transparentHttps}`] : []),
    ...(l.transparentHttp !== undefined ? [`transparent HTTP :${l.transparentHttp}`] : []),
    ...(l.stun.length > 0 ? [`STUN sensor :${l.stun.join(', :')} (UDP)`] : []),
  ];
  return parts.length > 0 ? `  ${parts.join(' · ')}\n` : '';
}

function overrideText(o: OverrideRecord): string {
  switch (o.kind) {
    case 'rule-action':
      return `${o.ruleId ?? '?'}=${o.action ?? '?'}`;
    case 'block':
      return `block ${o.host ?? '?'}${o.path ?? ''}`;
    case 'allow-client':
      return `allow client ${o.client ?? '?'}`;
    case 'hold-decision':
      return `${o.decision ?? '?'} ${o.ruleId ?? o.host ?? '?'}`;
  }
}

/**
 * What a person sees first: where the proxy and the dashboard are, which CA to trust (and how to
 * recognise it), what mode and session this is, what saved overrides change, and the next step.
 * The first line's `proxy URL · dashboard URL` shape is what scripts read.
 */
export function startBanner(r: Pick<Running, 'proxyUrl' | 'dashboardUrl' | 'token' | 'caPath' | 'caFingerprint' | 'sessionName' | 'savedOverrides' | 'listeners'>, mode: string, dataDir: string): string {
  const shown = r.savedOverrides.slice(0, 5).map(overrideText);
  const more = r.savedOverrides.length > shown.length ? `, +${r.savedOverrides.length - shown.length} more` : '';
  const dirFlag = dataDir === defaultDataDir() ? '' : ` --data-dir ${dataDir}`;
  return (
    `leakwatch ${VERSION}: proxy ${r.proxyUrl} · dashboard ${r.dashboardUrl}/?token=${r.token}\n` +
    `  CA ${r.caPath} (SHA-256 ${r.caFingerprint})\n` +
    `  mode ${mode} · session "${r.sessionName}"\n` +
    (r.savedOverrides.length > 0 ? `  saved overrides in force (dashboard → Overrides)${mode === 'observe' ? ', acting in enforce mode only' : ''}: ${shown.join(', ')}${more}\n` : '') +
    interceptionLine(r.listeners) +
    `Next: trust the CA on each client (the dashboard's Setup page, or npx leakwatch ca --export DIR${dirFlag}), then set its proxy to ${r.proxyUrl}.\n`
  );
}

export interface LogFlags {
  readonly logFormat?: LogFormat | undefined;
  readonly logFile?: string | undefined;
}

/** Runs until SIGINT/SIGTERM; `config` comes from validateStartFlags (cli/main.ts checks flags first). */
export async function startCommand(config: StartConfig, logFlags: LogFlags = {}): Promise<void> {
  // Log lines of the start-up wait until the banner is printed, so a person reads the banner first.
  const logger = createCliLogger({ ...(logFlags.logFormat ? { format: logFlags.logFormat } : {}), ...(logFlags.logFile ? { file: logFlags.logFile } : {}), held: true });
  const log = logger.log;
  let running: Running;
  try {
    running = await startLeakwatch(config, log);
  } catch (err: unknown) {
    logger.release();
    throw err;
  }
  process.stdout.write(startBanner(running, config.mode, config.dataDir));
  logger.release();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight exchanges (up to 5 s), then flushing');
    running.close(5000).then(
      () => logger.close().then(() => process.exit(0)),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => void running.reloadRules('SIGHUP'));
  // A proxy must outlive every bug in a stage or a socket handler: log, never crash.
  process.on('unhandledRejection', (err) => log.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection (contained)'));
  process.on('uncaughtException', (err) => log.error({ err: String(err?.stack ?? err) }, 'uncaught exception (contained)'));
}
