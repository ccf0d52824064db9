import { readFileSync, existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueries } from '../../store/queries.js';
import { keyedHash, loadOrCreateRedactKey, maskValue } from '../../store/redact.js';
import { audit, exchange, finding, item, KEY, recorder, tempDir, tempStore } from './fixtures.js';

const EMAIL = 'alice.liddell@example.org';
const PHONE = '+447700900123';
const MXID = '@alice:wonderland.example';

/** Every byte SQLite has written: the main file, the WAL and the shm. */
function fileBytes(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`, `${file}-shm`].filter(existsSync).map((f) => readFileSync(f)));
}

describe('redaction', () => {
  let cleanup = (): void => {};
  afterEach(() => cleanup());

  it('masks values into previews that never contain the value', () => {
    expect(maskValue('email', 'alice@example.org')).toBe('al***@ex***.org');
    expect(maskValue('phone', PHONE)).toBe('+44*******123');
    expect(maskValue('mxid', MXID)).toBe('@al***ple');
    expect(maskValue('device_id', 'ABCD')).toBe('***');
    for (const v of [EMAIL, PHONE, MXID, 'short', 'x']) expect(maskValue('email', v).includes(v)).toBe(false);
  });

  it('redact key: 32 bytes, 0600, created once', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const k1 = loadOrCreateRedactKey(t.dir);
    expect(k1.length).toBe(32);
    expect(statSync(`${t.dir}/redact.key`).mode & 0o777).toBe(0o600);
    expect(loadOrCreateRedactKey(t.dir).equals(k1)).toBe(true);
  });

  it('--redact: no raw value anywhere in the file, the WAL or the shm; previews and hashes are', async () => {
    const t = tempStore();
    cleanup = t.cleanup;
    const r = recorder(t.store, { redact: true, storeBodies: 'all' });
    const path = `/_matrix/identity/v2/lookup?address=${encodeURIComponent(EMAIL)}&msisdn=${encodeURIComponent(PHONE)}`;
    for (let i = 1; i <= 20; i++) {
      r.stage.run(item(
        exchange(i, {
          path, reqBody: JSON.stringify({ addresses: [EMAIL, PHONE], user: MXID }), resBody: JSON.stringify({ mxid: MXID }),
          headers: [['Host', 'vector.im'], ['X-Who', MXID], ['Referer', `https://app.example/#/user/${MXID}`]],
        }),
        audit([finding('email', EMAIL, 'request.query.address'), finding('phone', PHONE), finding('mxid', MXID, `request.header.x-who`)]),
      ));
    }
    await r.flush();
    // Check before close (WAL still full) and after (checkpointed into the main file).
    for (const stage of ['open', 'closed']) {
      if (stage === 'closed') await r.close(), t.store.close();
      const bytes = fileBytes(t.file);
      for (const raw of [EMAIL, PHONE, MXID, encodeURIComponent(EMAIL), encodeURIComponent(PHONE)]) {
        expect(bytes.includes(Buffer.from(raw)), `${raw} in ${stage} file`).toBe(false);
      }
      expect(bytes.includes(Buffer.from('al***@ex***.org'))).toBe(true);
    }
  });

  it('redacted findings are readable as previews with their keyed hash; bodies are not stored', async () => {
    const t = tempStore();
    cleanup = t.cleanup;
    const r = recorder(t.store, { redact: true, storeBodies: 'all' });
    r.stage.run(item(exchange(1, { reqBody: EMAIL, path: `/x?e=${EMAIL}` }), audit([finding('email', EMAIL)])));
    await r.close();
    const flow = createQueries(t.store).getFlow(1)!;
    expect(flow.findings).toEqual([expect.objectContaining({ kind: 'email', value: 'al***@ex***.org', redacted: true,
      hash: keyedHash(KEY, EMAIL).toString('hex') })]);
    expect(flow.path).toBe('/x?e=[redacted]');
    expect(flow.request.body).toBeNull();
    expect(flow.response?.body).toBeNull();
  });
});
