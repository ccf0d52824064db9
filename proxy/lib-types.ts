/**
 * The few shapes of http-mitm-proxy 1.1.0 that the adapter touches, written down structurally so
 * none of the library's own (any-heavy) typings leak out of proxy/. Only files in proxy/ that talk
 * to the library import this; everything else sees core/ types.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

export type NodeCallback = (err?: Error | null) => void;

export interface LibRequestOptions {
  method: string;
  path: string;
  host: string;
  port: number;
  /** The library builds an object; we hand Node a flat raw [name, value, ...] array instead. */
  headers: Record<string, string | string[] | undefined> | string[];
  agent: http.Agent | false;
  /** Passed through to http(s).request: the socket idle timeout while this request uses it. */
  timeout?: number;
}

/** One HTTP exchange as the library tracks it (`ctx`). */
export interface LibCtx {
  readonly isSSL: boolean;
  readonly clientToProxyRequest: http.IncomingMessage;
  readonly proxyToClientResponse: http.ServerResponse;
  proxyToServerRequestOptions?: LibRequestOptions;
  proxyToServerRequest?: http.ClientRequest;
  serverToProxyResponse?: http.IncomingMessage;
  /** Per-request data/end handler lists (empty unless a hook adds some; filters.ts skips them then). */
  readonly onRequestDataHandlers?: readonly unknown[];
  readonly onRequestEndHandlers?: readonly unknown[];
  readonly onResponseDataHandlers?: readonly unknown[];
  readonly onResponseEndHandlers?: readonly unknown[];
}

export interface LibWsOptions {
  url: string;
  agent: http.Agent;
  headers: Record<string, string | string[] | undefined>;
  protocols?: string[];
  handshakeTimeout?: number;
}

/** One WebSocket connection as the library tracks it. */
export interface LibWsCtx {
  readonly isSSL: boolean;
  readonly clientToProxyWebSocket: WebSocket & { upgradeReq?: http.IncomingMessage };
  proxyToServerWebSocket?: WebSocket;
  proxyToServerWebSocketOptions?: LibWsOptions;
  closedByServer?: boolean;
  closedByClient?: boolean;
}

export type CreateServerCallback = (port: number, server: http.Server, wss: WebSocketServer) => void;

export interface LibListenOptions {
  host: string;
  port: number;
  sslCaDir: string;
  keepAlive: boolean;
  forceSNI: boolean;
  timeout: number;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/** The library's Proxy instance: public hooks plus the internals we replace at runtime. */
export interface LibProxy {
  listen(options: LibListenOptions, callback: (err?: unknown) => void): unknown;
  httpServer?: http.Server;
  httpsServer?: http.Server;
  wsServer?: WebSocketServer;
  wssServer?: WebSocketServer;
  onConnect(fn: (req: http.IncomingMessage, socket: Duplex, head: Buffer, cb: NodeCallback) => void): unknown;
  onRequest(fn: (ctx: LibCtx, cb: NodeCallback) => void): unknown;
  onWebSocketConnection(fn: (ctx: LibWsCtx, cb: NodeCallback) => void): unknown;
  onCertificateRequired: (hostname: string, cb: (err: Error | null, files?: unknown) => void) => void;
  onCertificateMissing: (ctx: unknown, files: unknown, cb: (err: Error | null, data?: unknown) => void) => void;
  _onError: (kind: string, ctx: LibCtx | null, err: unknown) => void;
  _onSocketError: (description: string, err: unknown) => void;
  _createHttpsServer: (options: object, cb: CreateServerCallback) => void;
  _onHttpServerRequest: (isSSL: boolean, req: http.IncomingMessage, res: http.ServerResponse) => void;
  _onHttpServerConnect: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  _onWebSocketServerConnect: (isSSL: boolean, ws: WebSocket, req: http.IncomingMessage) => void;
  _onWebSocketFrame: (ctx: LibWsCtx, type: string, fromServer: boolean, data: unknown, flags: unknown) => void;
  _onWebSocketClose: (ctx: LibWsCtx, closedByServer: boolean, code: number, reason: Buffer) => void;
  _onWebSocketError: (ctx: LibWsCtx, err: unknown) => void;
  _onRequestData: (ctx: LibCtx, chunk: Buffer, cb: (err: Error | null, chunk?: Buffer) => void) => void;
  _onRequestEnd: (ctx: LibCtx, cb: NodeCallback) => void;
  _onResponseData: (ctx: LibCtx, chunk: Buffer, cb: (err: Error | null, chunk?: Buffer) => void) => void;
  _onResponseEnd: (ctx: LibCtx, cb: NodeCallback) => void;
  readonly onRequestDataHandlers: readonly unknown[];
  readonly onRequestEndHandlers: readonly unknown[];
  readonly onResponseDataHandlers: readonly unknown[];
  readonly onResponseEndHandlers: readonly unknown[];
}
