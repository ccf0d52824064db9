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
import { createLogger, type Logger } from '../core/log.js';
import { ensureDataDir } from '../core/paths.js';
import { createPipeline } from '../core/pipeline.js';
import { loadOrCreateDashboardToken, rulesViewFromRuleset, startDashboard, storeDataSource, createStreamStage } from '../dashboard/index.js';
import { parseAllowClients } from '../proxy/cidr.js';
import { startProxyEngine } from '../proxy/engine.js';
import { buildResolveMap } from '../proxy/resolve-spec.js';
import { createAuditStage, type AuditContext } from '../rules/audit.js';
import { firstPartySet } from '../rules/classify.js';
import { knownValuesFromFlags } from '../rules/identities.js';
import { loadRuleset } from '../rules/load.js';
import { dbPath, openStore } from '../store/db.js';
import { createOverrideStore } from '../store/overrides.js';
import { createQueries } from '../store/queries.js';
import { createRecorder } from '../store/recorder.js';
import { loadOrCreateRedactKey } from '../store/redact.js';
import { startRetention } from '../store/retention.js';
import { createEnforcement } from './enforcement.js';
import { listenError, startInterception, type Listeners } from './start-interception.js';
import { createRulesReloader } from './rules-reload.js';
import { checkActionRules, type StartConfig } from './start-options.js';
import { VERSION } from './version.js';

export interface Running {
  readonly config: StartConfig;
  readonly proxyUrl: string;
  readonly dashboardUrl: string;
  readonly token: string;
  readonly sessionId: number;
  readonly caPath: string;
  readonly caFingerprint: string;
  /** Load the rule packs again (SIGHUP); false when they are broken (the old rules stay). */
  reloadRules(reason?: string): boolean;
  /** Bound ports of the issue-7 listeners (absent / empty: not started). */
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
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`--data-dir ${dir}: cannot create it (${e.code === 'ENOTDIR' ? 'a parent is not a directory' : (e.code ?? e.message)})`);
  }
}

export async function startLeakwatch(config: StartConfig, log: Logger): Promise<Running> {
  // Pure configuration first: nothing is opened or bound yet.
  const resolve = buildResolveMap(config.resolve);
  const upstreamCaPems = readUpstreamCas(config.upstreamCa);
  const allowClient = config.allowClient.length > 0 ? parseAllowClients(config.allowClient) : undefined;
  const ruleset = loadRuleset({ builtin: config.builtinRules, extra: config.rules });
  checkActionRules(config.actions, new Set(ruleset.rules.map((r) => r.id)));
  const known = knownValuesFromFlags(config.identity, config.identities);
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
    bodyCap: config.captureLimit,
    log,
  });
  const retention = startRetention(store, { days: config.retentionDays, log });
  // Enforcement (issue 6): the gate reads the live ruleset and the overlay of flags + saved overrides.
  const enforcement = createEnforcement(ruleset, {
    mode: config.mode,
    firstParty: auditContext.firstParty,
    known,
    blocks: config.blocks,
    actions: config.actions,
    holdTimeoutMs: config.holdTimeoutMs,
    overrides: createOverrideStore(store),
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
    const dashboard = await startDashboard({
      host: config.dashboardHost,
      port: config.dashboardPort,
      token,
      data: storeDataSource(queries, recorder),
      ca: { certPem: ca.certPem, certDer: ca.certDer, fingerprintSha256: ca.fingerprintSha256 },
      proxy: { host: config.host, port: config.port },
      rules: () => rulesViewFromRuleset(enforcement.ruleset(), { mode: config.mode, actionOf: enforcement.actionOf, rejected: rulesReload.rejected() }),
      enforcement: enforcement.api,
      health: () => ({
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        queueDepth: pipelineRef.pending + recorder.stats().queued,
        dropped: recorder.stats().dropped,
      }),
      log,
    }).catch((err: unknown) => {
      throw listenError('--dashboard-port', config.dashboardHost, config.dashboardPort, err);
    });
    closers.push(() => dashboard.close());

    const pipeline = createPipeline(
      [createAuditStage(() => ({ ...auditContext, ruleset: enforcement.ruleset(), actionOf: enforcement.actionOf })), recorder.stage, createStreamStage(dashboard.hub)],
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
      ...(allowClient ? { allowClient } : {}),
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
    const listeners = await startInterception(config, { ruleset: enforcement.ruleset, actionOf: enforcement.actionOf }, proxy, ownPorts, closers, {
      nextId: () => nextId++,
      onExchange: (ex) => pipeline.submit(ex),
      log,
    });

    const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    return {
      config,
      proxyUrl: `http://${shown.includes(':') ? `[${shown}]` : shown}:${proxy.port}`,
      dashboardUrl: dashboard.url,
      token,
      sessionId: session.id,
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

/** Runs until SIGINT/SIGTERM; `config` comes from validateStartFlags (cli/main.ts checks flags first). */
export async function startCommand(config: StartConfig): Promise<void> {
  const log = createLogger();
  const running = await startLeakwatch(config, log);
  process.stdout.write(
    `leakwatch ${VERSION}: proxy ${running.proxyUrl} · dashboard ${running.dashboardUrl}/?token=${running.token}\n` +
      `  CA ${running.caPath} (SHA-256 ${running.caFingerprint}) · mode ${config.mode} · session ${running.sessionId}\n` +
      interceptionLine(running.listeners),
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight exchanges (up to 5 s), then flushing');
    running.close(5000).then(
      () => process.exit(0),
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
