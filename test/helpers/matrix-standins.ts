/**
 * Local HTTPS stand-ins for the Matrix servers a client talks to, for end-to-end tests through the
 * live proxy: a homeserver (`matrix.example.org`), an identity server v2 (`vector.im`), the Scalar
 * integration manager (`scalar.vector.im`) and a push gateway (`push.example.net`).
 *
 * Each is one Node https server on 127.0.0.1 (random port) with a certificate for its name from the
 * tests' throw-away 'origin' CA (leakwatch trusts it with `--upstream-ca`, reaches the server with
 * `--resolve NAME=127.0.0.1:PORT`). Every request is recorded as received (method, URL,
 * headers, raw body bytes), so a test can check the proxy forwarded it intact. The answers follow
 * the Matrix client-server, identity-service and push-gateway specs; anything else gets a Matrix
 * JSON error.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testPki } from './tls-fixtures.js';

// ------------------------------------------------------------------------------------------------
// Throw-away PKI: the proxy tests' 'origin' CA (test/helpers/tls-fixtures.ts), built with certs/
// ------------------------------------------------------------------------------------------------

export interface StandInPki {
  /** PEM of the CA the stand-ins' leaves chain to. */
  readonly caPem: string;
  /** The same CA as a file, for leakwatch's `--upstream-ca`. */
  readonly caFile: string;
  /** A leaf (key and cert PEM) for one host name. */
  leaf(host: string): { key: string; cert: string };
}

export async function standInPki(): Promise<StandInPki> {
  const pki = await testPki('origin');
  return { caPem: pki.caPem, caFile: pki.ca.certPath, leaf: (host) => pki.leaf(host) };
}

// ------------------------------------------------------------------------------------------------
// Recording HTTPS server
// ------------------------------------------------------------------------------------------------

export interface Received {
  readonly method: string;
  /** Path and query, exactly as on the request line. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case names (Node's `req.headers`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly text: string;
  /** Parsed JSON body, or undefined. */
  readonly json: unknown;
  /** What the stand-in answered (set once answered). */
  response?: { readonly status: number; readonly text: string };
}

export interface Reply {
  readonly status?: number;
  readonly json?: unknown;
}

export type Handler = (req: Received) => Reply | Promise<Reply>;

export interface StandIn {
  readonly name: string;
  readonly port: number;
  /** `NAME=127.0.0.1:PORT`, for leakwatch's `--resolve`. */
  readonly resolveSpec: string;
  /** Everything received, in order. */
  readonly received: Received[];
  /** Requests matching method and path (no query). */
  find(method: string, path: string): Received[];
  close(): Promise<void>;
}

export const matrixError = (status: number, errcode: string, error: string): Reply => ({ status, json: { errcode, error } });
const unrecognized = (): Reply => matrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply, r?: Received): void {
  const text = JSON.stringify(reply.json ?? {});
  const body = Buffer.from(text);
  const status = reply.status ?? 200;
  if (r) r.response = { status, text };
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

export async function startStandIn(name: string, pki: StandInPki, handler: Handler): Promise<StandIn> {
  const received: Received[] = [];
  const server: Server = createServer(pki.leaf(name), (req, res) => {
    void (async () => {
      const body = await readBody(req);
      const u = new URL(req.url ?? '/', `https://${name}`);
      const text = body.toString('utf8');
      let json: unknown;
      try {
        json = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const r: Received = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: { ...req.headers },
        body,
        text,
        json,
      };
      received.push(r);
      send(res, await handler(r), r);
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, matrixError(500, 'M_UNKNOWN', String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    resolveSpec: `${name}=127.0.0.1:${port}`,
    received,
    find: (method, path) => received.filter((r) => r.method === method && r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const bearer = (r: Received): string | undefined => {
  const h = r.headers['authorization'];
  const v = Array.isArray(h) ? h[0] : h;
  return v?.startsWith('Bearer ') ? v.slice(7) : undefined;
};

// ------------------------------------------------------------------------------------------------
// The four servers
// ------------------------------------------------------------------------------------------------

/** Values the stand-ins hand out, so tests can follow them. */
export const STANDIN = {
  userId: '@alice:example.org',
  serverName: 'example.org',
  hsAccessToken: 'syt_YWxpY2U_e2eTestTokenAbCdEf_0000',
  /** OpenID token issued by the homeserver (OID-00), handed to the IS and Scalar. */
  openIdToken: 'GgjePJgsukxWCyzeX9f9RoZq',
  /** Identity-server token returned by /account/register (IS-05). */
  isToken: 'shVYHBl7yTJBXRWIhGWypH-bXPozsgge',
  pepper: 'matrixrocks',
  /** Scalar token returned by /api/register (IM-01). */
  scalarToken: 'bad1a7a5e0a672f0a5f99e6496124a3d72428d1261687006d3fe1223e4000291',
  isTermsUrl: 'https://vector.im/identity-server-privacy-notice-1',
  sid: '1234',
} as const;

/** `matrix.example.org`: the parts of the client-server API the tests use. */
export function homeserverHandler(): Handler {
  return (r) => {
    const p = r.path;
    if (r.method === 'GET' && p === '/_matrix/client/versions') {
      return { json: { versions: ['v1.1', 'v1.5', 'v1.11', 'v1.12'], unstable_features: {} } };
    }
    if (p.startsWith('/_matrix/client/') && p !== '/_matrix/client/versions' && bearer(r) !== STANDIN.hsAccessToken) {
      return matrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    }
    if (r.method === 'GET' && p === '/_matrix/client/v3/account/whoami') {
      return { json: { user_id: STANDIN.userId, device_id: 'E2EDEVICE', is_guest: false } };
    }
    const openid = /^\/_matrix\/client\/v3\/user\/([^/]+)\/openid\/request_token$/.exec(p);
    if (r.method === 'POST' && openid) {
      if (decodeURIComponent(openid[1]!) !== STANDIN.userId) return matrixError(403, 'M_FORBIDDEN', 'Cannot request tokens for other users');
      return {
        json: { access_token: STANDIN.openIdToken, token_type: 'Bearer', matrix_server_name: STANDIN.serverName, expires_in: 3600 },
      };
    }
    if (r.method === 'POST' && p === '/_matrix/client/v3/pushers/set') {
      const b = r.json as Record<string, unknown> | undefined;
      if (!b || typeof b['pushkey'] !== 'string' || typeof b['app_id'] !== 'string') {
        return matrixError(400, 'M_MISSING_PARAM', 'Missing parameters: pushkey, app_id');
      }
      return { json: {} };
    }
    return unrecognized();
  };
}

/** `vector.im`: identity service API v2 (Sydent), with one known mapping (bob). */
export function identityServerHandler(mappings: Readonly<Record<string, string>>): Handler {
  return (r) => {
    const p = r.path;
    const v2 = '/_matrix/identity/v2';
    if (r.method === 'GET' && p === v2) return { json: {} };
    if (r.method === 'POST' && p === `${v2}/account/register`) {
      const b = r.json as Record<string, unknown> | undefined;
      if (!b || b['access_token'] !== STANDIN.openIdToken) return matrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown OpenID token');
      return { json: { token: STANDIN.isToken, access_token: STANDIN.isToken } };
    }
    if (r.method === 'GET' && p === `${v2}/terms`) {
      return {
        json: { policies: { privacy_policy: { version: '1.0', en: { name: 'Privacy Policy', url: STANDIN.isTermsUrl } } } },
      };
    }
    if (bearer(r) !== STANDIN.isToken) return matrixError(401, 'M_UNAUTHORIZED', 'Unrecognised access token');
    if (r.method === 'POST' && p === `${v2}/terms`) return { json: {} };
    if (r.method === 'GET' && p === `${v2}/account`) return { json: { user_id: STANDIN.userId } };
    if (r.method === 'GET' && p === `${v2}/hash_details`) {
      return { json: { lookup_pepper: STANDIN.pepper, algorithms: ['none', 'sha256'] } };
    }
    if (r.method === 'POST' && p === `${v2}/lookup`) {
      const b = r.json as { addresses?: unknown; pepper?: unknown; algorithm?: unknown } | undefined;
      if (!b || b.pepper !== STANDIN.pepper) return matrixError(400, 'M_INVALID_PEPPER', 'Unknown or invalid pepper');
      if (b.algorithm !== 'sha256' || !Array.isArray(b.addresses)) return matrixError(400, 'M_INVALID_PARAM', 'Bad lookup');
      const out: Record<string, string> = {};
      for (const a of b.addresses) if (typeof a === 'string' && mappings[a]) out[a] = mappings[a];
      return { json: { mappings: out } };
    }
    if (r.method === 'POST' && p === `${v2}/validate/email/requestToken`) {
      const b = r.json as Record<string, unknown> | undefined;
      if (!b || typeof b['email'] !== 'string' || typeof b['client_secret'] !== 'string') {
        return matrixError(400, 'M_MISSING_PARAMS', 'Missing email or client_secret');
      }
      return { json: { sid: STANDIN.sid } };
    }
    return unrecognized();
  };
}

/** `scalar.vector.im`: Scalar's legacy REST API as Element's ScalarAuthClient uses it. */
export function scalarHandler(): Handler {
  return (r) => {
    if (r.method === 'POST' && r.path === '/api/register') {
      const b = r.json as Record<string, unknown> | undefined;
      if (r.query.get('v') !== '1.1' || !b || b['access_token'] !== STANDIN.openIdToken) {
        return { status: 403, json: { error: { message: 'Invalid OpenID token' } } };
      }
      return { json: { scalar_token: STANDIN.scalarToken } };
    }
    if (r.method === 'GET' && r.path === '/api/account') {
      if (r.query.get('scalar_token') !== STANDIN.scalarToken) return { status: 401, json: { error: { message: 'Invalid token' } } };
      return { json: { user_id: STANDIN.userId } };
    }
    return { status: 404, json: { error: { message: 'Not found' } } };
  };
}

/** `push.example.net`: a Sygnal-like push gateway. */
export function pushGatewayHandler(): Handler {
  return (r) => {
    if (r.method === 'POST' && r.path === '/_matrix/push/v1/notify') return { json: { rejected: [] } };
    return unrecognized();
  };
}
