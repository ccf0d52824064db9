// Defect: with the proxy or dashboard port already in use, `leakwatch start` created the data dir,
// the CA, the token and a database with a session before it found out. Fix: cli/start.ts probes
// both ports before anything is created (the listeners still report a port taken in between).
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startLeakwatch } from '../../../cli/start.js';
import { validateStartFlags } from '../../../cli/start-options.js';
import { ConfigError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/log.js';
import { tempDir } from '../harness.js';

it.each(['port', 'dashboardPort'] as const)('a busy %s: ConfigError naming it, no data dir', async (which) => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = String((busy.address() as net.AddressInfo).port);
  const dataDir = join(tempDir(), 'data');
  const flags = which === 'port' ? { port, dashboardPort: '0' } : { port: '0', dashboardPort: port };
  const err = await startLeakwatch(validateStartFlags({ ...flags, dataDir }), silentLogger).then(
    async (running) => {
      await running.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toBe(`${which === 'port' ? '--port' : '--dashboard-port'} 127.0.0.1:${port}: address already in use`);
  expect(existsSync(dataDir)).toBe(false);
  await new Promise<void>((r) => busy.close(() => r()));
});
