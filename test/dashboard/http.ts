/** Raw HTTP and WebSocket helpers for the server tests: node:http so any Host/Origin can be sent. */
import { request } from 'node:http';
import WebSocket from 'ws';
import { until as untilHelper } from '../helpers/until.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function raw(base: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Opens a stream; resolves with the socket and a frame collector, or rejects with the HTTP status. */
export function openWs(base: string, path: string, headers: Record<string, string>): Promise<{ ws: WebSocket; frames: any[] }> {
  const url = base.replace(/^http/, 'ws') + path;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    ws.on('open', () => resolve({ ws, frames }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

export const until = <T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 3000, what = 'a dashboard condition'): Promise<T> =>
  untilHelper(fn, { timeoutMs: ms, intervalMs: 20, what }) as Promise<T>;
