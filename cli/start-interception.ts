/**
 * The DNS-routed listeners of `leakwatch start`: transparent HTTPS/HTTP, the DNS server and the STUN
 * sensor. Split from start.ts, which wires the core data flow.
 */
import { ConfigError } from '../core/errors.js';
import type { Exchange } from '../core/exchange.js';
import type { Logger } from '../core/log.js';
import { createRecentAnswers, type RecentAnswers } from '../proxy/dns/recent-answers.js';
import { ruleCoverage, startDnsServer, type CoversName } from '../proxy/dns/server.js';
import type { ClientPolicy } from '../proxy/client-policy.js';
import type { DnsStats } from '../proxy/dns/server.js';
import type { ProxyEngine } from '../proxy/engine.js';
import type { StunStats } from '../proxy/stun/sensor.js';
import { startStunSensor } from '../proxy/stun/sensor.js';
import { startTransparentListener } from '../proxy/transparent.js';
import type { AuditContext } from '../rules/audit.js';
import type { StartConfig } from './start-options.js';

/** Bound ports of the DNS-routed listeners (absent / empty: not started), and their counters. */
export interface Listeners {
  readonly dns?: number;
  readonly transparentHttps?: number;
  readonly transparentHttp?: number;
  readonly stun: readonly number[];
  dnsStats?: () => DnsStats;
  stunStats?: () => StunStats;
}

export function listenError(what: string, host: string, port: number | string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new ConfigError(`${what} ${host}:${port}: address already in use`);
  if (code === 'EACCES') return new ConfigError(`${what} ${host}:${port}: permission denied`);
  return new ConfigError(`${what} ${host}:${port}: ${(err as Error).message}`);
}

/**
 * Starts the transparent listeners, the DNS server and the STUN sensor, each closed on shutdown (via
 * `closers`) and each failing to bind as one ConfigError line. Their ports join `ownPorts`, which
 * the proxy's loop guard refuses as upstream targets.
 */
export async function startInterception(
  config: StartConfig,
  live: { ruleset: () => AuditContext['ruleset']; actionOf: NonNullable<AuditContext['actionOf']> },
  proxy: Pick<ProxyEngine, 'acceptTls' | 'acceptHttp'>,
  ownPorts: number[],
  closers: Array<() => Promise<void> | void>,
  sink: { nextId: () => number; onExchange: (ex: Exchange) => void; log: Logger },
  clients: ClientPolicy,
): Promise<Listeners> {
  const { log } = sink;
  const out: { -readonly [K in keyof Listeners]: Listeners[K] } & { stun: number[] } = { stun: [] };
  for (const kind of ['https', 'http'] as const) {
    const port = kind === 'https' ? config.transparentHttpsPort : config.transparentHttpPort;
    if (port === null) continue;
    const l = await startTransparentListener({ kind, host: config.host, port, engine: proxy, maxConnections: config.maxConnections, log }).catch((err: unknown) => {
      throw listenError(`--transparent-${kind}-port`, config.host, port, err);
    });
    closers.push(() => l.close());
    ownPorts.push(l.port);
    if (kind === 'https') out.transparentHttps = l.port;
    else out.transparentHttp = l.port;
  }
  if (!config.dns && config.stunPorts.length === 0) return out;
  // Follows rule reloads (rebuilt when the live ruleset changes) and overrides (read per lookup).
  let coverage = { ruleset: live.ruleset(), covers: ruleCoverage(live.ruleset(), config.mode, live.actionOf) };
  const coversName: CoversName = (name) => {
    const ruleset = live.ruleset();
    if (ruleset !== coverage.ruleset) coverage = { ruleset, covers: ruleCoverage(ruleset, config.mode, live.actionOf) };
    return coverage.covers(name);
  };
  // Shared with the STUN sensor, which reads "the name this client resolved last" as the server a
  // binding request was meant for: only STUN/TURN names count (a later vector.im lookup must not win).
  const answers = createRecentAnswers();
  const stunRuleIds = new WeakMap<AuditContext['ruleset'], ReadonlySet<string>>();
  const isStunRule = (id: string | null): boolean => {
    const rs = live.ruleset();
    let ids = stunRuleIds.get(rs);
    if (!ids) stunRuleIds.set(rs, (ids = new Set(rs.rules.filter((r) => r.category === 'stun-turn').map((r) => r.id))));
    return id !== null && ids.has(id);
  };
  const recentAnswers: RecentAnswers = {
    record: (client, a) => void (isStunRule(a.ruleId) && answers.record(client, a)),
    latest: (client, o) => answers.latest(client, o),
    get size() {
      return answers.size;
    },
  };
  if (config.dns) {
    const d = config.dns;
    if (config.transparentHttpsPort === null) {
      log.warn({ listener: 'dns' }, 'the DNS server sends ruled names to leakwatch, but --transparent-https-port is not set: their HTTPS connections will fail');
    }
    const dns = await startDnsServer({
      host: d.host, port: d.port, upstream: d.upstream, interceptAddress: { v4: d.interceptAddress },
      coversName, recentAnswers, clients, nextId: sink.nextId, onExchange: sink.onExchange, log,
    }).catch((err: unknown) => {
      if (err instanceof ConfigError) throw err;
      throw listenError('--dns-port', d.host, d.port, err);
    });
    closers.push(() => dns.close());
    ownPorts.push(dns.port);
    out.dns = dns.port;
    out.dnsStats = () => dns.stats();
  }
  if (config.stunPorts.length > 0) {
    // Answer Binding requests (calls keep working) unless enforce mode blocks a STUN host. Asked
    // per request: coversName follows rule reloads and reads overrides at each call.
    const stunHosts = new WeakMap<AuditContext['ruleset'], readonly string[]>();
    const respond = (): boolean => {
      const rs = live.ruleset();
      let hosts = stunHosts.get(rs);
      if (!hosts) stunHosts.set(rs, (hosts = rs.rules.filter((r) => r.category === 'stun-turn').flatMap((r) => r.hosts).filter((h) => !h.startsWith('*'))));
      return !hosts.some((h) => coversName(h)?.block === true);
    };
    const stun = await startStunSensor({
      host: config.host, ports: config.stunPorts, respond, clients, recentAnswers, nextId: sink.nextId, onExchange: sink.onExchange, log,
    }).catch((err: unknown) => {
      throw listenError('--stun-port', config.host, (err as { port?: number }).port ?? config.stunPorts.join(','), err);
    });
    closers.push(() => stun.close());
    out.stun = [...stun.ports];
    out.stunStats = () => stun.stats();
  }
  return out;
}
