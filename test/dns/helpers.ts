/** Test helpers: a stand-in upstream resolver (dns-packet, UDP + TCP), dig, a tiny ruleset. */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { compileRuleset } from '../../rules/compile.js';
import type { Rule } from '../../rules/types.js';
import type { Action } from '../../core/vocabulary.js';

export interface StandIn {
  port: number;
  seen: Array<{ name: string; type: string; transport: 'udp' | 'tcp' }>;
  close(): Promise<void>;
}

const RECORDS: Record<string, Answer[]> = {
  'example.org/A': [{ type: 'A', name: 'example.org', ttl: 300, data: '93.184.216.34' }],
  'example.org/AAAA': [{ type: 'AAAA', name: 'example.org', ttl: 300, data: '2606:2800:220:1:248:1893:25c8:1946' }],
  'tcp.example/A': [{ type: 'A', name: 'tcp.example', ttl: 300, data: '198.51.100.1' }],
  'big.example/A': [1, 2, 3, 4, 5].map((i) => ({ type: 'A' as const, name: 'big.example', ttl: 300, data: `198.51.100.${i}` })),
};
const SOA: Answer = { type: 'SOA', name: 'example', ttl: 60, data: { mname: 'ns.example', rname: 'h.example', serial: 1, minimum: 60 } };

/** Answers from RECORDS; "slow.*" never answers; "big.*" is truncated over UDP; else NXDOMAIN. */
function answer(query: Buffer, transport: 'udp' | 'tcp', seen: StandIn['seen']): Buffer | null {
  const q = dnsPacket.decode(query);
  const question = q.questions?.[0];
  if (!question) return null;
  seen.push({ name: question.name, type: question.type, transport });
  if (question.name.startsWith('slow.')) return null;
  const answers = RECORDS[`${question.name.toLowerCase()}/${question.type}`];
  const base: Packet = { type: 'response', id: q.id ?? 0, questions: [question] };
  if (question.name === 'big.example' && transport === 'udp') return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE });
  if (answers) return dnsPacket.encode({ ...base, answers });
  return dnsPacket.encode({ ...base, flags: 3 /* NXDOMAIN */, authorities: [SOA] });
}

export async function startStandIn(): Promise<StandIn> {
  const seen: StandIn['seen'] = [];
  const tcp = createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      const out = answer(d.subarray(2, 2 + d.readUInt16BE(0)), 'tcp', seen);
      if (!out) return;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length);
      s.end(Buffer.concat([len, out]));
    });
  });
  // UDP picks a free port, TCP takes the same one; in a busy full-suite run another socket can
  // already hold that TCP port (an ephemeral port of some client), so try a few UDP ports.
  let udp: ReturnType<typeof createSocket> | undefined;
  let port = 0;
  for (let attempt = 0; !udp; attempt++) {
    const u = createSocket('udp4');
    await new Promise<void>((res) => u.bind(0, '127.0.0.1', res));
    port = u.address().port;
    const ok = await new Promise<boolean>((res) => {
      const clash = (): void => res(false);
      tcp.once('error', clash);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', clash);
        res(true);
      });
    });
    if (ok) udp = u;
    else {
      u.close();
      if (attempt >= 9) throw new Error('stand-in resolver: no UDP+TCP port pair free');
    }
  }
  const sock = udp;
  sock.on('message', (msg, r) => {
    const out = answer(msg, 'udp', seen);
    if (out) sock.send(out, r.port, r.address);
  });
  return {
    port,
    seen,
    close: () => new Promise<void>((res) => { sock.close(); tcp.close(() => res()); }),
  };
}

export interface DigResult {
  status: string;
  answers: string[];
  raw: string;
}

/** Real dig; answers as "TYPE DATA" lines. */
export async function dig(port: number, name: string, type: string, extra: string[] = []): Promise<DigResult> {
  const { stdout } = await promisify(execFile)('/usr/bin/dig', ['@127.0.0.1', '-p', String(port), name, type, '+time=2', '+tries=1', ...extra]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(stdout)?.[1] ?? '';
  const answers = section.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(3).join(' '));
  return { status, answers, raw: stdout };
}

function rule(id: string, hosts: string[], action: Action, paths: string[] = []): Rule {
  return {
    id, pack: 'test', party: 'Test party', category: 'identity-server', hosts, paths, methods: [], severity: 'high',
    why: 'test', cite: 'test', remediation: 'test', action, extract: [], source: { file: 'test.yaml', line: 1, col: 1 },
  };
}

/** vector.im (+ subdomains) logged, tracker.example blocked, a path-only block, and a `*` rule. */
export function tinyRuleset() {
  return compileRuleset([{
    pack: 'test', version: 1, description: 'test', file: 'test.yaml', defaults: { extract: [] },
    rules: [
      rule('vector-is', ['vector.im', '*.vector.im'], 'log'),
      rule('tracker', ['tracker.example'], 'block'),
      rule('lookup-only', ['partial.example'], 'block', ['/_matrix/identity/v2/lookup']),
      rule('any-host', ['*'], 'block'),
      rule('stun-google', ['stun.l.google.com'], 'block'),
    ],
  }]);
}
