/**
 * Does the Live view stay smooth while exchanges arrive fast? (prints, asserts nothing):
 *   npx tsc -p tsconfig.build.json && node dist/bench/live-smooth.js [rate=500] [seconds=10]
 * Runs `startLeakwatch` (proxy, pipeline, store, dashboard) with a local origin behind
 * `--resolve`, opens the Live view in headless Chromium (1440x900), and sends `rate` requests per
 * second through the proxy, each carrying a declared e-mail address (so every one is a finding
 * streamed to the page). The page measures itself: the gaps between animation frames
 * (requestAnimationFrame) and the long tasks (> 50 ms) the browser reports. The temp dir goes at
 * the end.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startLeakwatch } from '../cli/start.js';
import { validateStartFlags } from '../cli/start-options.js';
import { silentLogger } from '../core/log.js';

const RATE = Number(process.argv[2] ?? 500);
const SECONDS = Number(process.argv[3] ?? 10);
const TICK_MS = 10;

interface PageFigures {
  readonly gaps: number[];
  readonly longTasks: number[];
  readonly rows: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-live-'));
  const origin = http.createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originPort = (origin.address() as AddressInfo).port;
  const running = await startLeakwatch(
    validateStartFlags({ port: '0', dashboardPort: '0', dataDir: join(dir, 'leakwatch'), resolve: [`load.test=127.0.0.1:${originPort}`], identity: ['email=bob@example.com'] }),
    silentLogger,
  );
  const proxyPort = Number(new URL(running.proxyUrl).port);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${running.dashboardUrl}/?token=${running.token}`);
    await page.waitForFunction(() => location.hash !== '');
    await page.goto(`${running.dashboardUrl}/#/live`);
    await page.waitForSelector('.status.s-live');
    await page.evaluate(() => {
      const w = window as unknown as { lwGaps: number[]; lwLong: number[]; lwRun: boolean };
      w.lwGaps = [];
      w.lwLong = [];
      w.lwRun = true;
      new PerformanceObserver((l) => l.getEntries().forEach((e) => w.lwLong.push(e.duration))).observe({ type: 'longtask', buffered: false });
      let last = performance.now();
      const frame = (t: number): void => {
        w.lwGaps.push(t - last);
        last = t;
        if (w.lwRun) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const perTick = (RATE * TICK_MS) / 1000;
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE) - sent;
        for (let i = 0; i < Math.min(due, perTick * 4); i++) {
          const n = sent++;
          const req = http.request({ host: '127.0.0.1', port: proxyPort, agent, path: `http://load.test/collect?email=bob%40example.com&n=${n}`, headers: { host: 'load.test' } }, (res) => {
            res.resume();
            res.once('end', () => answered++);
          });
          req.once('error', () => failed++);
          req.end();
        }
        if (Date.now() - t0 >= SECONDS * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    const elapsed = (Date.now() - t0) / 1000;
    const figures = await page.evaluate((): PageFigures => {
      const w = window as unknown as { lwGaps: number[]; lwLong: number[]; lwRun: boolean };
      w.lwRun = false;
      return { gaps: w.lwGaps.slice(1), longTasks: w.lwLong, rows: document.querySelectorAll('table.flows tbody tr').length };
    });
    const { gaps, longTasks } = figures;
    const frames = gaps.length;
    process.stdout.write(`sent ${sent} requests in ${elapsed.toFixed(1)} s (${Math.round(sent / elapsed)}/s), ${answered} answered, ${failed} failed\n`);
    process.stdout.write(`frames: ${frames} (${(frames / elapsed).toFixed(1)}/s); gap ms p50 ${pct(gaps, 50).toFixed(1)}, p95 ${pct(gaps, 95).toFixed(1)}, p99 ${pct(gaps, 99).toFixed(1)}, max ${Math.max(0, ...gaps).toFixed(1)}; gaps > 50 ms: ${gaps.filter((g) => g > 50).length}\n`);
    process.stdout.write(`long tasks: ${longTasks.length}, total ${longTasks.reduce((a, b) => a + b, 0).toFixed(0)} ms, longest ${Math.max(0, ...longTasks).toFixed(0)} ms; Live rows shown: ${figures.rows}\n`);
  } finally {
    agent.destroy();
    await browser.close();
    await running.close(500);
    origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
