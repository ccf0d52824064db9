/**
 * A dashboard stand-in: keeps one WebSocket open on leakwatch's live stream for the whole run and
 * drains every message, so the proxy pays for streaming as it would with a browser tab open.
 * Runs as its own process (its CPU must not slow the load generator):
 *   node dist/bench/ws-drain.js ws://127.0.0.1:D/api/stream TOKEN
 * Prints "open" once connected, and {"messages":N,"items":N,…} when told SIGTERM.
 */
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) throw new Error('usage: ws-drain.js URL TOKEN');
let messages = 0;
let bytes = 0;
let items = 0; // flow items received: shows whether the stream kept up with the traffic
let gaps = 0;
let missed = 0;
let closed = false;
let lastError: string | null = null;

const ws = new WebSocket(url, {
  headers: { Authorization: `Bearer ${token}` },
  // The dashboard checks Origin against its own address; a browser tab would send this one.
  origin: url.replace(/^ws/, 'http').replace(/\/api\/stream.*$/, ''),
  perMessageDeflate: false,
});
ws.on('open', () => process.stdout.write('open\n'));
ws.on('message', (data: WebSocket.RawData) => {
  messages++;
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
  bytes += buf.byteLength;
  // Parse like a dashboard tab would; frames are one per 100 ms batch, so this stays cheap.
  try {
    const frame = JSON.parse(buf.toString('utf8')) as { type?: string; items?: unknown[]; missed?: number | null };
    if (frame.type === 'flows' && Array.isArray(frame.items)) items += frame.items.length;
    if (frame.type === 'gap') (gaps++, (missed += frame.missed ?? 0));
  } catch (err: unknown) {
    lastError = `unparsable frame: ${String(err)}`;
  }
});
ws.on('unexpected-response', (_req, res) => {
  process.stdout.write(`refused ${res.statusCode}\n`);
  process.exit(3);
});
ws.on('error', (err: Error) => {
  lastError = err.message;
  process.stdout.write(`error ${err.message}\n`);
});
ws.on('close', () => {
  closed = true;
});

process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ messages, items, gaps, missed, bytes, closed, lastError }) + '\n');
  ws.terminate();
  process.exit(0);
});
