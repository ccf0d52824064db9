/**
 * Upstream name resolution through one explicit resolver (`--dns-upstream IP[:PORT]`) instead of
 * the system's. When leakwatch runs its own DNS server, the machine's resolver may well point at
 * leakwatch itself: resolving upstream names through it would answer "leakwatch" for every ruled
 * name and loop. This lookup asks the configured resolver directly (c-ares, no /etc/hosts, no
 * nsswitch), so leakwatch never resolves its own upstream connections through itself.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

export interface ResolverAddress {
  readonly host: string;
  readonly port: number;
}

type Family = 4 | 6;

function wantedFamilies(family: unknown): Family[] {
  if (family === 4 || family === 'IPv4') return [4];
  if (family === 6 || family === 'IPv6') return [6];
  return [4, 6];
}

function notFound(hostname: string, cause?: unknown): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`upstream resolver has no address for ${hostname}`);
  err.code = (cause as NodeJS.ErrnoException | undefined)?.code === 'ETIMEOUT' ? 'EAI_AGAIN' : 'ENOTFOUND';
  (err as { hostname?: string }).hostname = hostname;
  return err;
}

/** A dns.lookup replacement that asks `server` (A, then AAAA) and nothing else. */
export function resolverLookup(server: ResolverAddress, timeoutMs = 2000): LookupFunction {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers([isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  const ask = (hostname: string, family: Family): Promise<LookupAddress[]> =>
    new Promise((resolve, reject) => {
      const done = (err: NodeJS.ErrnoException | null, addresses: string[]): void => {
        if (err) reject(err);
        else resolve(addresses.map((address) => ({ address, family })));
      };
      if (family === 4) resolver.resolve4(hostname, done);
      else resolver.resolve6(hostname, done);
    });
  return (hostname, options, callback) => {
    const reply = (err: NodeJS.ErrnoException | null, list: LookupAddress[]): void => {
      if (options.all) return void (callback as unknown as (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void)(err, list);
      const first = list[0];
      if (err || !first) return void callback(err ?? notFound(hostname), '', 0);
      callback(null, first.address, first.family);
    };
    const literal = isIP(hostname);
    if (literal !== 0) return reply(null, [{ address: hostname, family: literal }]);
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return reply(null, [{ address: '127.0.0.1', family: 4 }]);
    const families = wantedFamilies(options.family);
    void Promise.allSettled(families.map((f) => ask(name, f))).then((results) => {
      const list = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      if (list.length > 0) return reply(null, list);
      const firstError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
      reply(notFound(name, firstError), []);
    });
  };
}
